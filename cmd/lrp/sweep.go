package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/xai-go/lrp/data"
	"github.com/xai-go/lrp/eval"
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
	fs := newFlags("sweep", "--model M --data DIR|LIST (--preset NAME | --rules TEMPLATE) --grid 'gamma=0,logspace(-3,1,9)' … --out DIR")
	mf := addModelFlags(fs)
	model := mf.name
	dataPath := fs.String("data", "", "image folder (recursive, sorted) or list file")
	input := fs.String("input", "", "or: input tensor N×C×H×W as .npy (already preprocessed)")
	limit := fs.Int("limit", 0, "use at most this many images")
	pre := fs.String("preprocess", "imagenet", "preprocessing for images")
	norm := fs.String("normalization", "", "preprocessing whose mean/std inpainting undoes for .npy input")
	preset := fs.String("preset", "", "composite or preset whose parameters the grid sets: "+strings.Join(compositeNames(), ", "))
	rules := fs.String("rules", "", "rule-map template with {name} placeholders, e.g. '0:zbox(low=-2.1179,high=2.64);1-16:gamma({gamma});17-:epsilon({epsilon})'")
	var grids listFlag
	fs.Var(&grids, "grid", "grid axis NAME=VALUES (repeatable); values: numbers, logspace(a,b,n), linspace(a,b,n)")
	low := fs.String("low", "", "box-rule lower bound for presets (default: the preprocessing's image of 0)")
	high := fs.String("high", "", "box-rule upper bound for presets (default: the preprocessing's image of 1)")
	batch := fs.Int("batch-size", 8, "images per work unit")
	patch := fs.Int("patch", 8, "patch size p")
	steps := fs.Int("steps", 0, "perturbation steps (default m+1)")
	perturb := fs.String("perturb", "inpaint", "how flipped patches are filled: "+modeNames())
	orders := fs.String("order", "morf,lrf", "orders to evaluate")
	seed := fs.Uint64("seed", 0, "seed")
	maxBatch := fs.Int("max-batch", 0, "inputs per forward pass when scoring (default: as many as keep the largest activation under 128 MB, at most 32)")
	out := fs.String("out", "", "results directory")
	resume := fs.Bool("resume", false, "continue a run whose results directory exists")
	shard := fs.String("shard", "", "this job's shard i/n (default: from SLURM_ARRAY_TASK_ID/COUNT, SGE_TASK_ID/LAST, or JOB_COMPLETION_INDEX with LRP_SHARDS)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("--out DIR is required")
	}
	if len(grids) == 0 {
		return fmt.Errorf("give at least one --grid NAME=VALUES")
	}
	var axes []sweep.Axis
	for _, g := range grids {
		a, err := sweep.ParseAxis(g)
		if err != nil {
			return err
		}
		axes = append(axes, a)
	}
	mode, orderList, err := parseFlipping(*perturb, *orders)
	if err != nil {
		return err
	}
	si, sn, err := shardOf(*shard, os.Getenv)
	if err != nil {
		return err
	}
	g, err := mf.load()
	if err != nil {
		return err
	}
	var src sweep.Source
	var in *inputSet
	switch {
	case *input != "" && *dataPath != "":
		return fmt.Errorf("give either --data or --input")
	case *input != "":
		if in, err = loadInputs(*input, nil, "", nil); err != nil {
			return err
		}
		n := in.x.Shape[0]
		if *limit > 0 && *limit < n {
			n = *limit
		}
		per := in.x.Len() / in.x.Shape[0]
		x := tensor.FromData(in.x.Data[:n*per], append([]int{n}, in.x.Shape[1:]...)...)
		src = &sweep.TensorSource{X: x, Names: in.names[:n]}
		in.x = x
	case *dataPath != "":
		paths, err := sweep.ListImages(*dataPath, *limit)
		if err != nil {
			return err
		}
		p, err := data.Lookup(*pre)
		if err != nil {
			return err
		}
		first, err := (&sweep.FileSource{Paths: paths[:1], Preprocess: p}).Batch(0, 1)
		if err != nil {
			return err
		}
		src = &sweep.FileSource{Paths: paths, Preprocess: p}
		in = &inputSet{x: first, names: paths[:1], pre: &p}
	default:
		emb := embeddedOf(*model)
		if emb == nil {
			return fmt.Errorf("give --data DIR|LIST or --input x.npy (only embedded models bring their own sample images)")
		}
		if in, err = sampleInputs(emb, emb.Preprocess); err != nil {
			return err
		}
		src = &sweep.TensorSource{X: in.x, Names: in.names}
	}
	mean, std, err := normalization(in, *norm)
	if err != nil {
		return err
	}
	if in.pre == nil {
		// .npy input: box bounds from the normalization that produced it.
		name := *norm
		if name == "" {
			name = map[bool]string{true: "mnist", false: "imagenet"}[in.x.Shape[1] == 1]
		}
		p, err := data.Lookup(name)
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
	warn(sweep.GridWarnings(g, tmpl, axes)...)
	cfg := sweep.Config{Graph: g, Model: *model, Template: tmpl, Axes: axes, Source: src, BatchSize: *batch,
		Eval:   eval.Config{Patch: *patch, Steps: *steps, Mode: mode, Seed: *seed, MaxBatch: *maxBatch, Mean: mean, Std: std},
		Orders: orderList, Shard: si, Shards: sn, Dir: *out, Resume: *resume, Progress: os.Stderr}
	if err := sweep.Run(cfg); err != nil {
		return err
	}
	if sn > 1 {
		fmt.Fprintf(stdout, "shard %d/%d done; combine the shards with: lrp sweep merge DIR...\n", si, sn)
		return nil
	}
	return summarize(stdout, *out, []string{*out})
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
	fs := newFlags("sweep merge", "DIR... [--out DIR]")
	out := fs.String("out", "", "write table.csv (and plots) into this directory (default: the first DIR)")
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
	return summarize(stdout, *out, dirs)
}

// summarize merges results, writes table.csv and prints the best points.
func summarize(stdout io.Writer, out string, dirs []string) error {
	t, err := sweep.Merge(dirs...)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := t.WriteCSV(&b); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	table := filepath.Join(out, "table.csv")
	if err := writeFileAtomic(table, b.Bytes()); err != nil {
		return err
	}
	morf, lrf, abpc := t.Best()
	fmt.Fprintf(stdout, "%d grid points × %d images; table: %s\n", len(t.Rows), t.Rows[0].Images, table)
	if morf >= 0 {
		r := t.Rows[morf]
		fmt.Fprintf(stdout, "best MoRF (lowest AUC %.4f ± %.4f): %s\n", r.AUC["morf"], r.AUCStd["morf"], r.Point.Label(t.Settings.Axes))
	}
	if lrf >= 0 {
		r := t.Rows[lrf]
		fmt.Fprintf(stdout, "best LRF (highest AUC %.4f ± %.4f): %s\n", r.AUC["lrf"], r.AUCStd["lrf"], r.Point.Label(t.Settings.Axes))
	}
	if abpc >= 0 {
		r := t.Rows[abpc]
		fmt.Fprintf(stdout, "best ABPC (%.4f): %s\n", *r.ABPC, r.Point.Label(t.Settings.Axes))
	}
	return plotSweep(t, out)
}
