package main

import (
	"bufio"
	"fmt"
	"github.com/xai-go/lrp/internal/outfile"
	"github.com/xai-go/lrp/models"
	"github.com/xai-go/lrp/models/torchvision"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/xai-go/lrp"
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

func runLayers(args []string, stdout io.Writer) error {
	fs := newFlags("layers", "--model M [--composite NAME | --rules SPEC | --rules-file F]")
	mf := addModelFlags(fs)
	model := mf.name
	fs.Uint64("seed", 0, "seed for --random-init")
	rf := addRuleFlags(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	g, err := mf.load()
	if err != nil {
		return err
	}
	in := append([]int(nil), g.InputShape...)
	in[0] = 1
	shapes, err := g.Shapes(in)
	if err != nil {
		return fmt.Errorf("model %s: %w", modelName(*model), err)
	}
	// Bounds only matter for computing relevance, not for listing rules.
	if *rf.low == "" {
		*rf.low = "0"
	}
	if *rf.high == "" {
		*rf.high = "1"
	}
	m, err := rf.ruleMap(g, nil, in)
	if err != nil {
		return err
	}
	var rules []lrp.Rule
	if m != nil {
		e, err := lrp.NewExplainer(g, m)
		if err != nil {
			return err
		}
		g, rules = e.Graph, e.Rules
	}
	w := bufio.NewWriter(stdout)
	header := fmt.Sprintf("%-5s  %-32s  %-15s  %-15s", "index", "name", "type", "output shape")
	if rules != nil {
		header += "  rule"
	}
	fmt.Fprintln(w, strings.TrimRight(header, " "))
	fmt.Fprintf(w, "%-5s  %-32s  %-15s  %s\n", "-", g.InputName, "Input", tensor.ShapeString(in))
	for _, n := range g.Nodes {
		idx := "-"
		if n.Module > 0 || !moduleIndexed(g) {
			idx = fmt.Sprint(n.LayerIndex())
		}
		line := fmt.Sprintf("%-5s  %-32s  %-15s  %-15s", idx, n.Name, n.Type(), tensor.ShapeString(shapes[n.Output()]))
		if rules != nil && rules[n.Index] != nil {
			line += "  " + rules[n.Index].String()
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	return w.Flush()
}

func runPredict(args []string, stdout io.Writer) error {
	fs := newFlags("predict", "--model M (--input x.npy | IMAGE... | --data DIR|LIST) [--top 5] [--out logits.npy]")
	mf := addModelFlags(fs)
	model := mf.name
	fs.Uint64("seed", 0, "seed for --random-init")
	top := fs.Int("top", 5, "number of classes to print per input")
	out := fs.String("out", "", "write the logits N×K to this .npy file")
	labelsFile := fs.String("labels", "", "class names, one per line, or \"imagenet\" for the embedded ImageNet names")
	df := addDatasetFlags(fs, 16)
	input, pre := df.input, df.preprocess
	precision := fs.String("precision", "fp32", "arithmetic of convolutions and linear layers: fp32; bf16 (bfloat16 inputs and weights, float32 sums); or winograd (float32, 3×3 convolutions by Winograd's F(4×4,3×3))")
	images, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := df.check(images); err != nil {
		return err
	}
	if *df.normalization != "" {
		return fmt.Errorf("--normalization applies to explain, evaluate and sweep")
	}
	prec, err := nn.ParsePrecision(*precision)
	if err != nil {
		return fmt.Errorf("--precision: %w", err)
	}
	if *out != "" {
		if err := outfile.Check(*out); err != nil {
			return err
		}
	}
	g, err := mf.load()
	if err != nil {
		return err
	}
	if g.SetPrecision(prec); prec == nn.BF16 && nn.BF16Note() != "" {
		fmt.Fprintln(os.Stderr, "lrp:", nn.BF16Note())
	}
	emb := embeddedOf(*model)
	var labels []string
	if emb != nil {
		labels = emb.Labels
	}
	switch {
	case *labelsFile == "imagenet":
		labels = torchvision.ImageNetClasses()
	case *labelsFile != "":
		if labels, err = readLabels(*labelsFile); err != nil {
			return err
		}
	case isTorchvision(*model) && *mf.numClasses == 0:
		labels = torchvision.ImageNetClasses()
	}
	if *df.path != "" {
		return predictDataset(g, df, *pre, emb, labels, *top, *out, stdout)
	}
	in, err := loadInputs(*input, images, *pre, emb)
	if err != nil {
		return err
	}
	in = df.limitInputs(in)
	if err := g.CheckInput(in.x.Shape); err != nil {
		return fmt.Errorf("model %s: %w", modelName(*model), err)
	}
	logits, err := runBatched(g, in.x, *df.batch)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := tensor.SaveNpy(*out, logits); err != nil {
			return err
		}
	}
	printTop(stdout, in.names, logits, labels, *top)
	return nil
}

// predictDataset classifies a dataset batch by batch, printing as it goes
// and the accuracy at the end when labels are known. Ctrl-C stops after
// the current batch, keeping what is finished.
func predictDataset(g *nn.Graph, df *datasetFlags, pre string, emb *models.Embedded, labels []string, top int, out string, stdout io.Writer) error {
	ds, err := df.open(pre, emb)
	if err != nil {
		return err
	}
	var rows []float32
	classes, correct, labeled := 0, 0, 0
	err = ds.each(g, func(in *inputSet, truth []int) error {
		logits := g.Run(in.x)
		classes = logits.Len() / logits.Shape[0]
		printTop(stdout, in.names, logits, labels, top)
		rows = append(rows, logits.Data...)
		for i, t := range truth {
			if t < 0 {
				continue
			}
			labeled++
			if argmax(logits.Data[i*classes:(i+1)*classes]) == t {
				correct++
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s", ds.summary())
	if labeled > 0 {
		fmt.Fprintf(stdout, "; top-1 accuracy %.2f%% (%d/%d)", 100*float64(correct)/float64(labeled), correct, labeled)
	}
	fmt.Fprintln(stdout)
	if out != "" && classes > 0 {
		if err := tensor.SaveNpy(out, tensor.FromData(rows, len(rows)/classes, classes)); err != nil {
			return err
		}
	}
	return ds.stopped()
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// runBatched runs the graph over x in batches and joins the outputs.
func runBatched(g *nn.Graph, x *tensor.T, batch int) (*tensor.T, error) {
	n := x.Shape[0]
	per := x.Len() / n
	var out *tensor.T
	var prog *progress // only when there is more than one batch
	if n > batch {
		prog = newProgress(n)
	}
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		xb := tensor.FromData(x.Data[lo*per:hi*per], append([]int{hi - lo}, x.Shape[1:]...)...)
		y := g.Run(xb)
		if out == nil {
			out = tensor.New(append([]int{n}, y.Shape[1:]...)...)
		}
		copy(out.Data[lo*(y.Len()/(hi-lo)):], y.Data)
		if prog != nil {
			prog.add(hi - lo)
		}
	}
	return out, nil
}

func readLabels(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return lines, nil
}

// printTop prints the k highest logits of each input with their softmax
// probabilities.
func printTop(w io.Writer, names []string, logits *tensor.T, labels []string, k int) {
	n := logits.Shape[0]
	classes := logits.Len() / n
	k = min(k, classes)
	for i := 0; i < n; i++ {
		row := logits.Data[i*classes : (i+1)*classes]
		m := math.Inf(-1)
		for _, v := range row {
			m = max(m, float64(v))
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - m)
		}
		idx := make([]int, classes)
		for j := range idx {
			idx[j] = j
		}
		sort.SliceStable(idx, func(a, b int) bool { return row[idx[a]] > row[idx[b]] })
		fmt.Fprintf(w, "%s:\n", names[i])
		for r, c := range idx[:k] {
			label := ""
			if c < len(labels) {
				label = labels[c]
			}
			p := math.Exp(float64(row[c])-m) / sum
			fmt.Fprintf(w, "  %d. class %-5d logit %10.4f  p %.4f  %s\n", r+1, c, row[c], p, label)
		}
	}
}

// moduleIndexed reports whether the graph's layers carry PyTorch leaf-module
// indices (architectures built natively rather than imported from ONNX).
func moduleIndexed(g *nn.Graph) bool {
	for _, n := range g.Nodes {
		if n.Module > 0 {
			return true
		}
	}
	return false
}
