package onnx_test

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/onnx"
	"github.com/xai-go/lrp/tensor"
)

// TestGoldenModelsBF16 runs the narrow golden architectures with
// convolutions and linear layers in bfloat16 and compares the logits with
// testdata/bf16, the same graphs evaluated in float64 with the operands of
// every Conv, Gemm and MatMul rounded to bfloat16 by PyTorch
// (gen_bf16_golden.py). Only the float32 sums differ from that golden (and,
// through them, rarely the rounding of a later layer's input), so per image
// the logits must agree within 0.3% of the largest |logit| (1% for
// densenet121, whose concatenations carry such flips far: it is 0.84% off
// also with the float32 path of the kernels, Sgemm on rounded operands, so
// this is not a kernel's error; the other nets are within 0.14%, most
// within 1e-6).
//
// The distance to the float32 result is not tested here: these nets have
// random (calibrated) weights and amplify rounding, so even the exact
// bfloat16 golden is 0.8% (alexnet) to 45% (mobilenet_v2) of max |logit|
// away from the float64 one; gen_bf16_golden.py prints the figures.
// Trained models are held to 1% in package models.
func TestGoldenModelsBF16(t *testing.T) {
	t.Logf("bfloat16 kernel: %s", nn.BF16Kernel())
	tested := 0
	for _, m := range readManifest(t) {
		if strings.HasPrefix(m.Name, "op_") {
			continue // single-operator nets: covered by the kernel tests
		}
		t.Run(m.Name, func(t *testing.T) {
			g, err := onnx.Load(filepath.Join(modelDir(), m.ONNX))
			if err != nil {
				t.Fatal(err)
			}
			x := load(t, m.Input)
			want, err := tensor.LoadNpy(filepath.Join("testdata", "bf16", m.Name+".logits.npy"))
			if err != nil {
				t.Fatal(err)
			}
			g.SetPrecision(nn.BF16)
			got := g.Run(x)
			if !tensor.SameShape(got.Shape, want.Shape) {
				t.Fatalf("logits shape %v, want %v", got.Shape, want.Shape)
			}
			n := want.Shape[0]
			per := len(want.Data) / n
			worst := 0.0
			for i := 0; i < n; i++ {
				var maxDiff, maxWant float64
				for j := i * per; j < (i+1)*per; j++ {
					maxDiff = max(maxDiff, math.Abs(float64(got.Data[j])-float64(want.Data[j])))
					maxWant = max(maxWant, math.Abs(float64(want.Data[j])))
				}
				worst = max(worst, maxDiff/maxWant)
			}
			t.Logf("worst per-image difference from the bf16 golden: %.3g of max |logit|", worst)
			limit := 0.003
			if m.Name == "densenet121" {
				limit = 0.01
			}
			if worst > limit {
				t.Errorf("bf16 logits differ from the bf16 golden by %.3g of max |logit| (limit %g)", worst, limit)
			}
			// Back in float32, the float64 golden's tolerance holds again.
			g.SetPrecision(nn.FP32)
			if d := relDiff(g.Run(x), load(t, m.Logits)); d > tolerance {
				t.Errorf("fp32 after bf16: differs from the float64 golden by %.3g", d)
			}
		})
		tested++
	}
	if tested < 3 {
		t.Fatalf("only %d architectures in the manifest", tested)
	}
}
