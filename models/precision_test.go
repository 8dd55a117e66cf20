package models

import (
	"image"
	"math"
	"testing"

	"github.com/xai-go/lrp/nn"
)

// TestSamplesBF16 runs the embedded models on their samples with
// convolutions and linear layers in bfloat16: every sample's class is the
// one PyTorch's float32 model gives (train/sample_logits.json) and its
// logits are within 1% of its largest |logit| of PyTorch's.
func TestSamplesBF16(t *testing.T) { testSamplesAt(t, nn.BF16, 0.01) }

// TestSamplesWinograd is TestSamplesBF16 with the 3×3 convolutions by
// Winograd's F(4×4, 3×3): the logits are within 5e-6 of the largest
// |logit| of PyTorch's float32 ones (measured: 5.6e-7; the float32 path's
// 3.3e-7, TestSamples), and they differ from the float32 path's in some model (the
// algorithm ran).
func TestSamplesWinograd(t *testing.T) {
	if !testSamplesAt(t, nn.Winograd, 5e-6) {
		t.Error("no embedded model has a layer that runs by Winograd")
	}
}

// testSamplesAt checks the samples' logits in precision p against
// PyTorch's float32 ones, and reports whether any differs from the float32
// path's.
func testSamplesAt(t *testing.T, prec nn.Precision, limit float64) (changed bool) {
	ref := readReference(t)
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			e, err := Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			g, err := e.Graph()
			if err != nil {
				t.Fatal(err)
			}
			p, err := e.Preprocessing()
			if err != nil {
				t.Fatal(err)
			}
			samples, err := e.Samples()
			if err != nil {
				t.Fatal(err)
			}
			want := ref[name]
			if len(want) != len(samples) {
				t.Fatalf("%d samples, %d reference samples", len(samples), len(want))
			}
			imgs := make([]image.Image, len(samples))
			for i, s := range samples {
				imgs[i] = s.Image
			}
			x, err := p.Batch(imgs)
			if err != nil {
				t.Fatal(err)
			}
			fp32 := g.Run(x)
			g.SetPrecision(prec)
			logits := g.Run(x)
			for i, v := range fp32.Data {
				changed = changed || v != logits.Data[i]
			}
			worst := 0.0
			for i, s := range samples {
				got := logits.Data[i*10 : (i+1)*10]
				var maxDiff, maxWant float64
				for j, w := range want[i].Logits {
					maxDiff = max(maxDiff, math.Abs(float64(got[j])-w))
					maxWant = max(maxWant, math.Abs(w))
				}
				worst = max(worst, maxDiff/maxWant)
				if c, wc := argmax(got), argmaxF64(want[i].Logits); c != wc {
					t.Errorf("%s: %v predicts %d, PyTorch float32 %d", s.Name, prec, c, wc)
				}
			}
			t.Logf("%v (bf16 kernel %s): worst per-sample |logit − PyTorch fp32| = %.3g of max |logit|", prec, nn.BF16Kernel(), worst)
			if worst > limit {
				t.Errorf("%v logits differ from PyTorch's float32 by %.3g of max |logit| (limit %g)", prec, worst, limit)
			}
		})
	}
	return changed
}

func argmaxF64(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
