package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xai-go/lrp/tensor"
)

const lrpData = "../../testdata/models/"

// End to end: the CLI's relevance for the epsilon-plus composite matches
// the PyTorch golden of testdata, for the 2 inputs explained together
// and one at a time.
func TestExplainMatchesGolden(t *testing.T) {
	want, err := tensor.LoadNpy(lrpData + "vgg.epsilon-plus.relevance.npy")
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range []string{"8", "1"} {
		out := filepath.Join(t.TempDir(), "r.npy")
		err := run([]string{"explain", "--model", lrpData + "vgg.onnx", "--input", lrpData + "vgg.input.npy",
			"--composite", "epsilon-plus", "--batch-size", batch, "--out", out}, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := tensor.LoadNpy(out)
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.SameShape(got.Shape, want.Shape) {
			t.Fatalf("--batch-size %s: relevance %v, want %v", batch, got.Shape, want.Shape)
		}
		var diff, scale float64
		for i := range want.Data {
			diff = max(diff, math.Abs(float64(got.Data[i]-want.Data[i])))
			scale = max(scale, math.Abs(float64(want.Data[i])))
		}
		if diff > 1e-4*scale {
			t.Errorf("--batch-size %s: relevance differs from the golden by %.3g × max|R|", batch, diff/scale)
		}
	}
}

func TestExplainHeatmaps(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	err := run([]string{"explain", "--model", onnxModels + "vgg16.onnx", "--composite", "epsilon-gamma-box", "--out", dir,
		"../../data/testdata/astronaut.png"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"relevance.npy", "000-astronaut-heatmap.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestExplainBadInput(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.npy")
	base := []string{"explain", "--model", lrpData + "vgg.onnx", "--input", lrpData + "vgg.input.npy", "--out", out}
	for _, c := range []struct {
		extra []string
		want  string
	}{
		{[]string{"--composite", "nope"}, "unknown composite"},
		{[]string{"--rules", "0:gamma(0.25"}, "position"},
		{[]string{"--rules", "99:zero"}, "matches no"},
		{[]string{"--rules", "conv:zero", "--target", "10"}, "out of range"},
		{[]string{"--composite", "epsilon-gamma-box", "--normalization", "nope"}, "--normalization: data: preprocess \"nope\": unknown preprocessing"},
		{[]string{"--composite", "epsilon-gamma-box", "--low", "0", "--high", lrpData + "mlp.high.npy"}, "does not fit"},
		{[]string{"--method", "magic"}, "unknown method"},
		{[]string{"--composite", "epsilon-plus", "--batch-size", "0"}, "--batch-size"},
	} {
		err := run(append(append([]string{}, base...), c.extra...), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one containing %q", c.extra, err, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed run wrote its output")
	}
}

func TestLayersWithComposite(t *testing.T) {
	var stdout bytes.Buffer
	if err := run([]string{"layers", "--model", lrpData + "vgg.onnx", "--composite", "lrp-tutorial"}, &stdout); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"zbox(", "gamma(0.25,thesis)", "epsilon(0.25,thesis)"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("listing lacks %q", want)
		}
	}
}

// With no rule flags, method lrp explains with the default composite
// (epsilon-gamma-box): the PyTorch golden of that composite, given the
// golden's box bounds.
func TestExplainDefaultCompositeGolden(t *testing.T) {
	want, err := tensor.LoadNpy(lrpData + "vgg.epsilon-gamma-box.relevance.npy")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "r.npy")
	err = run([]string{"explain", "--model", lrpData + "vgg.onnx", "--input", lrpData + "vgg.input.npy",
		"--low", lrpData + "vgg.low.npy", "--high", lrpData + "vgg.high.npy", "--out", out}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := tensor.LoadNpy(out)
	if err != nil {
		t.Fatal(err)
	}
	// Tolerance 1e-4 of max |R|, as TestExplainMatchesGolden.
	var diff, scale float64
	for i, w := range want.Data {
		scale = max(scale, math.Abs(float64(w)))
		diff = max(diff, math.Abs(float64(got.Data[i])-float64(w)))
	}
	if diff > 1e-4*scale {
		t.Errorf("max difference %g of max |R| %g", diff, scale)
	}
}

// The first command a new user types: an embedded model, its sample
// images, no rule flags. The box bounds come from the model's
// preprocessing.
func TestExplainDefaultComposite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	var stdout bytes.Buffer
	if err := run([]string{"explain", "--model", "mnist", "--out", dir}, &stdout); err != nil {
		t.Fatal(err)
	}
	r, err := tensor.LoadNpy(filepath.Join(dir, "relevance.npy"))
	if err != nil {
		t.Fatal(err)
	}
	// The same as naming the default composite.
	dir2 := filepath.Join(t.TempDir(), "out")
	if err := run([]string{"explain", "--model", "mnist", "--composite", "epsilon-gamma-box", "--out", dir2}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	r2, err := tensor.LoadNpy(filepath.Join(dir2, "relevance.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Data, r2.Data) {
		t.Error("explain without rule flags differs from --composite epsilon-gamma-box")
	}
	pngs, _ := filepath.Glob(filepath.Join(dir, "*-heatmap.png"))
	if len(pngs) != r.Shape[0] || r.Shape[0] == 0 {
		t.Errorf("%d heatmaps for %d inputs", len(pngs), r.Shape[0])
	}
}

// --rules-file, as text and as JSON, gives the PyTorch golden of the rule
// map it holds.
func TestExplainRulesFile(t *testing.T) {
	want, err := tensor.LoadNpy(lrpData + "vgg.gamma-0.25.relevance.npy")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"rules.txt":  "# the gamma-0.25 golden\nconv:gamma(0.25)\nlinear:gamma(0.25)  # dense layers too\n\navgpool:zero\n",
		"rules.json": `[{"select": "conv", "rule": "gamma(0.25)"}, {"select": "linear", "rule": "gamma(0.25)"}, {"select": "avgpool", "rule": "zero"}]`,
	}
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, name+".npy")
		err := run([]string{"explain", "--model", lrpData + "vgg.onnx", "--input", lrpData + "vgg.input.npy",
			"--rules-file", path, "--out", out}, &bytes.Buffer{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := tensor.LoadNpy(out)
		if err != nil {
			t.Fatal(err)
		}
		// Tolerance 1e-4 of max |R|, the golden's.
		var diff, scale float64
		for i, w := range want.Data {
			scale = max(scale, math.Abs(float64(w)))
			diff = max(diff, math.Abs(float64(got.Data[i])-float64(w)))
		}
		if diff > 1e-4*scale {
			t.Errorf("%s: max difference %g of max |R| %g", name, diff, scale)
		}
	}
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("conv:gamma(0.25)\nlinear:nosuch\n"), 0o644)
	err = run([]string{"explain", "--model", lrpData + "vgg.onnx", "--input", lrpData + "vgg.input.npy",
		"--rules-file", bad, "--out", filepath.Join(dir, "bad.npy")}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "bad.txt: line 2") {
		t.Errorf("bad rules file: error %v, want one naming bad.txt: line 2", err)
	}
}
