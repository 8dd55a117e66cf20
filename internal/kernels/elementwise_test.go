package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// elementwiseInputs returns inputs covering the exponential's range
// (including its clamps and subnormal results), GELU's tails and lengths
// that are not multiples of 16.
func elementwiseInputs() []float32 {
	r := rand.New(rand.NewPCG(1, 2))
	var xs []float32
	for i := 0; i < 20000; i++ {
		xs = append(xs, float32(r.Float64()*200-105))
	}
	for i := 0; i < 20000; i++ {
		xs = append(xs, float32(r.NormFloat64()*3))
	}
	xs = append(xs, 0, -0.0, 1e-30, -1e-30, 88.7, 89, -103.9, -104, -200, 1000,
		float32(math.Inf(1)), float32(math.Inf(-1)), 3, float32(math.NaN()))
	return xs
}

// eachVariant runs f with the AVX-512 kernels and with the generic code.
func eachVariant(t *testing.T, f func(t *testing.T)) {
	for _, v := range variants() {
		if v.name == "avx512" || v.name == "generic" {
			t.Run(v.name, func(t *testing.T) { withVariant(t, v, func() { f(t) }) })
		}
	}
}

// TestExp checks Exp against float64 math.Exp: within 3 float32 ulps for
// normal results (1.2e-38 and above), 2e-45 absolute below, and the sum.
func TestExp(t *testing.T) {
	xs := elementwiseInputs()
	eachVariant(t, func(t *testing.T) {
		for _, shift := range []float32{0, 2.5} {
			for _, n := range []int{len(xs), 31, 16, 5} {
				dst := make([]float32, n)
				sum := Exp(dst, xs[:n], shift)
				var want64 float64
				for i, x := range xs[:n] {
					want := math.Exp(float64(x - shift))
					want64 += float64(float32(want))
					got := float64(dst[i])
					tol := 3 * ulp32(want)
					if want < 1.2e-38 {
						tol = 2e-45
					}
					if math.IsInf(want, 1) && math.IsInf(got, 1) || math.IsNaN(want) && math.IsNaN(got) {
						continue
					}
					if math.Abs(got-want) > tol {
						t.Fatalf("exp(%g−%g) = %g, want %g (error %.3g ulp)", x, shift, got, want, math.Abs(got-want)/ulp32(want))
					}
				}
				if !math.IsInf(want64, 0) && !math.IsNaN(want64) && math.Abs(float64(sum)-want64) > 1e-5*want64 {
					t.Errorf("n=%d: sum %g, want %g", n, sum, want64)
				}
			}
		}
		nan := []float32{float32(math.NaN())}
		for len(nan) < 32 {
			nan = append(nan, nan[0])
		}
		dst := make([]float32, len(nan))
		Exp(dst, nan, 0)
		for i, v := range dst {
			if !math.IsNaN(float64(v)) {
				t.Fatalf("exp(NaN)[%d] = %g", i, v)
			}
		}
	})
}

// TestGELU checks GELU against x·Φ(x) from float64 math.Erf: within the
// erfc approximation's 1.5e-7 (times ½|x|) plus 8 ulps of the result for
// the float32 evaluation of its polynomial, whose terms alternate in sign
// (6.2 ulps seen).
func TestGELU(t *testing.T) {
	xs := elementwiseInputs()
	eachVariant(t, func(t *testing.T) {
		for _, n := range []int{len(xs), 31, 16, 5} {
			dst := make([]float32, n)
			GELU(dst, xs[:n])
			for i, x := range xs[:n] {
				x64 := float64(x)
				want := 0.5 * x64 * (1 + math.Erf(x64/math.Sqrt2))
				if math.IsInf(x64, 0) {
					want = math.Max(x64, 0)
				}
				got := float64(dst[i])
				if math.IsNaN(x64) != math.IsNaN(got) {
					t.Fatalf("GELU(%g) = %g", x, got)
				}
				tol := 1.5e-7*0.5*math.Abs(x64) + 8*ulp32(want)
				if got != want && !math.IsNaN(got) && !(math.Abs(got-want) <= tol) {
					t.Fatalf("GELU(%g) = %g, want %g", x, got, want)
				}
			}
		}
	})
}

// TestGELUGrad checks GELUGrad against Φ(x) + x·φ(x) from float64
// math.Erf and math.Exp: within the erfc approximation's 0.75e-7 plus 8
// float32 ulps of the larger term (they cancel for x < 0).
func TestGELUGrad(t *testing.T) {
	xs := elementwiseInputs()
	g := make([]float32, len(xs))
	for i := range g {
		g[i] = float32(i%7) - 3
	}
	dst := make([]float32, len(xs))
	GELUGrad(dst, xs, g)
	for i, x := range xs {
		x64 := float64(x)
		if math.IsInf(x64, 0) || math.IsNaN(x64) {
			continue
		}
		cdf, xpdf := 0.5*(1+math.Erf(x64/math.Sqrt2)), x64*math.Exp(-x64*x64/2)/math.Sqrt(2*math.Pi)
		want := float64(g[i]) * (cdf + xpdf)
		// The two terms cancel for x < 0: rounding is relative to them.
		terms := math.Abs(float64(g[i])) * (cdf + math.Abs(xpdf))
		if tol := math.Abs(float64(g[i]))*0.75e-7 + 8*ulp32(terms); math.Abs(float64(dst[i])-want) > tol {
			t.Fatalf("GELUGrad(%g)·%g = %g, want %g", x, g[i], dst[i], want)
		}
	}
}

// ulp32 is the spacing of float32 numbers at |v|.
func ulp32(v float64) float64 {
	f := float32(math.Abs(v))
	return float64(math.Nextafter32(f, float32(math.Inf(1))) - f)
}

func BenchmarkElementwise(b *testing.B) {
	xs := make([]float32, 1<<16)
	for i := range xs {
		xs[i] = float32(math.Sin(float64(i))) * 4
	}
	dst := make([]float32, len(xs))
	b.Run("exp", func(b *testing.B) {
		for b.Loop() {
			Exp(dst, xs, 1)
		}
		b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*len(xs)), "ns/elem")
	})
	b.Run("gelu", func(b *testing.B) {
		for b.Loop() {
			GELU(dst, xs)
		}
		b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*len(xs)), "ns/elem")
	})
}

// TestStabDiv checks StabDiv against its definition, bit for bit (one
// addition and one division, correctly rounded either way), including
// ±0 and ε = 0.
func TestStabDiv(t *testing.T) {
	xs := elementwiseInputs()
	r := make([]float32, len(xs))
	for i := range r {
		r[i] = float32(i%11) - 5
	}
	for i := 0; i < len(xs); i += 97 {
		xs[i] = 0
		if i%2 == 0 {
			xs[i] = float32(math.Copysign(0, -1))
		}
	}
	eachVariant(t, func(t *testing.T) {
		for _, eps := range []float32{0, 1e-6, 0.25} {
			dst := make([]float32, len(xs))
			StabDiv(dst, r, xs, eps)
			for i, z := range xs {
				d := z + eps
				if z < 0 {
					d = z - eps
				}
				want := r[i] / d
				if math.Float32bits(dst[i]) != math.Float32bits(want) && !(math.IsNaN(float64(want)) && math.IsNaN(float64(dst[i]))) {
					t.Fatalf("ε=%g: %g/stab(%g) = %g, want %g", eps, r[i], z, dst[i], want)
				}
			}
		}
	})
}

// TestReLUMasked checks ReLUMasked against its definition bit for bit,
// with ±0, NaN and ±∞ in the mask, in place and not.
func TestReLUMasked(t *testing.T) {
	xs := elementwiseInputs()
	for i := 0; i < len(xs); i += 89 {
		xs[i] = float32(math.Copysign(0, -1))
	}
	src := make([]float32, len(xs))
	for i := range src {
		src[i] = float32(i%13) - 6.5
	}
	eachVariant(t, func(t *testing.T) {
		for _, n := range []int{len(xs), 37, 16, 3} {
			dst := make([]float32, n)
			ReLUMasked(dst, src, xs[:n])
			self := append([]float32(nil), xs[:n]...)
			ReLUMasked(self, self, self)
			for i, x := range xs[:n] {
				want, wantSelf := float32(0), float32(0)
				if x > 0 {
					want, wantSelf = src[i], x
				}
				if math.Float32bits(dst[i]) != math.Float32bits(want) || math.Float32bits(self[i]) != math.Float32bits(wantSelf) {
					t.Fatalf("x = %g: got %g and %g, want %g and %g", x, dst[i], self[i], want, wantSelf)
				}
			}
		}
	})
}

// TestMax2x2 checks Max2x2 against the window maximum bit for bit: ties of
// ±0 keep the first value in window order, NaN anywhere gives NaN.
func TestMax2x2(t *testing.T) {
	xs := elementwiseInputs()
	r := rand.New(rand.NewPCG(5, 6))
	vals := []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1))}
	for i := range xs {
		if r.IntN(3) == 0 {
			xs[i] = vals[r.IntN(len(vals))]
		}
		if r.IntN(500) == 0 {
			xs[i] = float32(math.NaN())
		}
	}
	eachVariant(t, func(t *testing.T) {
		for _, n := range []int{1000, 33, 16, 5} {
			r0, r1 := xs[:2*n], xs[2*n:4*n]
			dst := make([]float32, n)
			Max2x2(dst, r0, r1)
			for j := range dst {
				w := []float32{r0[2*j], r0[2*j+1], r1[2*j], r1[2*j+1]}
				b, nan := w[0], false
				for k, v := range w {
					nan = nan || v != v
					if k > 0 && v > b {
						b = v
					}
				}
				if nan {
					if dst[j] == dst[j] {
						t.Fatalf("window %v: got %g, want NaN", w, dst[j])
					}
					continue
				}
				if math.Float32bits(dst[j]) != math.Float32bits(b) {
					t.Fatalf("window %v: got %g, want %g", w, dst[j], b)
				}
			}
		}
	})
}
