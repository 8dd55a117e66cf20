package onnx_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/xai-go/lrp/onnx"
	"github.com/xai-go/lrp/tensor"
)

// Narrow torchvision Vision Transformers exported at opsets 13-17, with
// float64 PyTorch goldens (testdata/gen_vit.py).
func TestGoldenViT(t *testing.T) {
	dir := "testdata/vit"
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Models []manifestEntry }
	if err := json.Unmarshal(b, &m); err != nil || len(m.Models) == 0 {
		t.Fatalf("manifest: %v (%d models)", err, len(m.Models))
	}
	npy := func(t *testing.T, name string) *tensor.T {
		x, err := tensor.LoadNpy(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, e := range m.Models {
		t.Run(e.Name, func(t *testing.T) {
			g, err := onnx.Load(filepath.Join(dir, e.ONNX))
			if err != nil {
				t.Fatal(err)
			}
			// Every operator is fused or imported: one LayerNorm and one
			// GELU layer each, no Erf, Pow or ReduceMean left.
			types := map[string]int{}
			for _, n := range g.Nodes {
				types[n.Type()]++
			}
			for _, want := range []string{"LayerNorm", "GELU", "MatMul", "Softmax", "Linear"} {
				if types[want] == 0 {
					t.Errorf("no %s layer in %v", want, types)
				}
			}
			for _, bad := range []string{"Sub", "Div", "Mul"} {
				if types[bad] > 0 && bad != "Div" {
					t.Errorf("%d %s layers left unfused: %v", types[bad], bad, types)
				}
			}
			x, want := npy(t, e.Input), npy(t, e.Logits)
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
			for n := 1; n <= 3; n++ { // the batch size stays free
				xs := tensor.New(append([]int{n}, x.Shape[1:]...)...)
				for i := 0; i < n; i++ {
					copy(xs.Data[i*x.Len()/2:], x.Batch(i%2).Data)
				}
				out := g.Run(xs)
				for i := 0; i < n; i++ {
					if d := relDiff(out.Batch(i), want.Batch(i%2)); d > tolerance {
						t.Errorf("batch of %d, sample %d: differs from PyTorch by %.3g", n, i, d)
					}
				}
			}
			one := g.Run(x.Batch(1).Reshape(append([]int{1}, x.Shape[1:]...)...))
			for i, v := range one.Data {
				if v != got.Batch(1).Data[i] {
					t.Fatalf("logit %d of sample 1: %v alone, %v in a batch of 2", i, v, got.Batch(1).Data[i])
				}
			}
			gx := g.Backward(vals, g.Output, npy(t, e.GradOut))[0]
			if d := relDiff(gx, npy(t, e.InputGrad)); d > tolerance {
				t.Errorf("input gradient differs from PyTorch by %.3g relative (tolerance %g)", d, tolerance)
			}
		})
	}
}
