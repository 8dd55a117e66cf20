package onnx_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/xai-go/lrp/onnx"
	"github.com/xai-go/lrp/tensor"
)

// Golden models: narrow torchvision architectures and single-operator nets
// exported by torch.onnx.export, with logits and input gradients computed by
// PyTorch in float64 (testdata/gen_golden.py, see testdata/README.md).

type manifestEntry struct {
	Name      string `json:"name"`
	ONNX      string `json:"onnx"`
	Opset     int    `json:"opset"`
	Input     string `json:"input"`
	Logits    string `json:"logits"`
	GradOut   string `json:"gradout"`
	InputGrad string `json:"inputgrad"`
}

// modelDir is the committed golden directory, or the one named by
// LRP_FULL_MODELS (full-size models written by gen_golden.py --full).
func modelDir() string {
	if d := os.Getenv("LRP_FULL_MODELS"); d != "" {
		return d
	}
	return "testdata/models"
}

func readManifest(t *testing.T) []manifestEntry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(modelDir(), "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Models []manifestEntry `json:"models"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Models) == 0 {
		t.Fatal("manifest lists no models")
	}
	return m.Models
}

func load(t *testing.T, name string) *tensor.T {
	t.Helper()
	x, err := tensor.LoadNpy(filepath.Join(modelDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// relDiff returns max |got − want| / max |want|.
func relDiff(got, want *tensor.T) float64 {
	var maxDiff, maxWant float64
	for i, w := range want.Data {
		maxDiff = max(maxDiff, math.Abs(float64(got.Data[i])-float64(w)))
		maxWant = max(maxWant, math.Abs(float64(w)))
	}
	return maxDiff / maxWant
}

const tolerance = 1e-4 // max abs difference relative to the largest reference magnitude

func TestGoldenModels(t *testing.T) {
	for _, m := range readManifest(t) {
		t.Run(m.Name, func(t *testing.T) {
			g, err := onnx.Load(filepath.Join(modelDir(), m.ONNX))
			if err != nil {
				t.Fatal(err)
			}
			x := load(t, m.Input)
			want := load(t, m.Logits)
			if err := g.CheckInput(x.Shape); err != nil {
				t.Fatal(err)
			}
			vals := g.Forward(x)
			got := vals[g.Output]
			if !tensor.SameShape(got.Shape, want.Shape) {
				t.Fatalf("logits shape %v, want %v", got.Shape, want.Shape)
			}
			if d := relDiff(got, want); d > tolerance {
				t.Errorf("logits differ from PyTorch by %.3g relative (tolerance %g)", d, tolerance)
			}
			// The first sample alone gives the same logits: the batch size is free.
			one := g.Run(x.Batch(0).Reshape(append([]int{1}, x.Shape[1:]...)...))
			if d := relDiff(one, want.Batch(0).Reshape(one.Shape...)); d > tolerance {
				t.Errorf("batch of 1 differs from PyTorch by %.3g relative", d)
			}
			if m.InputGrad == "" {
				return
			}
			gout := load(t, m.GradOut)
			wantGrad := load(t, m.InputGrad)
			gx := g.Backward(vals, g.Output, gout)[0]
			gradTol := tolerance
			if os.Getenv("LRP_FULL_MODELS") != "" {
				// Full-width nets: a few ReLU/max-pool gates flip between
				// float32 and float64; PyTorch's own float32 gradient is
				// 0.5% (VGG16) to 4% (ResNet50) off the float64 golden.
				gradTol = 0.1
			}
			if d := relDiff(gx, wantGrad); d > gradTol {
				t.Errorf("input gradient differs from PyTorch by %.3g relative (tolerance %g)", d, gradTol)
			}
		})
	}
}

func zeros(shape []int) *tensor.T { return tensor.New(shape...) }
