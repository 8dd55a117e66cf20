package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/xai-go/lrp"
	"github.com/xai-go/lrp/data"
	"github.com/xai-go/lrp/internal/outfile"
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
	"github.com/xai-go/lrp/viz"
)

// ruleFlags are the flags that choose a rule map.
type ruleFlags struct {
	composite, rules, rulesFile *string
	epsilon, gamma              *float64
	low, high                   *string
}

func addRuleFlags(fs *flag.FlagSet) *ruleFlags {
	return &ruleFlags{
		composite: fs.String("composite", "", "named composite or preset: "+strings.Join(lrp.CompositeNames(), ", ")+" (default "+lrp.DefaultComposite+" when no --rules or --rules-file is given)"),
		rules:     fs.String("rules", "", "rule map spec, e.g. '0:zbox(low=-2.1179,high=2.64);1-16:gamma(0.25);17-30:epsilon(0.25);31-:zero'"),
		rulesFile: fs.String("rules-file", "", "rule map file: one SELECTOR:RULE per line, or JSON [{\"select\":…,\"rule\":…}]"),
		epsilon:   fs.Float64("epsilon", -1, "ε of the composite (default: the composite's)"),
		gamma:     fs.Float64("gamma", -1, "γ of the composite (default: the composite's)"),
		low:       fs.String("low", "", "box-rule lower bound: a number or a .npy file (default: the preprocessing's image of 0)"),
		high:      fs.String("high", "", "box-rule upper bound: a number or a .npy file (default: the preprocessing's image of 1)"),
	}
}

// given reports whether any rule flag was given (checkFlags refuses
// negative --epsilon and --gamma, so ≥ 0 means given).
func (f *ruleFlags) given() bool {
	return *f.composite != "" || *f.rules != "" || *f.rulesFile != "" || *f.epsilon >= 0 || *f.gamma >= 0 || *f.low != "" || *f.high != ""
}

// bound reads a bound flag, or derives it from the preprocessing: the
// image of pixel value 0 (low) or 1 (high), see data.Preprocess.Bounds.
// It is nil without a flag and a preprocessing.
func bound(flagValue string, pre *data.Preprocess, pixel float32, shape []int) (*tensor.T, error) {
	if flagValue != "" {
		if v, err := strconv.ParseFloat(flagValue, 32); err == nil {
			return tensor.FromData([]float32{float32(v)}, 1), nil
		}
		return tensor.LoadNpyData(flagValue)
	}
	if pre == nil || len(shape) != 4 {
		return nil, nil
	}
	low, high, err := pre.Bounds(shape)
	if pixel == 0 {
		return low, err
	}
	return high, err
}

// params returns the composite parameters the flags set; box bounds the
// flags do not give come from the preprocessing pre (nil: none).
func (f *ruleFlags) params(pre *data.Preprocess, inShape []int) (lrp.Params, error) {
	var p lrp.Params
	var err error
	if *f.epsilon >= 0 {
		p.Epsilon = f.epsilon
	}
	if *f.gamma >= 0 {
		p.Gamma = f.gamma
	}
	if p.Low, err = bound(*f.low, pre, 0, inShape); err != nil {
		return p, fmt.Errorf("--low: %w", err)
	}
	if p.High, err = bound(*f.high, pre, 1, inShape); err != nil {
		return p, fmt.Errorf("--high: %w", err)
	}
	return p, nil
}

// ruleMap builds the rule map the flags ask for (nil if none was given),
// box bounds the flags do not give coming from the preprocessing pre.
func (f *ruleFlags) ruleMap(g *nn.Graph, pre *data.Preprocess, inShape []int) (*lrp.RuleMap, error) {
	p, err := f.params(pre, inShape)
	if err != nil {
		return nil, err
	}
	return f.ruleMapWith(g, p)
}

// ruleMapWith is ruleMap with the composite parameters already read.
func (f *ruleFlags) ruleMapWith(g *nn.Graph, p lrp.Params) (*lrp.RuleMap, error) {
	given := 0
	for _, s := range []string{*f.composite, *f.rules, *f.rulesFile} {
		if s != "" {
			given++
		}
	}
	if given > 1 {
		return nil, fmt.Errorf("give only one of --composite, --rules and --rules-file")
	}
	if (*f.rules != "" || *f.rulesFile != "") && (*f.epsilon >= 0 || *f.gamma >= 0) {
		// Negative values are refused by checkFlags: ≥ 0 means given.
		return nil, fmt.Errorf("--epsilon and --gamma set a composite's parameters (--composite NAME, default %s): write the values into the rule map instead", lrp.DefaultComposite)
	}
	m, err := f.build(g, p)
	if err != nil || m == nil {
		return m, err
	}
	warn(m.Warnings(g)...)
	return m, nil
}

// build builds the rule map of --rules, --rules-file or --composite with
// the parameters p (nil if none of them was given).
func (f *ruleFlags) build(g *nn.Graph, p lrp.Params) (*lrp.RuleMap, error) {
	switch {
	case *f.rules != "":
		return lrp.ParseRuleMap(*f.rules, tensor.LoadNpyData)
	case *f.rulesFile != "":
		return lrp.ReadRuleMapFile(*f.rulesFile, tensor.LoadNpyData)
	case *f.composite != "":
		c, err := lrp.LookupComposite(*f.composite)
		if err != nil {
			return nil, err
		}
		return c.Build(g, p)
	}
	return nil, nil
}

// methodOptions returns the options of lrp.NewAttributor the flags set:
// the rule map (nil: lrp uses lrp.DefaultComposite), the composite
// parameters for it and for lrp:NAME (read once: bound files are loaded
// once), and the seed.
func (f *ruleFlags) methodOptions(g *nn.Graph, pre *data.Preprocess, inShape []int, seed uint64) (lrp.MethodOptions, error) {
	opt := lrp.MethodOptions{Seed: seed, Cache: &lrp.ParamCache{}}
	var err error
	if opt.Params, err = f.params(pre, inShape); err != nil {
		return opt, err
	}
	if opt.Rules, err = f.ruleMapWith(g, opt.Params); err != nil {
		return opt, err
	}
	return opt, nil
}

// methodHelp lists the attribution methods for flag help.
func methodHelp() string {
	return strings.Join(lrp.MethodNames(), ", ") + ", or lrp:COMPOSITE (lrp without rule flags: lrp:" + lrp.DefaultComposite + ")"
}

func runExplain(args []string, stdout io.Writer) error {
	fs := newFlags("explain", "--model M (--input x.npy | IMAGE...) [--composite NAME | --rules SPEC | --rules-file F] [--method lrp] --out r.npy|DIR")
	mf := addModelFlags(fs)
	model := mf.name
	method := fs.String("method", "lrp", "attribution method: "+methodHelp())
	target := fs.Int("target", -1, "class to explain (default: the predicted class of each input)")
	out := fs.String("out", "", "write the relevance N×C×H×W to this .npy file, or into this directory with heatmap PNGs")
	seed := fs.Uint64("seed", 0, "seed for smoothgrad and random")
	cmap := fs.String("colormap", "bwr", "heatmap colormap: "+strings.Join(viz.ColormapNames(), ", "))
	thesisColors := fs.Bool("thesis-colors", false, "heatmap range ±10·(mean |R|³)^(1/3) and colours ×0.85, as the thesis code draws them")
	overlay := fs.Float64("overlay", 0, "blend heatmaps over the input picture: opacity a·|R|/max|R| per pixel, so the picture shows where relevance is near zero (0 < a ≤ 1; 0: no overlay)")
	scale := fs.Int("scale", 0, "enlarge heatmaps by this factor, nearest neighbour (default: to at least 224 pixels)")
	force := fs.Bool("force", false, "write into a --out directory that is not empty (files of the same names are replaced)")
	heatmapSize := fs.String("heatmap-size", heatmapAtModel, "heatmap size: model (the model input, enlarged by --scale) or input (each image's own width×height, the relevance resampled onto the part the preprocessing kept)")
	rf := addRuleFlags(fs)
	// 8 images at a time: explaining VGG16 takes about 1.8 GB at batch 8.
	df := addDatasetFlags(fs, 8)
	input, pre := df.input, df.preprocess
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
	if *df.normalization != "" && *input == "" {
		return fmt.Errorf("--normalization applies to .npy input (images are normalized by --preprocess)")
	}
	if err := checkExplainOut(*out, *force); err != nil {
		return err
	}
	if name, _, _ := strings.Cut(*method, ":"); name != "lrp" && rf.given() {
		return fmt.Errorf("--composite, --rules, --rules-file, --epsilon, --gamma, --low and --high choose LRP rules; method %s takes none", *method)
	}
	g, err := mf.load()
	if err != nil {
		return err
	}
	if err := checkTarget(fs, g, *target); err != nil {
		return err
	}
	if len(g.InputShape) == 4 {
		if err := checkScale(*scale, g.InputShape[3]); err != nil {
			return err
		}
	}
	mInfo, err := mf.info()
	if err != nil {
		return err
	}
	hopt := viz.HeatmapOptions{Colormap: *cmap, Thesis: *thesisColors, Scale: *scale}
	if _, ok := viz.Colormaps[*cmap]; !ok {
		return fmt.Errorf("unknown colormap %q (%s)", *cmap, strings.Join(viz.ColormapNames(), ", "))
	}
	if *overlay < 0 || *overlay > 1 {
		return fmt.Errorf("--overlay must be in [0, 1]")
	}
	atInput, err := checkHeatmapSize(*heatmapSize, *scale)
	if err != nil {
		return err
	}
	var targets []int
	if *target >= 0 {
		targets = []int{*target}
	}
	var prog *progress // without --data: one step per batch of --batch-size
	// newAttributor builds the method once per command, for inputs of the
	// given shape, so that every batch reuses its modified weights.
	newAttributor := func(pre *data.Preprocess, shape []int) (lrp.Attributor, error) {
		opt, err := rf.methodOptions(g, pre, shape, *seed)
		if err != nil {
			return nil, err
		}
		return lrp.NewAttributor(*method, g, opt)
	}
	var a lrp.Attributor
	// boundsPre gives .npy input its box bounds (see withBounds).
	var boundsPre *data.Preprocess
	explainBatch := func(in *inputSet, out string, offset int) error {
		if in.x.Dims() == 4 {
			if err := checkScale(*scale, in.x.Shape[3]); err != nil {
				return err
			}
		}
		a := a
		if prog != nil {
			a = progressAttributor{a, prog}
		}
		res, err := lrp.AttributeInBatches(a, in.x, targets, *df.batch)
		if err != nil {
			return err
		}
		o := hopt
		if o.Scale == 0 && in.x.Dims() == 4 {
			o.Scale = max(1, 224/in.x.Shape[3])
		}
		mi, err := describeMethod(*method, g, rf, withBounds(in, boundsPre), *seed)
		if err != nil {
			return err
		}
		side := &relevanceInfo{Tool: toolVersion(), Model: mInfo, Method: mi}
		return writeRelevance(out, in, res, o, *overlay, atInput, offset, side, stdout)
	}
	if *df.path != "" {
		if strings.HasSuffix(strings.ToLower(*out), ".npy") {
			return fmt.Errorf("with --data, --out is a directory (relevance is written per batch)")
		}
		if err := outfile.MkdirAll(*out); err != nil {
			return err
		}
		ds, err := df.open(*pre, embeddedOf(*model))
		if err != nil {
			return err
		}
		if a, err = newAttributor(&ds.pre, ds.pre.Shape()); err != nil {
			return err
		}
		done := 0
		err = ds.each(g, func(in *inputSet, _ []int) error {
			if err := explainBatch(in, *out, done); err != nil {
				return err
			}
			done += len(in.names)
			return nil
		})
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, ds.summary())
		return ds.stopped()
	}
	in, err := loadInputs(*input, images, *pre, embeddedOf(*model))
	if err != nil {
		return err
	}
	in = df.limitInputs(in)
	if in.pre == nil {
		// .npy input: the box rule's bounds come from the normalization
		// that produced it (--normalization, else the default for its
		// channel count), as they come from --preprocess for images.
		p, err := normPreprocess(in, *df.normalization)
		if err != nil && *df.normalization != "" {
			return fmt.Errorf("--normalization: %w", err)
		}
		if err == nil {
			boundsPre = &p
		}
	}
	if err := g.CheckInput(in.x.Shape); err != nil {
		return fmt.Errorf("model %s: %w", modelName(*model), err)
	}
	if a, err = newAttributor(withBounds(in, boundsPre).pre, in.x.Shape); err != nil {
		return err
	}
	prog = newProgress(in.x.Shape[0])
	return explainBatch(in, *out, -1)
}

// checkExplainOut checks explain's --out before any work: a .npy file and
// its identity sidecar FILE.npy.json, or a directory that is new or empty
// (or any directory with --force).
func checkExplainOut(out string, force bool) error {
	if strings.HasSuffix(strings.ToLower(out), ".npy") {
		return checkOutputs([]string{out, sidecarPath(out)}, nil)
	}
	return checkFreshDir(out, force)
}

// writeRelevance writes r.npy, or DIR/relevance.npy and one heatmap PNG
// per input when out is a directory (or has no .npy suffix). Beside each
// relevance file FILE.npy it writes FILE.npy.json, side completed with the
// inputs' identity and the targets (see relevanceInfo), which evaluate
// --relevance checks.
func writeRelevance(out string, in *inputSet, res *lrp.Result, hopt viz.HeatmapOptions, overlay float64, atInput bool, offset int, side *relevanceInfo, stdout io.Writer) error {
	side.Inputs.add(in)
	side.Targets, side.Shape = res.Targets, res.Relevance.Shape
	if strings.HasSuffix(strings.ToLower(out), ".npy") {
		if err := tensor.SaveNpy(out, res.Relevance); err != nil {
			return err
		}
		if err := writeSidecar(out, side); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (%s) and %s, targets %v\n", out, tensor.ShapeString(res.Relevance.Shape), sidecarPath(out), res.Targets)
		return nil
	}
	file := "relevance.npy"
	if offset >= 0 {
		file = fmt.Sprintf("relevance-%06d.npy", offset)
	}
	if err := tensor.SaveNpy(filepath.Join(out, file), res.Relevance); err != nil {
		return err
	}
	if err := writeSidecar(filepath.Join(out, file), side); err != nil {
		return err
	}
	if res.Relevance.Dims() == 4 {
		for i, name := range in.names {
			base := safeName(strings.TrimSuffix(filepath.Base(name), filepath.Ext(name)))
			if in.pre == nil {
				base = fmt.Sprintf("input-%d", i)
			}
			path := filepath.Join(out, fmt.Sprintf("%03d-%s-heatmap.png", max(offset, 0)+i, base))
			img, err := heatmapFor(in, i, res.Relevance.Batch(i), hopt, overlay, atInput)
			if err != nil {
				return err
			}
			if err := viz.SavePNG(path, img); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(stdout, "wrote %s: %s (with %s.json) and %d heatmaps, targets %v\n", out, file, file, len(in.names), res.Targets)
	return nil
}

func lrpCompositeNames() []string { return lrp.CompositeNames() }

// safeName keeps letters, digits, '.', '_' and '-' of a file name part.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '-'
	}, s)
}
