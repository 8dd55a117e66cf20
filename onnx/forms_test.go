package onnx_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xai-go/lrp/onnx"
	"github.com/xai-go/lrp/tensor"
)

// TestOperatorForms checks operator forms torch.onnx.export does not write
// (auto_pad SAME_*/VALID on Conv and pooling, Pad's reflect and edge modes,
// opsets below 7 with their attribute forms) against PyTorch float64
// outputs from onnx/testdata/gen_forms.py, and that training-mode Dropout
// and BatchNormalization, a batch-mixing Flatten and a too-wide reflect
// Pad are refused with an error that says why.
func TestOperatorForms(t *testing.T) {
	b, err := os.ReadFile("testdata/forms/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Cases []struct {
			Name, ONNX, Input, Output string
		}
		Refused []struct {
			Name, ONNX, Error string
		}
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Cases) < 17 || len(m.Refused) < 5 {
		t.Fatalf("%d cases and %d refusals in the manifest", len(m.Cases), len(m.Refused))
	}
	npy := func(t *testing.T, p string) *tensor.T {
		x, err := tensor.LoadNpy(filepath.Join("testdata", p))
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, c := range m.Cases {
		t.Run(c.Name, func(t *testing.T) {
			g, err := onnx.Load(filepath.Join("testdata", c.ONNX))
			if err != nil {
				t.Fatal(err)
			}
			got, want := g.Run(npy(t, c.Input)), npy(t, c.Output)
			if !tensor.SameShape(got.Shape, want.Shape) {
				t.Fatalf("output shape %v, want %v", got.Shape, want.Shape)
			}
			scale := 1.0
			for _, v := range want.Data {
				scale = max(scale, math.Abs(float64(v)))
			}
			for i, v := range want.Data {
				if d := math.Abs(float64(got.Data[i]) - float64(v)); !(d <= 1e-4*scale) {
					t.Fatalf("output element %d = %g, want %g", i, got.Data[i], v)
				}
			}
		})
	}
	for _, c := range m.Refused {
		t.Run(c.Name, func(t *testing.T) {
			_, err := onnx.Load(filepath.Join("testdata", c.ONNX))
			if err == nil || !strings.Contains(err.Error(), c.Error) {
				t.Errorf("error %v, want one containing %q", err, c.Error)
			}
		})
	}
}

// A model with a form that mixes the samples of a batch is imported with
// its declared batch size fixed: other batch sizes are refused, not run.
func TestBatchCoupledFixesBatch(t *testing.T) {
	for _, name := range []string{"flatten_axis2", "matmul_4d_per_sample", "maxpool_indices_order0", "layernorm_axis0_out0", "gather_batch"} {
		g, err := onnx.Load(filepath.Join("testdata/forms", name+".onnx"))
		if err != nil {
			t.Fatal(err)
		}
		if err := g.CheckInput([]int{2, 3, 7, 8}); err != nil {
			t.Errorf("%s: batch 2: %v", name, err)
		}
		err = g.CheckInput([]int{1, 3, 7, 8})
		if err == nil || !strings.Contains(err.Error(), "does not fit the model's input 2x3x7x8") {
			t.Errorf("%s: batch 1: error %v", name, err)
		}
	}
	// A stack of matrices whose first dimension is 1 keeps the batch free.
	g, err := onnx.Load("testdata/forms/matmul_4d.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.CheckInput([]int{5, 3, 7, 8}); err != nil {
		t.Errorf("matmul_4d: batch 5: %v", err)
	}
}
