package kernels

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// bf16Shapes are GEMM shapes of the bfloat16 benchmarks: 2048³ and
// VGG16's convolutions at 224×224 as nn runs them (m output channels, k =
// input channels × 9, n = output pixels of a 56×56 or 28×28 map or a 14×14
// map's full plane).
var bf16Shapes = []struct {
	name    string
	m, n, k int
}{
	{"2048", 2048, 2048, 2048},
	{"vgg-conv3", 256, 3136, 2304},
	{"vgg-conv4", 512, 784, 4608},
	{"vgg-conv5", 512, 196, 4608},
}

// BenchmarkGemmBF16 runs GemmBF16Packed (A packed once, as nn does with
// weights) on every bfloat16 path of the machine, with the float32 Sgemm
// beside it as the baseline.
func BenchmarkGemmBF16(b *testing.B) {
	for _, s := range bf16Shapes {
		a, bb, c := benchMatrices(s.m, s.n, s.k)
		pa := PackBF16(false, s.m, s.k, a, s.k)
		for _, path := range bf16Paths() {
			if strings.HasSuffix(path.name, "-emulated") {
				continue
			}
			b.Run(fmt.Sprintf("%s/%s", s.name, path.name), func(b *testing.B) {
				restore := path.set()
				defer restore()
				b.ReportAllocs()
				for b.Loop() {
					GemmBF16Packed(pa, 0, s.m, false, s.n, bb, s.n, 0, c, s.n)
				}
				reportGFLOPS(b, s.m, s.n, s.k)
			})
		}
		b.Run(s.name+"/sgemm", func(b *testing.B) {
			for b.Loop() {
				Sgemm(false, false, s.m, s.n, s.k, 1, a, s.k, bb, s.n, 0, c, s.n)
			}
			reportGFLOPS(b, s.m, s.n, s.k)
		})
	}
}

// BenchmarkGemmBF16Panels runs GemmBF16Panels at the shape of VGG16's
// second classifier layer (4096×4096 weights) for batches of 1 and 8, the
// float32 Sgemm beside it.
func BenchmarkGemmBF16Panels(b *testing.B) {
	const k, n = 4096, 4096
	for _, m := range []int{1, 8} {
		a, bb, c := benchMatrices(m, n, k)
		pb := PackBF16Panels(false, k, n, bb, n)
		for _, path := range bf16Paths() {
			if strings.HasSuffix(path.name, "-emulated") {
				continue
			}
			b.Run(fmt.Sprintf("m=%d/%s", m, path.name), func(b *testing.B) {
				restore := path.set()
				defer restore()
				for b.Loop() {
					GemmBF16Panels(m, a, k, pb, 0, c, n)
				}
				reportGFLOPS(b, m, n, k)
			})
		}
		b.Run(fmt.Sprintf("m=%d/sgemm", m), func(b *testing.B) {
			for b.Loop() {
				Sgemm(false, false, m, n, k, 1, a, k, bb, n, 0, c, n)
			}
			reportGFLOPS(b, m, n, k)
		})
	}
}

// BenchmarkPeakBF16 measures the bfloat16 peak of the machine with
// register-only loops on one and on Threads() goroutines: 24 independent
// VDPBF16PS (1,536 flops per iteration) and, where AMX is usable, four
// TDPBF16PS (4 × 16·16·32·2 = 65,536 flops per iteration).
func BenchmarkPeakBF16(b *testing.B) {
	type peak struct {
		name  string
		ok    bool
		flops float64
		iters int
		run   func(int)
	}
	for _, p := range []peak{
		{"avx512bf16", hasPeakBF16(), 1536, 1 << 20, peakBF16},
		{"amx", hasPeakAMX(), 65536, 1 << 14, peakAMX},
	} {
		for _, threads := range []int{1, Threads()}[:min(2, Threads())] {
			b.Run(fmt.Sprintf("%s/threads=%d", p.name, threads), func(b *testing.B) {
				if !p.ok {
					b.Skip("not available on this machine and build")
				}
				for b.Loop() {
					var wg sync.WaitGroup
					for range threads {
						wg.Go(func() { p.run(p.iters) })
					}
					wg.Wait()
				}
				b.ReportMetric(p.flops*float64(p.iters)*float64(threads)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
