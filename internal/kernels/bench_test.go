package kernels

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// benchShapes are square problems and convolutions of VGG16 and ResNet50
// expressed as GEMMs (m = output channels, n = output pixels, k = in·kh·kw).
var benchShapes = []struct {
	name    string
	m, n, k int
}{
	{"square256", 256, 256, 256},
	{"square512", 512, 512, 512},
	{"square1024", 1024, 1024, 1024},
	{"square2048", 2048, 2048, 2048},
	{"vgg_conv1_1", 64, 50176, 27},
	{"vgg_conv2_1", 128, 12544, 576},
	{"vgg_conv3_2", 256, 3136, 1152},
	{"vgg_conv4_2", 512, 784, 2304},
	{"vgg_conv5_1", 512, 196, 4608},
	{"resnet_conv1", 64, 12544, 147},
	{"resnet_2a_1x1", 64, 3136, 64},
	{"resnet_2a_expand", 256, 3136, 64},
	{"resnet_3a_1x1", 512, 784, 128},
	{"resnet_5c_expand", 2048, 49, 512},
}

func benchMatrices(m, n, k int) (a, b, c []float32) {
	rng := rand.New(rand.NewPCG(1, 1))
	a = make([]float32, m*k)
	b = make([]float32, k*n)
	c = make([]float32, m*n)
	for i := range a {
		a[i] = rng.Float32()
	}
	for i := range b {
		b[i] = rng.Float32()
	}
	return a, b, c
}

func reportGFLOPS(b *testing.B, m, n, k int) {
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemm measures Sgemm on all threads (Threads()) with the best
// kernel of the machine.
func BenchmarkSgemm(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			a, bb, c := benchMatrices(s.m, s.n, s.k)
			b.ReportAllocs()
			for b.Loop() {
				Sgemm(false, false, s.m, s.n, s.k, 1, a, s.k, bb, s.n, 0, c, s.n)
			}
			reportGFLOPS(b, s.m, s.n, s.k)
		})
	}
}

// BenchmarkSgemmVariants measures each kernel on one and on all threads.
func BenchmarkSgemmVariants(b *testing.B) {
	for _, v := range variants() {
		for _, size := range []int{256, 1024} {
			for _, serial := range []bool{true, false} {
				if !serial && Threads() == 1 {
					continue
				}
				name := fmt.Sprintf("%s/square%d/threads=%d", v.name, size, Threads())
				if serial {
					name = fmt.Sprintf("%s/square%d/threads=1", v.name, size)
				}
				b.Run(name, func(b *testing.B) {
					withVariant(b, v, func() {
						a, bb, c := benchMatrices(size, size, size)
						b.ReportAllocs()
						for b.Loop() {
							if serial {
								SgemmSerial(false, false, size, size, size, 1, a, size, bb, size, 0, c, size)
							} else {
								Sgemm(false, false, size, size, size, 1, a, size, bb, size, 0, c, size)
							}
						}
						reportGFLOPS(b, size, size, size)
					})
				})
			}
		}
	}
}

// BenchmarkSgemmTrans measures the transposed layouts at 1024³.
func BenchmarkSgemmTrans(b *testing.B) {
	const size = 1024
	for _, tr := range transCases {
		b.Run(fmt.Sprintf("tA=%v/tB=%v", tr[0], tr[1]), func(b *testing.B) {
			a, bb, c := benchMatrices(size, size, size)
			b.ReportAllocs()
			for b.Loop() {
				Sgemm(tr[0], tr[1], size, size, size, 1, a, size, bb, size, 0, c, size)
			}
			reportGFLOPS(b, size, size, size)
		})
	}
}

// BenchmarkNaive is the textbook triple loop, as a baseline.
func BenchmarkNaive(b *testing.B) {
	const size = 256
	a, bb, c := benchMatrices(size, size, size)
	for b.Loop() {
		for i := 0; i < size; i++ {
			crow := c[i*size : i*size+size]
			clear(crow)
			for p := 0; p < size; p++ {
				av := a[i*size+p]
				brow := bb[p*size : p*size+size]
				for j, bv := range brow {
					crow[j] += av * bv
				}
			}
		}
	}
	reportGFLOPS(b, size, size, size)
}

// BenchmarkPeakFMA measures the float32 FMA peak of the machine with a
// register-only AVX-512 loop on one and on Threads() goroutines.
func BenchmarkPeakFMA(b *testing.B) {
	if !hasPeakFMA() {
		b.Skip("no AVX-512 FMA loop on this build")
	}
	const iters = 1 << 20 // 768 flops each
	for _, threads := range []int{1, Threads()}[:min(2, Threads())] {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			for b.Loop() {
				var wg sync.WaitGroup
				for range threads {
					wg.Go(func() { peakFMA(iters) })
				}
				wg.Wait()
			}
			b.ReportMetric(768*iters*float64(threads)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
