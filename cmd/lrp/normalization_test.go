package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/xai-go/lrp/data"
	"github.com/xai-go/lrp/models"
	"github.com/xai-go/lrp/tensor"
)

// maxRelDiff returns max |got - want| / max |want|.
func maxRelDiff(t *testing.T, got, want *tensor.T) float64 {
	t.Helper()
	if len(got.Data) != len(want.Data) {
		t.Fatalf("%d values, want %d", len(got.Data), len(want.Data))
	}
	var diff, scale float64
	for i, w := range want.Data {
		scale = max(scale, math.Abs(float64(w)))
		diff = max(diff, math.Abs(float64(got.Data[i])-float64(w)))
	}
	return diff / scale
}

// mnistNpy writes the first n embedded MNIST samples, preprocessed, as an
// N×1×28×28 .npy file.
func mnistNpy(t *testing.T, n int) string {
	t.Helper()
	emb, err := models.Lookup("mnist")
	if err != nil {
		t.Fatal(err)
	}
	samples, err := emb.Samples()
	if err != nil {
		t.Fatal(err)
	}
	pre, err := data.Lookup("mnist")
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(n, 1, 28, 28)
	for i := range n {
		xi, err := pre.Apply(samples[i].Image)
		if err != nil {
			t.Fatal(err)
		}
		copy(x.Data[i*784:], xi.Data)
	}
	path := filepath.Join(t.TempDir(), "x.npy")
	if err := tensor.SaveNpy(path, x); err != nil {
		t.Fatal(err)
	}
	return path
}

// MNIST's normalized images of 0 and 1, (0 - 0.1307)/0.3081 and
// (1 - 0.1307)/0.3081 from torchvision's MNIST constants, computed by
// python3 -c "print(-0.1307/0.3081, 0.8693/0.3081)".
const mnistLow, mnistHigh = "-0.424212917883804", "2.82148653034729"

// explain on .npy input without --low/--high derives the box bounds from
// --normalization, by default imagenet for 3 channels and mnist for 1:
// the same relevance as explicit bounds, and for the VGG input the
// PyTorch golden made with ImageNet's bounds.
func TestExplainNpyDefaultNormalization(t *testing.T) {
	dir := t.TempDir()
	explain := func(name string, args ...string) *tensor.T {
		t.Helper()
		out := filepath.Join(dir, name+".npy")
		if err := run(append(append([]string{"explain"}, args...), "--out", out), &bytes.Buffer{}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r, err := tensor.LoadNpy(out)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	vgg := []string{"--model", lrpData + "vgg.onnx", "--input", lrpData + "vgg.input.npy", "--composite", "epsilon-gamma-box"}
	golden, err := tensor.LoadNpy(lrpData + "vgg.epsilon-gamma-box.relevance.npy")
	if err != nil {
		t.Fatal(err)
	}
	explicit := explain("vgg-explicit", append(vgg, "--low", lrpData+"vgg.low.npy", "--high", lrpData+"vgg.high.npy")...)
	for name, extra := range map[string][]string{"vgg-default": nil, "vgg-named": {"--normalization", "imagenet"}} {
		got := explain(name, append(vgg, extra...)...)
		if d := maxRelDiff(t, got, explicit); d > 1e-6 {
			t.Errorf("%s: %g of max |R| from explicit bounds", name, d)
		}
		if d := maxRelDiff(t, got, golden); d > 1e-4 {
			t.Errorf("%s: %g of max |R| from the PyTorch golden", name, d)
		}
	}
	// A different normalization gives different bounds, hence relevance.
	if d := maxRelDiff(t, explain("vgg-mnist", append(vgg, "--normalization", "mnist")...), explicit); d < 1e-3 {
		t.Errorf("--normalization mnist on the VGG input: %g of max |R| from imagenet's bounds, want a difference", d)
	}

	x := mnistNpy(t, 3)
	for _, preset := range []string{"epsilon-gamma-box", "lrp-tutorial"} {
		base := []string{"--model", "mnist", "--input", x, "--composite", preset}
		want := explain("mnist-explicit-"+preset, append(base, "--low", mnistLow, "--high", mnistHigh)...)
		got := explain("mnist-default-"+preset, base...)
		if d := maxRelDiff(t, got, want); d > 1e-6 {
			t.Errorf("mnist %s: %g of max |R| from explicit bounds", preset, d)
		}
	}
}

// evaluate on .npy input without --low/--high derives the box bounds from
// the same default normalization: the same curves as explicit bounds.
func TestEvaluateNpyDefaultNormalization(t *testing.T) {
	dir := t.TempDir()
	evaluate := func(name string, args ...string) *orderResult {
		t.Helper()
		out := filepath.Join(dir, name+".json")
		args = append(append([]string{"evaluate", "--methods", "lrp:epsilon-gamma-box", "--patch", "4", "--order", "morf", "--perturb", "zero"}, args...), "--out", out)
		if err := run(args, &bytes.Buffer{}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var res evalResults
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		return res.Methods[0].Orders["morf"]
	}
	x := mnistNpy(t, 3)
	want := evaluate("explicit", "--model", "mnist", "--input", x, "--low", mnistLow, "--high", mnistHigh)
	got := evaluate("default", "--model", "mnist", "--input", x)
	if fmt.Sprint(got.Scores) != fmt.Sprint(want.Scores) {
		t.Errorf("mnist scores %v, with explicit bounds %v", got.Scores, want.Scores)
	}
	vgg := []string{"--model", lrpData + "vgg.onnx", "--input", lrpData + "vgg.input.npy"}
	want = evaluate("vgg-explicit", append(vgg, "--low", lrpData+"vgg.low.npy", "--high", lrpData+"vgg.high.npy")...)
	got = evaluate("vgg-default", vgg...)
	if fmt.Sprint(got.Scores) != fmt.Sprint(want.Scores) {
		t.Errorf("vgg scores %v, with explicit bounds %v", got.Scores, want.Scores)
	}
}
