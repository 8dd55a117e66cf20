package onnx_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xai-go/lrp/nn"
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
			// The attention's out_proj, exported as Reshape → Gemm on the
			// tokens of all samples, multiplies them by one GEMM; the
			// classifier head's rows are samples.
			for _, n := range g.Nodes {
				if l, ok := n.Layer.(*nn.Linear); ok && l.TokenRows != strings.HasSuffix(n.Name, ".out_proj") {
					t.Errorf("%s: TokenRows = %v", n.Name, l.TokenRows)
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

// A ViT whose GELU or LayerNorm cannot be imported is reported, not
// half-imported; an image of the wrong size is refused before running.
func TestViTErrors(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata/vit", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range []struct {
		file, from, to, want string
	}{
		{"vit_p8_op13.onnx", "Erf", "Erx", "unsupported operator Erx"},
		{"vit_p8_op17.onnx", "LayerNormalization", "LayerNormalizatiox", "unsupported operator LayerNormalizatiox"},
		{"vit_p8_op17.onnx", "Softmax", "Softmix", "unsupported operator Softmix"},
	} {
		_, err := onnx.Decode(bytes.ReplaceAll(read(c.file), []byte(c.from), []byte(c.to)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s with %s: error %v, want %q", c.file, c.to, err, c.want)
		}
	}
	g, err := onnx.Decode(read("vit_p8_op17.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.CheckInput([]int{1, 3, 64, 64}); err == nil {
		t.Error("a 64×64 image accepted by a 32×32 ViT")
	}
}
