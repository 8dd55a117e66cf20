package onnx

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/xai-go/lrp/onnx/internal/onnxpb"
	"github.com/xai-go/lrp/tensor"
)

// ONNX's backend test data (Debian package libonnx-testdata): a model,
// inputs and expected outputs per operator case. Every case is imported
// (graph inputs after the first turned into initializers, since our graphs
// take one image input with constant weights) and run on its first input.
// Required: no panic; a case either fails with an error or matches its
// expected output within conformanceTol; and every case whose input is an
// image batch (rank 4, float32) and whose operators all appear in
// Operators() (the README's list) passes.
var conformanceDir = "/usr/share/libonnx-testdata/data"

const conformanceTol = 1e-4

// unsupportedForms are the image-batch cases of listed operators that use
// a form of the operator the README lists as unsupported, with the text
// their error must contain. It is empty now: every such case passes. It
// stays as the one place to list a form the README excludes; the test then
// requires that case to keep failing with that text.
var unsupportedForms = map[string]string{}

type conformanceCase struct {
	dir        string
	ops        []string
	opset      int64
	imageBatch bool // first input is rank-4 float32
	listed     bool // every operator is in Operators()
}

type conformanceResult int

const (
	resPass    conformanceResult = iota
	resRefused                   // clear error
	resWrong                     // ran, wrong output
	resPanic
)

func TestONNXConformance(t *testing.T) {
	if _, err := os.Stat(conformanceDir); err != nil {
		t.Skipf("ONNX backend test data not installed (%v); apt-get install libonnx-testdata", err)
	}
	// Listed: the README's layer operators, which take image-dependent
	// inputs; the folded ones work on constants only (and Constant has no
	// inputs).
	layers, _ := Operators()
	supported := map[string]bool{"Constant": true}
	for _, op := range layers {
		supported[op] = true
	}
	var dirs []string
	for _, suite := range []string{"node", "pytorch-converted", "pytorch-operator", "simple"} {
		ds, _ := filepath.Glob(filepath.Join(conformanceDir, suite, "*", "model.onnx"))
		for _, d := range ds {
			dirs = append(dirs, filepath.Dir(d))
		}
	}
	sort.Strings(dirs)
	if len(dirs) < 500 {
		t.Fatalf("only %d cases under %s", len(dirs), conformanceDir)
	}
	counts := map[conformanceResult]int{}
	var imageListed, imageListedPass int
	for _, dir := range dirs {
		name := strings.TrimPrefix(dir, conformanceDir+"/")
		c, res, err := runConformanceCase(dir, supported)
		counts[res]++
		if c == nil {
			continue
		}
		switch res {
		case resPanic:
			t.Errorf("%s: panic: %v", name, err)
		case resWrong:
			t.Errorf("%s: silently wrong output: %v", name, err)
		case resRefused:
			if !namesCause(err, c.ops) {
				t.Errorf("%s: refused with an error that names no operator, graph input, output or initializer, or opset: %v", name, err)
			}
		}
		if c.imageBatch && c.listed {
			imageListed++
			base := filepath.Base(dir)
			switch want, excluded := unsupportedForms[base]; {
			case excluded && res == resPass:
				t.Errorf("%s: passes; remove it from unsupportedForms (and the README's exceptions)", name)
			case excluded && (err == nil || !strings.Contains(err.Error(), want)):
				t.Errorf("%s: error %q does not say %q", name, err, want)
			case res == resPass:
				imageListedPass++
			case !excluded:
				t.Errorf("%s: image-batch case of listed operators %v (opset %d) does not pass: %v", name, c.ops, c.opset, err)
			}
		}
		if testing.Verbose() && res != resPass && c.listed {
			t.Logf("%s %v: %v", name, c.ops, err)
		}
	}
	t.Logf("%d cases: %d pass, %d refused with an error, %d wrong, %d panics; image-batch cases of listed operators: %d of %d pass (%d use forms the README excludes)",
		len(dirs), counts[resPass], counts[resRefused], counts[resWrong], counts[resPanic], imageListedPass, imageListed, len(unsupportedForms))
}

// runConformanceCase imports and runs one case. c is nil if the case's
// files cannot be read (not counted).
func runConformanceCase(dir string, supported map[string]bool) (c *conformanceCase, res conformanceResult, err error) {
	b, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return nil, resRefused, err
	}
	m, err := onnxpb.DecodeModel(b)
	if err != nil {
		return &conformanceCase{dir: dir}, resRefused, fmt.Errorf("onnx: %w", err)
	}
	c = &conformanceCase{dir: dir, listed: true}
	c.opset, _ = m.OpsetVersion("")
	if m.Graph == nil {
		return c, resRefused, fmt.Errorf("onnx: no graph")
	}
	for _, n := range m.Graph.Nodes {
		if !slices.Contains(c.ops, n.OpType) {
			c.ops = append(c.ops, n.OpType)
		}
		if !supported[n.OpType] || n.Domain != "" && n.Domain != "ai.onnx" {
			c.listed = false
		}
	}
	inputs, err := readPBs(filepath.Join(dir, "test_data_set_0", "input_*.pb"))
	if err != nil || len(inputs) == 0 {
		return nil, resRefused, err
	}
	outputs, err := readPBs(filepath.Join(dir, "test_data_set_0", "output_*.pb"))
	if err != nil || len(outputs) == 0 {
		return nil, resRefused, err
	}
	c.imageBatch = len(inputs[0].Dims) == 4 && inputs[0].DataType == onnxpb.Float
	defer func() {
		if r := recover(); r != nil {
			res, err = resPanic, fmt.Errorf("%v\n%s", r, debug.Stack())
		}
	}()
	// Graph inputs that are not initializers, in order, match input_N.pb.
	inits := map[string]bool{}
	for _, t := range m.Graph.Initializers {
		inits[t.Name] = true
	}
	k := 0
	for _, in := range m.Graph.Inputs {
		if inits[in.Name] {
			continue
		}
		if k > 0 && k < len(inputs) && in.Type != nil { // not sequences or optionals
			t := *inputs[k]
			t.Name = in.Name
			m.Graph.Initializers = append(m.Graph.Initializers, &t)
		}
		k++
	}
	if len(outputs) != len(m.Graph.Outputs) {
		return c, resRefused, fmt.Errorf("onnx: %d expected outputs for %d graph outputs", len(outputs), len(m.Graph.Outputs))
	}
	// Our graphs have one output: a case with several is run once per
	// output, the graph cut to that output, and passes if all match.
	all := m.Graph.Outputs
	defer func() { m.Graph.Outputs = all }()
	for k := range outputs {
		if len(all) > 1 {
			m.Graph.Outputs = all[k : k+1]
		}
		g, err := convert(m)
		if err != nil {
			return c, resRefused, err
		}
		x, err := tensorValue(inputs[0])
		if err != nil || x.isInt() {
			return c, resRefused, fmt.Errorf("onnx: input of type %v", inputs[0].DataType)
		}
		xt := x.tensor()
		if err := g.CheckInput(xt.Shape); err != nil {
			return c, resRefused, fmt.Errorf("nn: %w", err)
		}
		got := g.Run(xt)
		want, err := tensorValue(outputs[k])
		if err != nil {
			return c, resRefused, err
		}
		wt := want.tensor()
		if !tensor.SameShape(got.Shape, wt.Shape) {
			return c, resWrong, fmt.Errorf("output %d: shape %v, want %v", k, got.Shape, wt.Shape)
		}
		for i, v := range wt.Data {
			d := math.Abs(float64(got.Data[i]) - float64(v))
			if !(d <= conformanceTol*(1+math.Abs(float64(v)))) {
				return c, resWrong, fmt.Errorf("output %d: element %d = %g, want %g", k, i, got.Data[i], v)
			}
		}
	}
	return c, resPass, nil
}

// namesCause reports whether err is a package error that names what is not
// supported: one of the model's operators, a graph input, output or
// initializer, or the opset.
func namesCause(err error, ops []string) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "onnx:") && !strings.HasPrefix(msg, "nn:") {
		return false
	}
	for _, op := range ops {
		if strings.Contains(msg, "("+op+")") || strings.Contains(msg, "operator "+op) {
			return true
		}
	}
	for _, s := range []string{"graph input", "graph output", "graph must have", "opset", "initializer"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// readPBs reads the TensorProto files matching pattern, in numeric order.
func readPBs(pattern string) ([]*onnxpb.Tensor, error) {
	files, _ := filepath.Glob(pattern)
	sort.Slice(files, func(i, j int) bool {
		return len(files[i]) < len(files[j]) || len(files[i]) == len(files[j]) && files[i] < files[j]
	})
	var out []*onnxpb.Tensor
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		t, err := onnxpb.DecodeTensor(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, t)
	}
	return out, nil
}
