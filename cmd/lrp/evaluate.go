package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/xai-go/lrp"
	"github.com/xai-go/lrp/data"
	"github.com/xai-go/lrp/eval"
	"github.com/xai-go/lrp/internal/outfile"
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
	"github.com/xai-go/lrp/viz"
	"gonum.org/v1/plot"
)

// methodResult is one method's evaluation in results.json.
type methodResult struct {
	Method string `json:"method"`
	// Spec records the composite or rules and their parameters.
	Spec    *methodInfo             `json:"spec,omitempty"`
	Targets []int                   `json:"targets"`
	Orders  map[string]*orderResult `json:"orders"`
	// ABPC = AUC(LRF) − AUC(MoRF) of the mean curves, when both ran.
	ABPC *float64 `json:"abpc,omitempty"`
	// Metrics holds the --metrics by name.
	Metrics map[string]*metricResult `json:"metrics,omitempty"`
}

// metricResult is one metric of one method in results.json.
type metricResult struct {
	Values         []float64 `json:"values"` // per image
	Mean           float64   `json:"mean"`
	HigherIsBetter bool      `json:"higher_is_better"`
	// Seconds is the wall time spent computing the metric, all batches.
	Seconds float64 `json:"seconds"`
	// For mprt: the randomized layers, top first, and for each stage
	// (layers 0…k randomized) every image's Spearman and SSIM with the
	// original relevance.
	Layers   []string    `json:"layers,omitempty"`
	Spearman [][]float64 `json:"spearman,omitempty"`
	SSIM     [][]float64 `json:"ssim,omitempty"`
}

type orderResult struct {
	Scores [][]float64 `json:"scores"`
	Mean   []float64   `json:"mean"`
	AUC    float64     `json:"auc"`
	AUCs   []float64   `json:"aucs"`
	AOPC   float64     `json:"aopc"`
}

// newOrderResult is an order's entry of results.json.
func newOrderResult(r *eval.Result) *orderResult {
	return &orderResult{Scores: r.Scores, Mean: r.Mean, AUC: r.AUC, AUCs: r.AUCs, AOPC: r.AOPC}
}

type evalResults struct {
	Tool     string         `json:"tool,omitempty"` // lrp's version (toolVersion)
	Model    *modelInfo     `json:"model,omitempty"`
	Settings map[string]any `json:"settings"`
	Flips    []int          `json:"flips_per_step"`
	Inputs   []string       `json:"inputs"`
	// InputIdentity holds the SHA-256 of every preprocessed input.
	InputIdentity *inputsInfo     `json:"input_identity,omitempty"`
	Methods       []*methodResult `json:"methods"`
}

func runEvaluate(args []string, stdout io.Writer) error {
	fs := newFlags("evaluate", "--model M (--input x.npy | IMAGE...) (--relevance r.npy | --methods M1,M2 | explain flags) --out results.json")
	mf := addModelFlags(fs)
	model := mf.name
	relevance := fs.String("relevance", "", "relevance N×C×H×W as .npy (instead of computing it)")
	methods := fs.String("methods", "", "comma-separated methods to compare, e.g. lrp:epsilon-gamma-box,gradient,random (default: --method)")
	method := fs.String("method", "lrp", "attribution method when --methods is not given: "+methodHelp())
	ef := addEvalFlags(fs)
	orders, seed := ef.orders, ef.seed
	target := fs.Int("target", -1, "class to explain and score (default: the predicted class)")
	out := fs.String("out", "", "write the results as JSON to this file")
	plotPath := fs.String("plot", "", "draw the curves into this PNG")
	figures := fs.String("figures", "", "write figures into this directory: patches flipped per step, and for the first 4 inputs the heatmap beside the mask of flipped patches and the perturbed input at chosen steps")
	saveSteps := fs.String("save-steps", "", "write the perturbed inputs of every step as PNGs into this directory")
	rf := addRuleFlags(fs)
	// Attributions are computed 8 images at a time: VGG16's take about
	// 1.8 GB at batch 8.
	df := addDatasetFlags(fs, 8)
	input, pre, norm := df.input, df.preprocess, df.normalization
	images, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("--out is required")
	}
	if err := df.check(images); err != nil {
		return err
	}
	_, orderList, err := ef.check()
	if err != nil {
		return err
	}
	metricList, err := ef.metricList()
	if err != nil {
		return err
	}
	if *relevance != "" {
		for _, m := range metricList {
			if m.Name == "mprt" || m.Name == "random-logit" {
				return fmt.Errorf("--metrics %s explains the inputs again and needs --method or --methods, not --relevance", m.Name)
			}
		}
	}
	if err := checkOutputs([]string{*out, *plotPath}, []string{*figures, *saveSteps}); err != nil {
		return err
	}
	g, err := mf.load()
	if err != nil {
		return err
	}
	if err := checkTarget(fs, g, *target); err != nil {
		return err
	}
	mInfo, err := mf.info()
	if err != nil {
		return err
	}
	rel, err := loadRelevance(*relevance, *df.path != "")
	if err != nil {
		return err
	}
	var in *inputSet
	var ds *dataset
	if *df.path != "" {
		if ds, err = df.open(*pre, embeddedOf(*model)); err != nil {
			return err
		}
		// The first image fixes the normalization and the box bounds.
		in = &inputSet{x: nil, pre: &ds.pre}
		probe, err := df.open(*pre, embeddedOf(*model))
		if err != nil {
			return err
		}
		probe.size = 1
		first, _, err := probe.next(context.Background())
		if err != nil || first == nil {
			return fmt.Errorf("%s: no readable image: %v", *df.path, err)
		}
		in.x = first.x
	} else {
		if in, err = loadInputs(*input, images, *pre, embeddedOf(*model)); err != nil {
			return err
		}
		in = df.limitInputs(in)
		if err := g.CheckInput(in.x.Shape); err != nil {
			return fmt.Errorf("model %s: %w", modelName(*model), err)
		}
	}
	normPre, err := normPreprocess(in, *norm)
	if err != nil {
		return err
	}
	mean, std, err := normPre.MeanStd(in.x.Shape[1])
	if err != nil {
		return err
	}
	if in.x.Dims() != 4 {
		return fmt.Errorf("pixel flipping needs N×C×H×W inputs, got %s", tensor.ShapeString(in.x.Shape))
	}
	ecfg, err := ef.config(in.x.Shape[3], embeddedOf(*model))
	if err != nil {
		return err
	}
	ecfg.Scorer = ef.scorer(g)
	ecfg.Mean, ecfg.Std = mean, std
	patch, mode := ecfg.Patch, ecfg.Mode
	list := *methods
	if list == "" {
		list = *method
	}
	nMethods := len(strings.Split(list, ","))
	if rel != nil {
		nMethods = 1
	}
	// Without --data, progress is counted in curves (inputs × methods ×
	// orders); with --data, in images per batch.
	var prog *progress
	var targets []int
	if *target >= 0 {
		targets = []int{*target}
	}
	type attribution struct {
		name    string
		rel     *tensor.T
		targets []int
	}
	type namedAttributor struct {
		name string
		a    lrp.Attributor
	}
	// The attributors are built once, before the first batch, so that
	// every batch reuses their modified weights.
	var attributors []namedAttributor
	var methodOpt lrp.MethodOptions
	if *relevance == "" {
		// Box bounds from the images' preprocessing, or for .npy input
		// from the normalization that produced it.
		boundsPre := in.pre
		if boundsPre == nil {
			boundsPre = &normPre
		}
		opt, err := rf.methodOptions(g, boundsPre, in.x.Shape, *seed)
		if err != nil {
			return err
		}
		methodOpt = opt
		for _, m := range strings.Split(list, ",") {
			m = strings.TrimSpace(m)
			a, err := lrp.NewAttributor(m, g, opt)
			if err != nil {
				return err
			}
			attributors = append(attributors, namedAttributor{m, a})
		}
	}
	type accum struct {
		results []*eval.Result
		targets []int
	}
	var methodNames []string
	acc := map[string]map[eval.Order]*accum{}
	metricVals := map[string]map[string][]float64{} // method → metric → per image
	metricSecs := map[string]map[string]float64{}   // method → metric → seconds
	mprtOf := map[string]*eval.MPRTResult{}         // method → mprt's stages, all batches
	attributorOf := map[string]lrp.Attributor{}
	for _, a := range attributors {
		attributorOf[a.name] = a.a
	}
	var allNames []string
	var flips []int
	stepsUsed, maxBatchUsed := 0, 0
	ids := &inputsInfo{Source: inputSource(*input, *df.path)}
	specs := map[string]*methodInfo{}
	// figErr is the first figure that could not be written: the work goes
	// on, results.json is written, and the error is reported at the end.
	var figErr error
	// evaluateBatch attributes and flips one batch of inputs.
	evaluateBatch := func(in *inputSet, offset int) error {
		var attrs []attribution
		if rel != nil {
			r, t, err := rel.batch(in, offset, targets, func(x *tensor.T, t []int) ([]int, error) { return predicted(g, x, t) })
			if err != nil {
				return err
			}
			attrs = append(attrs, attribution{"relevance:" + filepath.Base(*relevance), r, t})
		}
		for _, m := range attributors {
			if specs[m.name] == nil {
				spec, err := describeMethod(m.name, g, rf, withBounds(in, &normPre), *seed)
				if err != nil {
					return err
				}
				specs[m.name] = spec
			}
			res, err := lrp.AttributeInBatches(m.a, in.x, targets, *df.batch)
			if err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			attrs = append(attrs, attribution{m.name, res.Relevance, res.Targets})
		}
		// Steps 0 and m+1 are scored once per batch and targets for every
		// method and order.
		shared := map[string]*eval.SharedSteps{}
		for _, a := range attrs {
			key := fmt.Sprint(a.targets)
			if shared[key] == nil {
				shared[key] = &eval.SharedSteps{}
			}
			if acc[a.name] == nil {
				acc[a.name] = map[eval.Order]*accum{}
				methodNames = append(methodNames, a.name)
			}
			for _, o := range orderList {
				cfg := ecfg
				cfg.Order = o
				cfg.KeepInputs = *saveSteps != "" || (*figures != "" && offset < 4)
				cfg.Shared = shared[key]
				r, err := eval.Run(g, in.x, a.rel, a.targets, cfg)
				if err != nil {
					return fmt.Errorf("%s: %w", a.name, err)
				}
				if prog != nil {
					prog.add(len(a.targets))
				}
				flips, stepsUsed, maxBatchUsed = r.Flips, r.Config.Steps, max(maxBatchUsed, r.Config.MaxBatch)
				ac := acc[a.name][o]
				if ac == nil {
					ac = &accum{}
					acc[a.name][o] = ac
				}
				if *saveSteps != "" && figErr == nil {
					figErr = saveStepImages(*saveSteps, a.name, string(o), r, offset)
				}
				if *figures != "" && offset < 4 && figErr == nil {
					figErr = stepFigures(*figures, a.name, string(o), r, a.rel, offset)
				}
				// Only the curves are merged: drop what holds the batch's
				// inputs (the shared steps keep x) before the next batch.
				r.Inputs, r.PatchOrder, r.Config.Shared = nil, nil, nil
				ac.results = append(ac.results, r)
				ac.targets = append(ac.targets, a.targets...)
			}
			if len(metricList) > 0 {
				vals, secs, mprt, err := computeMetrics(metricList, g, in.x, a.rel, a.targets, ecfg, attributorOf[a.name], a.name, methodOpt, *df.batch)
				if err != nil {
					return fmt.Errorf("%s: %w", a.name, err)
				}
				if mprt != nil {
					if prev := mprtOf[a.name]; prev == nil {
						mprtOf[a.name] = mprt
					} else {
						for k := range prev.Spearman {
							prev.Spearman[k] = append(prev.Spearman[k], mprt.Spearman[k]...)
							prev.SSIM[k] = append(prev.SSIM[k], mprt.SSIM[k]...)
						}
					}
				}
				if metricVals[a.name] == nil {
					metricVals[a.name], metricSecs[a.name] = map[string][]float64{}, map[string]float64{}
				}
				for k, v := range secs {
					metricSecs[a.name][k] += v
				}
				for k, v := range vals {
					metricVals[a.name][k] = append(metricVals[a.name][k], v...)
				}
			}
		}
		allNames = append(allNames, in.names...)
		ids.add(in)
		return nil
	}
	if ds != nil {
		err := ds.each(g, func(in *inputSet, _ []int) error { return evaluateBatch(in, len(allNames)) })
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, ds.summary())
	} else {
		n := in.x.Shape[0]
		prog = newProgressOf(n*nMethods*len(orderList), "curves")
		prog.logf("evaluating %d inputs × %d methods × %d orders (patch %d, %s), %d inputs at a time", n, nMethods, len(orderList), patch, mode, *df.batch)
		per := in.x.Len() / n
		for lo := 0; lo < n; lo += *df.batch {
			hi := min(lo+*df.batch, n)
			part := &inputSet{x: tensor.FromData(in.x.Data[lo*per:hi*per], append([]int{hi - lo}, in.x.Shape[1:]...)...),
				names: in.names[lo:hi], pre: in.pre}
			if err := evaluateBatch(part, lo); err != nil {
				return err
			}
		}
	}
	if len(allNames) == 0 {
		return fmt.Errorf("no image could be evaluated")
	}
	rel.checkCount(len(allNames), ds != nil && ds.interrupted)
	results := evalResults{Tool: toolVersion(), Model: mInfo, Inputs: allNames, InputIdentity: ids, Flips: flips, Settings: map[string]any{
		"model": modelName(*model), "patch": patch, "perturb": string(mode), "orders": *orders, "steps": stepsUsed,
		"seed": *seed, "precision": *ef.precision, "max_batch": maxBatchUsed, "max_batch_flag": *ef.maxBatch, "batch_size": *df.batch, "mean": mean, "std": std,
		"preprocess": ids.Preprocess, "normalization": *norm, "target": *target,
	}}
	if len(metricList) > 0 {
		results.Settings["metrics"] = *ef.metrics
	}
	if rel != nil {
		results.Settings["relevance"], results.Settings["relevance_sha256"] = *relevance, rel.sha256
	}
	var curves []viz.Curve
	for _, name := range methodNames {
		mr := &methodResult{Method: name, Spec: specs[name], Orders: map[string]*orderResult{}}
		summaries := map[eval.Order]eval.Summary{}
		for _, o := range orderList {
			ac := acc[name][o]
			r, err := eval.Merge(ac.results...)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			mr.Targets = ac.targets
			or := newOrderResult(r)
			mr.Orders[string(o)] = or
			summaries[o] = r.Summary
			fmt.Fprintf(stdout, "%-28s %-6s AUC %10.4f  AOPC %9.4f  (perturb %.2fs, forward %.2fs)\n", name, o, or.AUC, or.AOPC, r.PerturbTime.Seconds(), r.ForwardTime.Seconds())
			curves = append(curves, viz.Curve{Label: name + " " + string(o), Method: name, Order: string(o), Scores: or.Scores, Mean: or.Mean, AUC: or.AUC})
		}
		m, hasMoRF := summaries[eval.MoRF]
		l, hasLRF := summaries[eval.LRF]
		if hasMoRF && hasLRF {
			abpc := eval.ABPC(m, l)
			mr.ABPC = &abpc
			fmt.Fprintf(stdout, "%-28s ABPC %10.4f\n", name, abpc)
		}
		for _, m := range metricList {
			if mr.Metrics == nil {
				mr.Metrics = map[string]*metricResult{}
			}
			v := metricVals[name][m.Name]
			res := &metricResult{Values: v, Mean: meanOf(v), HigherIsBetter: m.HigherIsBetter, Seconds: metricSecs[name][m.Name]}
			if r := mprtOf[name]; m.Name == "mprt" && r != nil {
				res.Layers, res.Spearman, res.SSIM = r.Layers, r.Spearman, r.SSIM
			}
			mr.Metrics[m.Name] = res
			better := "lower is better"
			if m.HigherIsBetter {
				better = "higher is better"
			}
			fmt.Fprintf(stdout, "%-28s %-24s %10.4f  (mean of %d images; %s; %.2fs)\n", name, m.Name, res.Mean, len(v), better, res.Seconds)
		}
		results.Methods = append(results.Methods, mr)
	}
	// results.json first: a figure that fails later does not lose it.
	b, err := json.MarshalIndent(results, "", " ")
	if err != nil {
		return err
	}
	if err := outfile.Write(*out, append(b, '\n')); err != nil {
		return err
	}
	if *figures != "" && figErr == nil {
		figErr = savePlot(func() (*plot.Plot, error) { return viz.PlotFlips(flips) }, filepath.Join(*figures, "flips-per-step.png"), 6, 4)
	}
	if *plotPath != "" {
		err := savePlot(func() (*plot.Plot, error) {
			return viz.PlotCurves(fmt.Sprintf("pixel flipping (%s, patch %d)", mode, patch), curves)
		}, *plotPath, 7, 5)
		figErr = cmp.Or(figErr, err)
	}
	if figErr != nil {
		return fmt.Errorf("%s was written, but a figure failed: %w", *out, figErr)
	}
	if ds != nil {
		return ds.stopped()
	}
	return nil
}

// savePlot draws a plot and writes it as a PNG of w×h inches.
func savePlot(draw func() (*plot.Plot, error), path string, w, h float64) error {
	p, err := draw()
	if err != nil {
		return err
	}
	return viz.SavePlot(p, path, w, h)
}

func modeNames() string {
	var s []string
	for _, m := range eval.Modes() {
		s = append(s, string(m))
	}
	return strings.Join(s, ", ")
}

// normalization returns the per-channel mean and std of the model input.
func normalization(in *inputSet, name string) ([]float64, []float64, error) {
	p, err := normPreprocess(in, name)
	if err != nil {
		return nil, nil, err
	}
	return p.MeanStd(in.x.Shape[1])
}

// normPreprocess returns the preprocessing that normalized the input: the
// named one, the images' own, or for .npy input data.DefaultNormalization
// of its channel count.
func normPreprocess(in *inputSet, name string) (data.Preprocess, error) {
	switch {
	case name != "":
		return data.Lookup(name)
	case in.pre != nil:
		return *in.pre, nil
	}
	return data.DefaultNormalization(in.x.Shape[1])
}

// withBounds returns in, or for .npy input (no preprocessing of its own)
// a copy whose preprocessing is norm, the normalization that produced it,
// so that box bounds are derived from it as for images. The copy is used
// only for bounds and their description: heatmaps and sidecars still treat
// the input as a .npy tensor.
func withBounds(in *inputSet, norm *data.Preprocess) *inputSet {
	if in.pre != nil || norm == nil {
		return in
	}
	c := *in
	c.pre = norm
	return &c
}

// predicted returns the explicit target for every input, or the arg-max.
func predicted(g interface{ Run(*tensor.T) *tensor.T }, x *tensor.T, targets []int) ([]int, error) {
	n := x.Shape[0]
	if len(targets) == 1 {
		t := make([]int, n)
		for i := range t {
			t[i] = targets[0]
		}
		return t, nil
	}
	logits := g.Run(x)
	classes := logits.Len() / n
	t := make([]int, n)
	for i := range t {
		t[i] = argmax(logits.Data[i*classes : (i+1)*classes])
	}
	return t, nil
}

// saveStepImages writes DIR/METHOD-ORDER/INPUT-stepKK.png for every step.
func saveStepImages(dir, method, order string, r *eval.Result, offset int) error {
	sub := filepath.Join(dir, strings.NewReplacer(":", "-", "/", "-").Replace(method)+"-"+order)
	for k, xs := range r.Inputs {
		for n := 0; n < xs.Shape[0]; n++ {
			path := filepath.Join(sub, fmt.Sprintf("input%03d-step%02d.png", offset+n, k))
			if err := viz.SavePNG(path, viz.InputImage(xs.Batch(n), r.Config.Mean, r.Config.Std)); err != nil {
				return err
			}
		}
	}
	return nil
}

// stepFigures writes, for the first inputs of a batch (global index
// offset+n < 4), one row: heatmap, then the mask of flipped patches and
// the perturbed input at steps 0, ¼, ½, ¾ of the way and the last.
func stepFigures(dir, method, order string, r *eval.Result, rel *tensor.T, offset int) error {
	S := len(r.Inputs) - 1
	steps := []int{0, S / 4, S / 2, 3 * S / 4, S}
	for n := 0; n < r.Inputs[0].Shape[0] && offset+n < 4; n++ {
		hm, err := viz.HeatmapWith(rel.Batch(n), viz.HeatmapOptions{})
		if err != nil {
			return err
		}
		row := []image.Image{hm}
		captions := []string{"heatmap"}
		cum := 0
		flipped := make([]int, S+1)
		for k := range flipped {
			cum += r.Flips[k]
			flipped[k] = cum
		}
		w := r.Inputs[0].Shape[3]
		for _, k := range steps {
			row = append(row, viz.Mask(r.PatchOrder[n], flipped[k], r.Config.Patch, w, r.Inputs[0].Shape[2]),
				viz.InputImage(r.Inputs[k].Batch(n), r.Config.Mean, r.Config.Std))
			captions = append(captions, fmt.Sprintf("mask, step %d\n(%d patches)", k, flipped[k]), fmt.Sprintf("input, step %d", k))
		}
		name := fmt.Sprintf("input%03d-%s-%s.png", offset+n, safeName(method), order)
		title := fmt.Sprintf("input %d, %s, %s: heatmap; then per step the flipped patches (black) and the perturbed input", offset+n, method, strings.ToUpper(order))
		if err := viz.SavePNG(filepath.Join(dir, name), viz.LabelledRow(title, row, captions, max(1, 112/w))); err != nil {
			return err
		}
	}
	return nil
}

// parseFlipping parses the perturbation mode and a comma-separated list of
// orders.
func parseFlipping(perturb, orders string) (eval.Mode, []eval.Order, error) {
	mode, err := eval.ParseMode(perturb)
	if err != nil {
		return "", nil, err
	}
	var list []eval.Order
	for _, o := range strings.Split(orders, ",") {
		ord, err := eval.ParseOrder(strings.TrimSpace(o))
		if err != nil {
			return "", nil, err
		}
		list = append(list, ord)
	}
	return mode, list, nil
}

// computeMetrics computes the metrics of one batch's attribution, the
// seconds each took and mprt's stages (if it ran); a (may be nil for a
// relevance read from a file) explains inputs again for the sanity
// checks, and method with opt builds it on randomized models.
func computeMetrics(metrics []eval.Metric, g *nn.Graph, x, r *tensor.T, targets []int, cfg eval.Config, a lrp.Attributor, method string, opt lrp.MethodOptions, batch int) (map[string][]float64, map[string]float64, *eval.MPRTResult, error) {
	in := eval.MetricInput{Graph: g, X: x, R: r, Targets: targets, Config: cfg}
	explainer := func(a lrp.Attributor) eval.Explainer {
		return func(x *tensor.T, targets []int) (*tensor.T, error) {
			res, err := lrp.AttributeInBatches(a, x, targets, batch)
			if err != nil {
				return nil, err
			}
			return res.Relevance, nil
		}
	}
	if a != nil {
		in.Explain = explainer(a)
		in.ExplainFor = func(g2 *nn.Graph) (eval.Explainer, error) {
			a2, err := lrp.NewAttributor(method, g2, opt)
			if err != nil {
				return nil, err
			}
			return explainer(a2), nil
		}
	}
	out, secs := map[string][]float64{}, map[string]float64{}
	var mprt *eval.MPRTResult
	for _, m := range metrics {
		start := time.Now()
		var v []float64
		var err error
		if m.Name == "mprt" && in.ExplainFor != nil {
			// Called directly for the per-layer similarities.
			if mprt, err = eval.MPRT(g, in.ExplainFor, x, r, targets, cfg.Seed, 0); err != nil {
				return nil, nil, nil, fmt.Errorf("mprt: %w", err)
			}
			v = mprt.Values
		} else if v, err = m.Compute(in); err != nil {
			return nil, nil, nil, err
		}
		out[m.Name], secs[m.Name] = v, time.Since(start).Seconds()
	}
	return out, secs, mprt, nil
}

// meanOf returns the mean of v (0 for none).
func meanOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
