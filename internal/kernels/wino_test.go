package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestWinogradTransforms checks both transform kernels, on every vector
// length up to 70 (masked tails included) and scattered source offsets,
// against the transform computed in float64: within 4 ulp of the sum of
// the terms' magnitudes (at most 5 roundings of terms that are exact). The
// portable form is checked the same way.
func TestWinogradTransforms(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, asm := range []bool{true, false} {
		if asm && !useWino() {
			continue
		}
		saved := useAVX512
		if !asm {
			useAVX512 = false
		}
		for n := 1; n <= 70; n++ {
			src := make([]float32, 8*n+40)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
			}
			off := [6]int{}
			for j := range off {
				off[j] = rng.IntN(len(src) - n + 1)
			}
			stride := n + rng.IntN(5)
			for _, tc := range []struct {
				name string
				m    [][6]float32
				f    func(dst []float32, dstStride int, src []float32, off *[6]int, n int)
			}{
				{"input", WinogradBT[:], WinogradInput},
				{"output", WinogradAT[:], WinogradOutput},
			} {
				dst := make([]float32, len(tc.m)*stride)
				for i := range dst {
					dst[i] = float32(math.NaN()) // gaps between rows stay untouched
				}
				tc.f(dst, stride, src, &off, n)
				for r, row := range tc.m {
					for i := 0; i < n; i++ {
						var want, mag float64
						for j, c := range row {
							v := float64(c) * float64(src[off[j]+i])
							want += v
							mag += math.Abs(v)
						}
						got := float64(dst[r*stride+i])
						if math.Abs(got-want) > 4*mag*0x1p-24 {
							t.Fatalf("%s asm=%v n=%d row %d [%d]: %g, want %g", tc.name, asm, n, r, i, got, want)
						}
					}
					for i := n; i < stride && r < len(tc.m)-1; i++ {
						if v := dst[r*stride+i]; v == v {
							t.Fatalf("%s asm=%v n=%d: wrote past the row (%d, %d)", tc.name, asm, n, r, i)
						}
					}
				}
			}
		}
		useAVX512 = saved
	}
}

// TestWinogradSplitJoin checks WinogradSplit4 and WinogradJoin4 (vector
// and tail) against their definitions, exactly, for every n up to 70.
func TestWinogradSplitJoin(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, asm := range []bool{true, false} {
		saved := useAVX512
		useAVX512 = saved && asm
		for n := 1; n <= 70; n++ {
			src := make([]float32, 4*n+3)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
			}
			stride := n + rng.IntN(4)
			split := make([]float32, 3*stride+n)
			WinogradSplit4(split, stride, src, n)
			for p := range 4 {
				for j := range n {
					if split[p*stride+j] != src[4*j+p] {
						t.Fatalf("split asm=%v n=%d: [%d][%d] = %g, want %g", asm, n, p, j, split[p*stride+j], src[4*j+p])
					}
				}
			}
			joined := make([]float32, 4*n+1)
			joined[4*n] = 7
			bias := float32(rng.NormFloat64())
			WinogradJoin4(joined, split, stride, n, bias)
			for i := range 4 * n {
				if want := src[i] + bias; joined[i] != want {
					t.Fatalf("join asm=%v n=%d: [%d] = %g, want %g", asm, n, i, joined[i], want)
				}
			}
			if joined[4*n] != 7 {
				t.Fatalf("join asm=%v n=%d wrote past 4n", asm, n)
			}
		}
		useAVX512 = saved
	}
}
