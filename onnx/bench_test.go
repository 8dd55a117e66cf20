package onnx_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/xai-go/lrp"
	"github.com/xai-go/lrp/onnx"
	"github.com/xai-go/lrp/tensor"
)

// BenchmarkFull times forward passes and epsilon-gamma-box explanations of
// the full-size models written by
//
//	/usr/bin/python3 onnx/testdata/gen_golden.py --full /tmp/full
//	LRP_FULL_MODELS=/tmp/full go test ./onnx -run '^$' -bench Full
//
// and is skipped without them.
func BenchmarkFull(b *testing.B) {
	dir := os.Getenv("LRP_FULL_MODELS")
	if dir == "" {
		b.Skip("LRP_FULL_MODELS not set")
	}
	for _, name := range []string{"vgg16_full", "resnet50_full"} {
		g, err := onnx.Load(filepath.Join(dir, name+".onnx"))
		if err != nil {
			b.Fatal(err)
		}
		low := tensor.FromData([]float32{-2.1179}, 1)
		high := tensor.FromData([]float32{2.64}, 1)
		c, _ := lrp.LookupComposite("epsilon-gamma-box")
		rm, err := c.Build(g, lrp.Params{Low: low, High: high})
		if err != nil {
			b.Fatal(err)
		}
		e, err := lrp.NewExplainer(g, rm)
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range []int{1, 8} {
			x := tensor.New(n, 3, 224, 224)
			for i := range x.Data {
				x.Data[i] = float32(i%251)/125 - 1
			}
			b.Run(name+"/forward/batch"+itoa(n), func(b *testing.B) {
				for b.Loop() {
					g.Run(x)
				}
				b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N*n), "s/image")
			})
			b.Run(name+"/explain-epsilon-gamma-box/batch"+itoa(n), func(b *testing.B) {
				for b.Loop() {
					if _, err := e.Explain(x, lrp.Options{}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N*n), "s/image")
			})
		}
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
