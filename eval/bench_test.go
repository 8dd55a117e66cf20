package eval_test

import (
	"path/filepath"
	"testing"

	"github.com/xai-go/lrp/eval"
	"github.com/xai-go/lrp/onnx"
)

// BenchmarkMetricsSmall times the batched metrics on the golden small CNN
// (3 images of 3×32×32, patch 4, zero baseline), the setting
// bench/quantus_compare.py compares with Quantus.
func BenchmarkMetricsSmall(b *testing.B) {
	d := loadGolden(b)
	g, err := onnx.Load(filepath.Join("testdata", "cnn.onnx"))
	if err != nil {
		b.Fatal(err)
	}
	x, r, targets := d.x, d.r, d.Targets
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
