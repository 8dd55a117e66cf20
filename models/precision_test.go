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
func TestSamplesBF16(t *testing.T) {
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
			g.SetPrecision(nn.BF16)
			logits := g.Run(x)
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
					t.Errorf("%s: bf16 predicts %d, PyTorch float32 %d", s.Name, c, wc)
				}
			}
			t.Logf("kernel %s: worst per-sample |bf16 logit − PyTorch fp32| = %.3g of max |logit|", nn.BF16Kernel(), worst)
			if worst > 0.01 {
				t.Errorf("bf16 logits differ from PyTorch's float32 by %.3g of max |logit| (limit 0.01)", worst)
			}
		})
	}
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
