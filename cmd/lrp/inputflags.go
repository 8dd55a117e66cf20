package main

import (
	"flag"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/xai-go/lrp"
	"github.com/xai-go/lrp/data"
	"github.com/xai-go/lrp/eval"
	"github.com/xai-go/lrp/models"
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// datasetFlags are the input flags of every command that takes images
// (predict, explain, evaluate, sweep): image files as arguments, a
// preprocessed --input tensor, or a --data set with its filters, and how
// images are preprocessed and batched. Declaring them once keeps the
// commands from drifting apart.
type datasetFlags struct {
	fs                               *flag.FlagSet
	input, preprocess, normalization *string
	path, classes, classIndex        *string
	limit, batch                     *int
	strict                           *bool
}

// addDatasetFlags adds the input flags; batch is --batch-size's default.
func addDatasetFlags(fs *flag.FlagSet, batch int) *datasetFlags {
	return &datasetFlags{
		fs:            fs,
		input:         fs.String("input", "", "input tensor N×C×H×W as .npy (already preprocessed)"),
		preprocess:    fs.String("preprocess", "", "preprocessing for images: "+strings.Join(data.Names(), ", ")+" (default: the embedded model's, else imagenet)"),
		normalization: fs.String("normalization", "", "preprocessing whose mean/std inpainting and box bounds undo for .npy input (default imagenet for 3 channels, mnist for 1)"),
		path:          fs.String("data", "", "dataset: an image folder (recursive, sorted; class sub-folders as in ImageNet's validation layout) or a list file of \"path [label]\" lines"),
		classes:       fs.String("classes", "", "with --data: only these classes (comma-separated): class-folder names (e.g. n01629819) or class names of the model (e.g. axolotl)"),
		classIndex:    fs.String("class-index", "", "with --data: class-folder-to-index file (e.g. ImageNet synsets; default: sorted folder order)"),
		limit:         fs.Int("limit", 0, "with --data or --input: use at most this many images (default: all)"),
		batch:         fs.Int("batch-size", batch, "images per batch (memory grows with it)"),
		strict:        fs.Bool("strict", false, "with --data: stop at an unreadable image instead of skipping it"),
	}
}

// given reports whether the flag was set on the command line.
func given(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// check validates the input flags after parsing, given the image
// arguments: flags that do not apply to the chosen input are errors naming
// the flag (values outside their domain are refused by parse, flagDomains).
func (f *datasetFlags) check(images []string) error {
	sources := 0
	for _, ok := range []bool{*f.path != "", *f.input != "", len(images) > 0} {
		if ok {
			sources++
		}
	}
	if sources > 1 {
		return fmt.Errorf("give --data, --input or image files, not several")
	}
	if *f.path == "" {
		for _, name := range []string{"classes", "class-index", "strict"} {
			if given(f.fs, name) {
				return fmt.Errorf("--%s applies to --data", name)
			}
		}
		if given(f.fs, "limit") && *f.input == "" {
			return fmt.Errorf("--limit applies to --data and --input")
		}
	}
	return nil
}

// limitInputs keeps the first --limit inputs of a loaded set.
func (f *datasetFlags) limitInputs(in *inputSet) *inputSet {
	if *f.limit < 1 || in.x.Dims() < 1 || in.x.Shape[0] <= *f.limit {
		return in
	}
	n := *f.limit
	per := in.x.Len() / in.x.Shape[0]
	x := tensor.FromData(in.x.Data[:n*per], append([]int{n}, in.x.Shape[1:]...)...)
	return &inputSet{x: x, names: in.names[:n], pre: in.pre}
}

// listOptions turns the filters into data.ListOptions. Class values that
// name no class folder are looked up among labels (the model's class
// names, e.g. ImageNet's "axolotl") and mapped to the folder of that
// class index.
func (f *datasetFlags) listOptions(labels []string) (data.ListOptions, error) {
	opt := data.ListOptions{Limit: *f.limit}
	if *f.classIndex != "" {
		m, err := data.ReadClassIndex(*f.classIndex)
		if err != nil {
			return opt, err
		}
		opt.ClassIndex = m
	}
	if *f.classes == "" {
		return opt, nil
	}
	folders := classFolders(*f.path)
	index := opt.ClassIndex
	if index == nil {
		index = map[string]int{}
		for i, c := range folders {
			index[c] = i
		}
	}
	for _, c := range strings.Split(*f.classes, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		folder, err := resolveClass(c, folders, index, labels)
		if err != nil {
			return opt, fmt.Errorf("--classes %s: %w", c, err)
		}
		opt.Classes = append(opt.Classes, folder)
	}
	return opt, nil
}

// classFolders lists the sub-folders of a dataset folder, sorted (nil for
// a list file).
func classFolders(root string) []string {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	sort.Strings(dirs)
	return dirs
}

// resolveClass returns the class folder a --classes value names: the
// folder itself, or the folder whose class index is that of the label
// (compared case-insensitively).
func resolveClass(c string, folders []string, index map[string]int, labels []string) (string, error) {
	for _, f := range folders {
		if f == c {
			return c, nil
		}
	}
	for i, l := range labels {
		if !strings.EqualFold(l, c) {
			continue
		}
		for _, f := range folders {
			if j, ok := index[f]; ok && j == i {
				return f, nil
			}
		}
		return "", fmt.Errorf("class %d (%s) has no folder in the dataset", i, l)
	}
	if labels == nil {
		return "", fmt.Errorf("no such class folder")
	}
	return "", fmt.Errorf("neither a class folder nor a class name of the model")
}

// className names an item's class for tables: the model's label for the
// class index if known, else the class folder, else the index; "" for an
// unlabelled image.
func className(it data.Item, root string, labels []string) string {
	switch {
	case it.Label < 0:
		return ""
	case it.Label < len(labels):
		return labels[it.Label]
	}
	if st, err := os.Stat(root); err == nil && st.IsDir() {
		if rel, err := filepath.Rel(root, it.Path); err == nil {
			if dir, _, ok := strings.Cut(filepath.ToSlash(rel), "/"); ok {
				return dir
			}
		}
	}
	return fmt.Sprintf("class %d", it.Label)
}

// evalFlags are the pixel-flipping flags shared by evaluate and sweep,
// with the same defaults and the same validation.
type evalFlags struct {
	fs                     *flag.FlagSet
	patch, steps, maxBatch *int
	perturb, orders        *string
	metrics, precision     *string
	seed                   *uint64
}

// addEvalFlags adds the evaluation flags.
func addEvalFlags(fs *flag.FlagSet) *evalFlags {
	return &evalFlags{
		fs:        fs,
		patch:     fs.Int("patch", 0, "patch size p (default: the embedded model's, 4 for mnist; else 8 if it divides the image size, else the largest divisor of the size below 8)"),
		steps:     fs.Int("steps", 0, "perturbation steps (default m+1 = W/p + 1, ending with the midpoint step)"),
		perturb:   fs.String("perturb", "inpaint", "how flipped patches are filled: "+modeNames()),
		orders:    fs.String("order", "morf,lrf", "morf, lrf, random, or a comma-separated list (morf and lrf give the ABPC)"),
		seed:      fs.Uint64("seed", 0, "seed for random orders, random perturbation, random attribution and --random-init"),
		maxBatch:  fs.Int("max-batch", 0, "inputs per forward pass when scoring (default: as many as keep the largest activation under 128 MB, at most 32)"),
		precision: fs.String("precision", "fp32", "arithmetic of the forward passes that score perturbed inputs: fp32; bf16 (bfloat16 convolutions and linear layers with float32 sums); or winograd (float32, 3×3 convolutions by Winograd's F(4×4,3×3): 2× faster on VGG16, about 10× the rounding error). Relevance stays fp32"),
		metrics:   fs.String("metrics", "", "comma-separated further metrics, each per image and as a mean per method: "+eval.MetricNames()+" (see README, Pixel flipping)"),
	}
}

// metricList returns the metrics of --metrics, or none.
func (f *evalFlags) metricList() ([]eval.Metric, error) {
	if *f.metrics == "" {
		return nil, nil
	}
	m, err := eval.ParseMetrics(*f.metrics)
	if err != nil {
		return nil, fmt.Errorf("--metrics: %w", err)
	}
	return m, nil
}

// check validates the evaluation flags that do not depend on the input
// and returns the perturbation mode and the orders.
func (f *evalFlags) check() (eval.Mode, []eval.Order, error) {
	if _, err := nn.ParsePrecision(*f.precision); err != nil {
		return "", nil, fmt.Errorf("--precision %s: want fp32, bf16 or winograd", *f.precision)
	}
	return parseFlipping(*f.perturb, *f.orders)
}

// scorer returns the graph that scores perturbed inputs (eval.Config's
// Scorer): nil, g itself, for fp32; otherwise a copy of g in the chosen
// precision (bf16: convolutions and linear layers in bfloat16; winograd:
// 3×3 convolutions by Winograd's algorithm), so that relevance and
// targets still come from g in float32. It says on stderr when bf16 runs
// without the CPU's bfloat16 instructions.
func (f *evalFlags) scorer(g *nn.Graph) *nn.Graph {
	p, err := nn.ParsePrecision(*f.precision)
	if err != nil || p == nn.FP32 {
		return nil
	}
	if note := nn.BF16Note(); note != "" && p == nn.BF16 {
		fmt.Fprintln(os.Stderr, "lrp:", note)
	}
	return g.WithPrecision(p)
}

// config returns the evaluation settings for square images of the given
// size, the patch size chosen from the model (emb, may be nil) and the
// size when --patch was not given, and checks them (e.g. that the patch
// size divides the image size).
func (f *evalFlags) config(size int, emb *models.Embedded) (eval.Config, error) {
	mode, _, err := f.check()
	if err != nil {
		return eval.Config{}, err
	}
	cfg := eval.Config{Patch: *f.patch, Steps: *f.steps, Mode: mode, Seed: *f.seed, MaxBatch: *f.maxBatch}
	if cfg.Patch == 0 {
		cfg.Patch = eval.DefaultPatch(size)
		if emb != nil && emb.Patch > 0 && size%emb.Patch == 0 {
			cfg.Patch = emb.Patch
		}
	}
	if err := cfg.Validate(size); err != nil {
		var named []string
		for _, name := range []string{"patch", "steps"} {
			if given(f.fs, name) {
				named = append(named, "--"+name+" "+f.fs.Lookup(name).Value.String())
			}
		}
		if len(named) > 0 {
			err = fmt.Errorf("%s: %w", strings.Join(named, " "), err)
		}
		return cfg, err
	}
	return cfg, nil
}

// progressAttributor reports every attributed batch to a progress.
type progressAttributor struct {
	lrp.Attributor
	p *progress
}

// Attribute implements lrp.Attributor.
func (a progressAttributor) Attribute(x *tensor.T, targets []int) (*lrp.Result, error) {
	r, err := a.Attributor.Attribute(x, targets)
	if err == nil && x.Dims() > 0 {
		a.p.add(x.Shape[0])
	}
	return r, err
}

// readableImages checks the header of every image, as cheaply as that
// is, so that a sweep's work units hold the same images in every run:
// unreadable ones are skipped with a message, or with strict an error.
func readableImages(items []data.Item, strict bool) ([]data.Item, error) {
	var kept []data.Item
	for _, it := range items {
		err := func() error {
			f, err := os.Open(it.Path)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, _, err := image.DecodeConfig(f); err != nil {
				return fmt.Errorf("%s: %w", it.Path, err)
			}
			return nil
		}()
		if err != nil {
			if strict {
				return nil, err
			}
			fmt.Fprintf(progressOutput, "lrp: skipping %v\n", err)
			continue
		}
		kept = append(kept, it)
	}
	if len(kept) == 0 {
		return nil, fmt.Errorf("no readable image")
	}
	return kept, nil
}
