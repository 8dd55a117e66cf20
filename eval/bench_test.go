package eval_test

import (
	"path/filepath"
	"testing"

	"github.com/xai-go/lrp/eval"
	"github.com/xai-go/lrp/onnx"
	"github.com/xai-go/lrp/tensor"
)

// BenchmarkMetricsSmall times the batched metrics on the golden small CNN
// (3 images of 3×32×32, patch 4, zero baseline), the setting
// bench/quantus_compare.py compares with Quantus.
func BenchmarkMetricsSmall(b *testing.B) {
	g, err := onnx.Load(filepath.Join("testdata", "cnn.onnx"))
	if err != nil {
		b.Fatal(err)
	}
	x, err := tensor.LoadNpy(filepath.Join("testdata", "input.npy"))
	if err != nil {
		b.Fatal(err)
	}
	r, err := tensor.LoadNpy(filepath.Join("testdata", "relevance.npy"))
	if err != nil {
		b.Fatal(err)
	}
	targets := make([]int, x.Shape[0])
	cfg := eval.Config{Patch: 4, Mode: eval.Zero}
	b.Run("selectivity", func(b *testing.B) {
		for b.Loop() {
			if _, err := eval.Selectivity(g, x, r, targets, cfg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sensitivity-n", func(b *testing.B) {
		for b.Loop() {
			if _, err := eval.SensitivityN(g, x, r, targets, cfg, eval.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
