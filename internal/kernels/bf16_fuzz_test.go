package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// FuzzGemmBF16 compares every bfloat16 kernel of the machine, with A
// packed (GemmBF16Packed) and with B packed (GemmBF16Panels), against the
// float32 path (the pure-Go Sgemm under -tags purego) on the same packed
// operands, and both against the float64 triple loop. Sizes are capped at
// 80.
func FuzzGemmBF16(f *testing.F) {
	f.Add(false, uint8(1), uint8(1), uint8(1), uint8(0), uint8(0), float32(0), uint64(1), false)
	f.Add(true, uint8(13), uint8(33), uint8(7), uint8(2), uint8(3), float32(1), uint64(2), true)
	f.Add(false, uint8(70), uint8(65), uint8(17), uint8(5), uint8(1), float32(0.25), uint64(3), false)
	f.Fuzz(func(t *testing.T, transB bool, m8, n8, k8, r08, extra8 uint8, beta float32, seed uint64, serial bool) {
		m, n, k, r0, extra := int(m8%81), int(n8%81), int(k8%81), int(r08%9), int(extra8%8)
		if math.IsNaN(float64(beta)) || math.IsInf(float64(beta), 0) || math.Abs(float64(beta)) > 1e6 {
			t.Skip("non-finite or huge beta")
		}
		rng := rand.New(rand.NewPCG(seed, 7))
		p := newBF16Problem(rng, transB, m, n, k, r0, extra, beta)
		var ref []float32
		for i, path := range bf16Paths() {
			restore := path.set()
			got := p.run(serial)
			// The same product with B packed instead of A.
			pb := PackBF16Panels(transB, k, n, p.b, p.ldb)
			viaB := append([]float32(nil), p.c0...)
			if m > 0 && n > 0 {
				GemmBF16Panels(m, p.af[r0*k:], max(k, 1), pb, beta, viaB[p.off:], p.ldc)
			}
			restore()
			p.check(t, path.name, got)
			p.check(t, path.name+" panels", viaB)
			if i == 0 {
				ref = got
				continue
			}
			// Same exact products, summed in another order.
			for j := range got {
				if d := math.Abs(float64(got[j] - ref[j])); d > 1e-4*(1+math.Abs(float64(ref[j]))) {
					t.Fatalf("%s %v: %v, float32 path %v at %d", path.name, p, got[j], ref[j], j)
				}
			}
		}
	})
}
