package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/xai-go/lrp"
	"github.com/xai-go/lrp/data"
	"github.com/xai-go/lrp/internal/outfile"
	"github.com/xai-go/lrp/models"
	"github.com/xai-go/lrp/models/torchvision"
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/sweep"
	"github.com/xai-go/lrp/tensor"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func runSweep(args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "merge" {
		return runSweepMerge(args[1:], stdout)
	}
	fs := newFlags("sweep", "--model M (--data DIR|LIST | --input x.npy | IMAGE...) [--preset NAME | --rules TEMPLATE] --grid 'gamma=0,logspace(-3,1,9)' … --out DIR")
	mf := addModelFlags(fs)
	model := mf.name
	df := addDatasetFlags(fs, 8)
	ef := addEvalFlags(fs)
	preset := fs.String("preset", "", "composite or preset whose parameters the grid sets (default "+lrp.DefaultComposite+" unless --rules): "+strings.Join(compositeNames(), ", "))
	rules := fs.String("rules", "", "rule-map template with {name} placeholders, e.g. '0:zbox(low=-2.1179,high=2.64);1-16:gamma({gamma});17-:epsilon({epsilon})'")
	var grids listFlag
	fs.Var(&grids, "grid", "grid axis NAME=VALUES (repeatable); values: numbers, logspace(a,b[,n]), linspace(a,b[,n]); n defaults to 50 as in NumPy")
	low := fs.String("low", "", "box-rule lower bound for presets (default: the preprocessing's image of 0)")
	high := fs.String("high", "", "box-rule upper bound for presets (default: the preprocessing's image of 1)")
	out := fs.String("out", "", "results directory")
	resume := fs.Bool("resume", false, "continue a run whose results directory exists")
	byClass := fs.Bool("by-class", false, "also write table-by-class.csv (a class column) and per-class plots into class-NAME/")
	seeds := fs.Int("seeds", 1, "with --metrics: compute the metrics that draw random numbers (their own or the --perturb mode's) with this many seeds, to measure their noise floor over seeds")
	shard := fs.String("shard", "", "this job's shard i/n (default: from SLURM_ARRAY_TASK_ID/COUNT, SGE_TASK_ID/LAST, or JOB_COMPLETION_INDEX with LRP_SHARDS)")
	images, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("--out DIR is required")
	}
	if err := checkOutputs(nil, []string{*out}); err != nil {
		return err
	}
	if len(grids) == 0 {
		return fmt.Errorf("give at least one --grid NAME=VALUES")
	}
	if err := df.check(images); err != nil {
		return err
	}
	var axes []sweep.Axis
	for _, g := range grids {
		a, err := sweep.ParseAxis(g)
		if err != nil {
			return err
		}
		axes = append(axes, a)
	}
	_, orderList, err := ef.check()
	if err != nil {
		return err
	}
	metricList, err := ef.metricList()
	if err != nil {
		return err
	}
	var metricNames []string
	for _, m := range metricList {
		metricNames = append(metricNames, m.Name)
	}
	if *seeds < 1 {
		return fmt.Errorf("--seeds %d: must be at least 1", *seeds)
	}
	si, sn, err := shardOf(*shard, os.Getenv)
	if err != nil {
		return err
	}
	defaultPreset := *preset == "" && *rules == ""
	if defaultPreset {
		*preset = lrp.DefaultComposite
	}
	g, err := mf.load()
	if err != nil {
		return err
	}
	emb := embeddedOf(*model)
	var src sweep.Source
	var in *inputSet
	var classes []string
	switch {
	case *df.input != "":
		if in, err = loadInputs(*df.input, nil, *df.preprocess, nil); err != nil {
			return err
		}
		in = df.limitInputs(in)
		src = &sweep.TensorSource{X: in.x, Names: in.names}
	case *df.path != "" || len(images) > 0:
		pre := *df.preprocess
		if pre == "" {
			pre = "imagenet"
			if emb != nil {
				pre = emb.Preprocess
			}
		}
		p, err := data.Lookup(pre)
		if err != nil {
			return err
		}
		var items []data.Item
		if len(images) > 0 {
			for _, path := range images {
				items = append(items, data.Item{Path: path, Label: -1})
			}
		} else {
			opt, err := df.listOptions(modelLabels(g, emb))
			if err != nil {
				return err
			}
			if items, err = data.List(*df.path, opt); err != nil {
				return err
			}
		}
		if items, err = readableImages(items, *df.strict || len(images) > 0); err != nil {
			return err
		}
		paths := make([]string, len(items))
		labelled := false
		for i, it := range items {
			paths[i] = it.Path
			labelled = labelled || it.Label >= 0
		}
		if labelled {
			labels := modelLabels(g, emb)
			for _, it := range items {
				classes = append(classes, className(it, *df.path, labels))
			}
		}
		first, err := (&sweep.FileSource{Paths: paths[:1], Preprocess: p}).Batch(0, 1)
		if err != nil {
			return err
		}
		src = &sweep.FileSource{Paths: paths, Preprocess: p}
		in = &inputSet{x: first, names: paths[:1], pre: &p}
	default:
		if emb == nil {
			return fmt.Errorf("give --data DIR|LIST, --input x.npy or image files (only embedded models bring their own sample images)")
		}
		pre := *df.preprocess
		if pre == "" {
			pre = emb.Preprocess
		}
		if in, err = sampleInputs(emb, pre); err != nil {
			return err
		}
		samples, err := emb.Samples()
		if err != nil {
			return err
		}
		for _, s := range samples {
			classes = append(classes, emb.Labels[s.Label])
		}
		src = &sweep.TensorSource{X: in.x, Names: in.names}
	}
	if err := g.CheckInput(in.x.Shape); err != nil {
		return fmt.Errorf("model %s: %w", modelName(*model), err)
	}
	if in.x.Dims() != 4 {
		return fmt.Errorf("pixel flipping needs N×C×H×W inputs, got %s", tensor.ShapeString(in.x.Shape))
	}
	ecfg, err := ef.config(in.x.Shape[3], emb)
	if err != nil {
		return err
	}
	mean, std, err := normalization(in, *df.normalization)
	if err != nil {
		return err
	}
	ecfg.Mean, ecfg.Std = mean, std
	ecfg.Scorer = ef.scorer(g)
	if in.pre == nil {
		// .npy input: box bounds from the normalization that produced it.
		p, err := normPreprocess(in, *df.normalization)
		if err != nil {
			return err
		}
		in.pre = &p
	}
	tmpl := sweep.Template{Composite: *preset, Rules: *rules, Load: tensor.LoadNpyData}
	if *preset != "" {
		if tmpl.Low, err = bound(*low, in.pre, 0, in.x.Shape); err != nil {
			return fmt.Errorf("--low: %w", err)
		}
		if tmpl.High, err = bound(*high, in.pre, 1, in.x.Shape); err != nil {
			return fmt.Errorf("--high: %w", err)
		}
	}
	if *byClass && classes == nil {
		return fmt.Errorf("--by-class needs labelled images: --data with class folders or labels, or an embedded model's samples")
	}
	warn(sweep.GridWarnings(g, tmpl, axes)...)
	cfg := sweep.Config{Graph: g, Model: modelName(*model), Template: tmpl, Axes: axes, Source: src, BatchSize: *df.batch,
		Eval: ecfg, Orders: orderList, Shard: si, Shards: sn, Dir: *out, Resume: *resume, Progress: progressOutput, Classes: classes,
		Metrics: metricNames, Seeds: *seeds, Precision: *ef.precision}
	if defaultPreset {
		fmt.Fprintf(progressOutput, "lrp: no --preset or --rules: sweeping the default composite %s\n", *preset)
	}
	if err := sweep.Run(cfg); err != nil {
		return err
	}
	if sn > 1 {
		fmt.Fprintf(stdout, "shard %d/%d done; combine the shards with: lrp sweep merge DIR...\n", si, sn)
		return nil
	}
	return summarize(stdout, *out, []string{*out}, *byClass)
}

// modelLabels are the class names of the model's outputs when known: an
// embedded model's, or ImageNet's for a model with 1000 outputs.
func modelLabels(g *nn.Graph, emb *models.Embedded) []string {
	if emb != nil {
		return emb.Labels
	}
	in := append([]int(nil), g.InputShape...)
	if len(in) == 0 {
		return nil
	}
	in[0] = 1
	for i := range in {
		if in[i] < 1 {
			return nil
		}
	}
	shapes, err := g.Shapes(in)
	if err != nil || tensor.Size(shapes[g.Output]) != 1000 {
		return nil
	}
	return torchvision.ImageNetClasses()
}

func compositeNames() []string {
	var names []string
	for _, n := range lrpCompositeNames() {
		names = append(names, n)
	}
	return names
}

// shardOf reads --shard i/n, or the array-job variables of SLURM, SGE and
// Kubernetes Indexed Jobs; without any it is 0/1.
func shardOf(flag string, getenv func(string) string) (int, int, error) {
	atoi := func(name, v string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0, fmt.Errorf("%s=%q is not an integer", name, v)
		}
		return n, nil
	}
	var i, n int
	var err error
	switch {
	case flag != "":
		a, b, ok := strings.Cut(flag, "/")
		if !ok {
			return 0, 0, fmt.Errorf("--shard %q: want i/n", flag)
		}
		if i, err = atoi("--shard", a); err != nil {
			return 0, 0, err
		}
		if n, err = atoi("--shard", b); err != nil {
			return 0, 0, err
		}
	case getenv("SLURM_ARRAY_TASK_ID") != "":
		if i, err = atoi("SLURM_ARRAY_TASK_ID", getenv("SLURM_ARRAY_TASK_ID")); err != nil {
			return 0, 0, err
		}
		if m := getenv("SLURM_ARRAY_TASK_MIN"); m != "" {
			lo, err := atoi("SLURM_ARRAY_TASK_MIN", m)
			if err != nil {
				return 0, 0, err
			}
			i -= lo
		}
		if n, err = atoi("SLURM_ARRAY_TASK_COUNT", getenv("SLURM_ARRAY_TASK_COUNT")); err != nil {
			return 0, 0, err
		}
	case getenv("SGE_TASK_ID") != "" && getenv("SGE_TASK_ID") != "undefined":
		if i, err = atoi("SGE_TASK_ID", getenv("SGE_TASK_ID")); err != nil {
			return 0, 0, err
		}
		first, last := 1, 0
		if v := getenv("SGE_TASK_FIRST"); v != "" {
			if first, err = atoi("SGE_TASK_FIRST", v); err != nil {
				return 0, 0, err
			}
		}
		if last, err = atoi("SGE_TASK_LAST", getenv("SGE_TASK_LAST")); err != nil {
			return 0, 0, err
		}
		i, n = i-first, last-first+1
	case getenv("JOB_COMPLETION_INDEX") != "":
		if i, err = atoi("JOB_COMPLETION_INDEX", getenv("JOB_COMPLETION_INDEX")); err != nil {
			return 0, 0, err
		}
		if n, err = atoi("LRP_SHARDS", getenv("LRP_SHARDS")); err != nil {
			return 0, 0, fmt.Errorf("a Kubernetes Indexed Job needs LRP_SHARDS set to its completions: %w", err)
		}
	default:
		return 0, 1, nil
	}
	if n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("shard %d/%d is out of range (0 ≤ i < n)", i, n)
	}
	return i, n, nil
}

func runSweepMerge(args []string, stdout io.Writer) error {
	fs := newFlags("sweep merge", "DIR... [--out DIR] [--by-class]")
	out := fs.String("out", "", "write table.csv (and plots) into this directory (default: the first DIR)")
	byClass := fs.Bool("by-class", false, "also write table-by-class.csv (a class column) and per-class plots into class-NAME/")
	dirs, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		return fmt.Errorf("give the results directories to merge")
	}
	if *out == "" {
		*out = dirs[0]
	}
	if err := checkOutputs(nil, []string{*out}); err != nil {
		return err
	}
	return summarize(stdout, *out, dirs, *byClass)
}

// summarize merges results, writes table.csv and prints the best points;
// byClass adds table-by-class.csv and, per class, its best points and
// plots in class-NAME/.
func summarize(stdout io.Writer, out string, dirs []string, byClass bool) error {
	var t *sweep.Table
	var classes []sweep.ClassTable
	var err error
	if byClass {
		t, classes, err = sweep.MergeByClass(dirs...)
	} else {
		t, err = sweep.Merge(dirs...)
	}
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := t.WriteCSV(&b); err != nil {
		return err
	}
	table := filepath.Join(out, "table.csv")
	if err := outfile.Write(table, b.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d grid points × %d images; table: %s\n", len(t.Rows), t.Rows[0].Images, table)
	printBest(stdout, t, "")
	if err := plotSweep(t, out); err != nil {
		return err
	}
	if err := summarizeMetrics(stdout, t, out); err != nil {
		return err
	}
	if !byClass {
		return nil
	}
	b.Reset()
	if err := sweep.WriteClassCSV(&b, classes); err != nil {
		return err
	}
	table = filepath.Join(out, "table-by-class.csv")
	if err := outfile.Write(table, b.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d classes; table: %s\n", len(classes), table)
	for _, c := range classes {
		printClassBest(stdout, c)
		dir := filepath.Join(out, "class-"+safeName(c.Class))
		if err := outfile.MkdirAll(dir); err != nil {
			return err
		}
		if err := plotSweep(c.Table, dir); err != nil {
			return err
		}
	}
	return nil
}

// printBest prints a table's best grid points, each line after prefix.
func printBest(stdout io.Writer, t *sweep.Table, prefix string) {
	morf, lrf, abpc := t.Best()
	if morf >= 0 {
		r := t.Rows[morf]
		fmt.Fprintf(stdout, "%sbest MoRF (lowest AUC %.4f ± %.4f): %s\n", prefix, r.AUC["morf"], r.AUCStd["morf"], r.Point.Label(t.Settings.Axes))
	}
	if lrf >= 0 {
		r := t.Rows[lrf]
		fmt.Fprintf(stdout, "%sbest LRF (highest AUC %.4f ± %.4f): %s\n", prefix, r.AUC["lrf"], r.AUCStd["lrf"], r.Point.Label(t.Settings.Axes))
	}
	if abpc >= 0 {
		r := t.Rows[abpc]
		fmt.Fprintf(stdout, "%sbest ABPC (%.4f): %s\n", prefix, *r.ABPC, r.Point.Label(t.Settings.Axes))
	}
}

// printClassBest prints one line per class: its best grid points.
func printClassBest(stdout io.Writer, c sweep.ClassTable) {
	morf, lrf, abpc := c.Best()
	line := fmt.Sprintf("class %s (%d images):", c.Class, c.Rows[0].Images)
	var parts []string
	for _, b := range []struct {
		what string
		i    int
	}{{"MoRF", morf}, {"LRF", lrf}, {"ABPC", abpc}} {
		if b.i >= 0 {
			parts = append(parts, fmt.Sprintf(" best %s %s", b.what, c.Rows[b.i].Point.Label(c.Settings.Axes)))
		}
	}
	fmt.Fprintln(stdout, line+strings.Join(parts, ","))
}
