package main

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/xai-go/lrp"
	"github.com/xai-go/lrp/data"
	"github.com/xai-go/lrp/eval"
	"github.com/xai-go/lrp/tensor"
	"github.com/xai-go/lrp/viz"
)

// methodResult is one method's evaluation in results.json.
type methodResult struct {
	Method  string                  `json:"method"`
	Targets []int                   `json:"targets"`
	Orders  map[string]*orderResult `json:"orders"`
	// ABPC = AUC(LRF) − AUC(MoRF) of the mean curves, when both ran.
	ABPC *float64 `json:"abpc,omitempty"`
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
	Settings map[string]any  `json:"settings"`
	Flips    []int           `json:"flips_per_step"`
	Inputs   []string        `json:"inputs"`
	Methods  []*methodResult `json:"methods"`
}

func runEvaluate(args []string, stdout io.Writer) error {
	fs := newFlags("evaluate", "--model M (--input x.npy | IMAGE...) (--relevance r.npy | --methods M1,M2 | explain flags) --out results.json")
	mf := addModelFlags(fs)
	model := mf.name
	input := fs.String("input", "", "input tensor N×C×H×W as .npy (already preprocessed)")
	pre := fs.String("preprocess", "", "preprocessing for images (default imagenet)")
	norm := fs.String("normalization", "", "preprocessing whose mean/std inpainting undoes for .npy input (default imagenet for 3 channels, mnist for 1)")
	relevance := fs.String("relevance", "", "relevance N×C×H×W as .npy (instead of computing it)")
	methods := fs.String("methods", "", "comma-separated methods to compare, e.g. lrp:epsilon-gamma-box,gradient,random (default: --method)")
	method := fs.String("method", "lrp", "attribution method when --methods is not given: "+methodHelp())
	patch := fs.Int("patch", 8, "patch size p")
	steps := fs.Int("steps", 0, "perturbation steps (default m+1 = W/p + 1, ending with the midpoint step)")
	perturb := fs.String("perturb", "inpaint", "how flipped patches are filled: "+modeNames())
	orders := fs.String("order", "morf", "morf, lrf, random, or a comma-separated list")
	seed := fs.Uint64("seed", 0, "seed for random orders, random perturbation and random attribution")
	target := fs.Int("target", -1, "class to explain and score (default: the predicted class)")
	maxBatch := fs.Int("max-batch", 0, "inputs per forward pass when scoring (default: as many as keep the largest activation under 128 MB, at most 32)")
	out := fs.String("out", "", "write the results as JSON to this file")
	plotPath := fs.String("plot", "", "draw the curves into this PNG")
	figures := fs.String("figures", "", "write figures into this directory: patches flipped per step, and for the first 4 inputs the heatmap beside the mask of flipped patches and the perturbed input at chosen steps")
	saveSteps := fs.String("save-steps", "", "write the perturbed inputs of every step as PNGs into this directory")
	rf := addRuleFlags(fs)
	// Attributions are computed 8 images at a time: VGG16's take about
	// 1.8 GB at batch 8.
	df := addDatasetFlags(fs, 8)
	images, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("--out is required")
	}
	if *df.batch < 1 {
		return fmt.Errorf("--batch-size must be at least 1")
	}
	mode, orderList, err := parseFlipping(*perturb, *orders)
	if err != nil {
		return err
	}
	if err := checkWritable(*out); err != nil {
		return err
	}
	g, err := mf.load()
	if err != nil {
		return err
	}
	var in *inputSet
	var ds *dataset
	if *df.path != "" {
		if *input != "" || len(images) > 0 {
			return fmt.Errorf("give --data, --input or image files, not several")
		}
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
		list := *methods
		if list == "" {
			list = *method
		}
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
	var allNames []string
	var flips []int
	stepsUsed := 0
	// evaluateBatch attributes and flips one batch of inputs.
	evaluateBatch := func(in *inputSet, offset int) error {
		var attrs []attribution
		if *relevance != "" {
			r, err := tensor.LoadNpy(*relevance)
			if err != nil {
				return err
			}
			t, err := predicted(g, in.x, targets)
			if err != nil {
				return err
			}
			attrs = append(attrs, attribution{"relevance:" + filepath.Base(*relevance), r, t})
		}
		for _, m := range attributors {
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
				cfg := eval.Config{Patch: *patch, Steps: *steps, Order: o, Mode: mode, Seed: *seed,
					MaxBatch: *maxBatch, Mean: mean, Std: std, KeepInputs: *saveSteps != "" || (*figures != "" && offset < 4),
					Shared: shared[key]}
				r, err := eval.Run(g, in.x, a.rel, a.targets, cfg)
				if err != nil {
					return fmt.Errorf("%s: %w", a.name, err)
				}
				flips, stepsUsed = r.Flips, r.Config.Steps
				ac := acc[a.name][o]
				if ac == nil {
					ac = &accum{}
					acc[a.name][o] = ac
				}
				if *saveSteps != "" {
					if err := saveStepImages(*saveSteps, a.name, string(o), r, offset); err != nil {
						return err
					}
				}
				if *figures != "" && offset < 4 {
					if err := stepFigures(*figures, a.name, string(o), r, a.rel, offset); err != nil {
						return err
					}
				}
				// Only the curves are merged: drop what holds the batch's
				// inputs (the shared steps keep x) before the next batch.
				r.Inputs, r.PatchOrder, r.Config.Shared = nil, nil, nil
				ac.results = append(ac.results, r)
				ac.targets = append(ac.targets, a.targets...)
			}
		}
		allNames = append(allNames, in.names...)
		return nil
	}
	if ds != nil {
		err := ds.each(g, func(in *inputSet, _ []int) error { return evaluateBatch(in, len(allNames)) })
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, ds.summary())
	} else if err := evaluateBatch(in, 0); err != nil {
		return err
	}
	if len(allNames) == 0 {
		return fmt.Errorf("no image could be evaluated")
	}
	results := evalResults{Inputs: allNames, Flips: flips, Settings: map[string]any{
		"model": modelName(*model), "patch": *patch, "perturb": string(mode), "orders": *orders, "steps": stepsUsed,
		"seed": *seed, "max_batch": *maxBatch, "mean": mean, "std": std,
	}}
	var curves []viz.Curve
	for _, name := range methodNames {
		mr := &methodResult{Method: name, Orders: map[string]*orderResult{}}
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
			curves = append(curves, viz.Curve{Label: name + " " + string(o), Scores: or.Scores, Mean: or.Mean, AUC: or.AUC})
		}
		m, hasMoRF := summaries[eval.MoRF]
		l, hasLRF := summaries[eval.LRF]
		if hasMoRF && hasLRF {
			abpc := eval.ABPC(m, l)
			mr.ABPC = &abpc
			fmt.Fprintf(stdout, "%-28s ABPC %10.4f\n", name, abpc)
		}
		results.Methods = append(results.Methods, mr)
	}
	if *figures != "" {
		p, err := viz.PlotFlips(flips)
		if err != nil {
			return err
		}
		if err := viz.SavePlot(p, filepath.Join(*figures, "flips-per-step.png"), 6, 4); err != nil {
			return err
		}
	}
	if *plotPath != "" {
		p, err := viz.PlotCurves(fmt.Sprintf("pixel flipping (%s, patch %d)", mode, *patch), curves)
		if err != nil {
			return err
		}
		if err := viz.SavePlot(p, *plotPath, 7, 5); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(results, "", " ")
	if err != nil {
		return err
	}
	return writeFileAtomic(*out, append(b, '\n'))
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
// named one, the images' own, or for .npy input imagenet (3 channels) or
// mnist (1 channel).
func normPreprocess(in *inputSet, name string) (data.Preprocess, error) {
	switch {
	case name != "":
		return data.Lookup(name)
	case in.pre != nil:
		return *in.pre, nil
	case in.x.Shape[1] == 1:
		return data.Lookup("mnist")
	}
	return data.Lookup("imagenet")
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

// checkWritable fails early if the output file's directory cannot be
// written, before any work starts.
func checkWritable(path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".lrp-check-*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// writeFileAtomic writes through a temporary file and a rename.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".lrp-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}

// saveStepImages writes DIR/METHOD-ORDER/INPUT-stepKK.png for every step.
func saveStepImages(dir, method, order string, r *eval.Result, offset int) error {
	sub := filepath.Join(dir, strings.NewReplacer(":", "-", "/", "-").Replace(method)+"-"+order)
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return err
	}
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
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	S := len(r.Inputs) - 1
	steps := []int{0, S / 4, S / 2, 3 * S / 4, S}
	for n := 0; n < r.Inputs[0].Shape[0] && offset+n < 4; n++ {
		hm, err := viz.HeatmapWith(rel.Batch(n), viz.HeatmapOptions{})
		if err != nil {
			return err
		}
		row := []image.Image{hm}
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
		}
		name := fmt.Sprintf("input%03d-%s-%s.png", offset+n, safeName(method), order)
		if err := viz.SavePNG(filepath.Join(dir, name), viz.Row(row, max(1, 112/w))); err != nil {
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
