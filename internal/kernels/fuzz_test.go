package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// FuzzSgemm compares the best kernel of the machine (assembly on amd64)
// against the pure-Go kernel, and both against the float64 triple loop when
// the problem is small. Sizes are capped at 80 so that an input runs in
// well under a millisecond.
func FuzzSgemm(f *testing.F) {
	f.Add(false, false, uint8(1), uint8(1), uint8(1), uint8(0), float32(1), float32(0), uint64(1), uint8(1))
	f.Add(true, false, uint8(13), uint8(33), uint8(7), uint8(2), float32(-0.5), float32(1), uint64(2), uint8(2))
	f.Add(false, true, uint8(70), uint8(65), uint8(17), uint8(5), float32(2), float32(0.25), uint64(3), uint8(3))
	f.Fuzz(func(t *testing.T, transA, transB bool, m8, n8, k8, extra8 uint8, alpha, beta float32, seed uint64, threads8 uint8) {
		m, n, k, extra := int(m8%81), int(n8%81), int(k8%81), int(extra8%8)
		if math.IsNaN(float64(alpha)) || math.IsInf(float64(alpha), 0) || math.Abs(float64(alpha)) > 1e6 ||
			math.IsNaN(float64(beta)) || math.IsInf(float64(beta), 0) || math.Abs(float64(beta)) > 1e6 {
			t.Skip("non-finite or huge scalars")
		}
		threads := 1 + int(threads8%4)
		rng := rand.New(rand.NewPCG(seed, 42))
		p := newProblem(rng, transA, transB, m, n, k, extra, alpha, beta)
		fast := p.run(threads)
		checkGuards(t, p.String(), fast, m, n, p.ldc)

		old512, old2 := useAVX512, useAVX2
		useAVX512, useAVX2 = false, false
		slow := p.run(threads)
		useAVX512, useAVX2 = old512, old2
		checkGuards(t, p.String(), slow, m, n, p.ldc)

		// Both results must be within the error bound of the exact
		// result, so they are within twice of each other.
		tol := tolerance(k)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var mag float64
				for l := 0; l < k; l++ {
					mag += math.Abs(p.opA(i, l) * p.opB(l, j))
				}
				mag *= math.Abs(float64(alpha))
				if beta != 0 {
					mag += math.Abs(float64(beta) * float64(p.c[pad+i*p.ldc+j]))
				}
				x, y := fast[pad+i*p.ldc+j], slow[pad+i*p.ldc+j]
				if d := math.Abs(float64(x) - float64(y)); !(d <= 2*tol*mag+1e-30) {
					t.Fatalf("%s: C[%d,%d]: assembly %g, pure Go %g", p, i, j, x, y)
				}
			}
		}
		if m*n*k <= 20000 {
			p.check(t, fast)
		}
	})
}
