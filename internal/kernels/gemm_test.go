package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// variant is one micro-kernel path, selected through the package flags.
type variant struct {
	name         string
	rows         int // forced AVX-512 tile height
	avx512, avx2 bool
	available    bool
}

var (
	hasAVX512 = useAVX512
	hasAVX2   = useAVX2
)

func variants() []variant {
	return []variant{
		{name: "avx512", rows: 12, avx512: true, avx2: hasAVX2, available: hasAVX512},
		{name: "avx512x8", rows: 8, avx512: true, avx2: hasAVX2, available: hasAVX512},
		{name: "avx2", avx2: true, available: hasAVX2},
		{name: "generic", available: true},
	}
}

// withVariant runs f with the kernel flags set for v, then restores them.
func withVariant(t testing.TB, v variant, f func()) {
	t.Helper()
	if !v.available {
		t.Skipf("%s not available on this machine/build", v.name)
	}
	old512, old2, oldRows := useAVX512, useAVX2, avx512Rows
	useAVX512, useAVX2, avx512Rows = v.avx512, v.avx2, v.rows
	defer func() { useAVX512, useAVX2, avx512Rows = old512, old2, oldRows }()
	if got := selectKernel(1).name; got != v.name {
		t.Fatalf("selected kernel %s, want %s", got, v.name)
	}
	f()
}

// withBModes runs f with B packed into B̃ and with B read in place.
func withBModes(f func(mode string)) {
	defer func() { directB = 0 }()
	for _, d := range []int{-1, 1} {
		directB = d
		f([]string{"packed", "", "in place"}[d+1])
	}
}

// guard marks the elements of C outside the m×n matrix.
const guard = float32(-7777.25)

type problem struct {
	transA, transB bool
	m, n, k        int
	lda, ldb, ldc  int
	alpha, beta    float32
	a, b, c        []float32 // c holds the initial C, with guards
}

const pad = 17 // guard elements before and after each matrix

// newProblem builds a random problem; extra is added to each leading dimension.
func newProblem(rng *rand.Rand, transA, transB bool, m, n, k, extra int, alpha, beta float32) *problem {
	p := &problem{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	p.lda = max(1, ac) + extra
	p.ldb = max(1, bc) + extra
	p.ldc = max(1, n) + extra
	p.a = randMatrix(rng, ar, ac, p.lda)
	p.b = randMatrix(rng, br, bc, p.ldb)
	p.c = randMatrix(rng, m, n, p.ldc)
	if beta == 0 {
		// NaNs in C must be ignored when beta == 0.
		forEach(m, n, p.ldc, func(i int) { p.c[pad+i] = float32(math.NaN()) })
	}
	return p
}

// randMatrix returns a rows×cols matrix with leading dimension ld, embedded
// in a slice with pad guard elements on each side and guards between rows.
func randMatrix(rng *rand.Rand, rows, cols, ld int) []float32 {
	size := 0
	if rows > 0 && cols > 0 {
		size = (rows-1)*ld + cols
	}
	s := make([]float32, size+2*pad)
	for i := range s {
		s[i] = guard
	}
	forEach(rows, cols, ld, func(i int) { s[pad+i] = rng.Float32()*2 - 1 })
	return s
}

func forEach(rows, cols, ld int, f func(int)) {
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			f(i*ld + j)
		}
	}
}

// inner returns the matrix part of a padded slice (as callers pass it).
func inner(s []float32) []float32 { return s[pad : len(s)-pad] }

// run computes the problem with the given number of threads (0: Sgemm,
// -1: SgemmSerial) and returns the padded result.
func (p *problem) run(threads int) []float32 {
	c := append([]float32(nil), p.c...)
	switch threads {
	case 0:
		Sgemm(p.transA, p.transB, p.m, p.n, p.k, p.alpha, inner(p.a), p.lda, inner(p.b), p.ldb, p.beta, inner(c), p.ldc)
	case -1:
		SgemmSerial(p.transA, p.transB, p.m, p.n, p.k, p.alpha, inner(p.a), p.lda, inner(p.b), p.ldb, p.beta, inner(c), p.ldc)
	default:
		sgemm(threads, p.transA, p.transB, p.m, p.n, p.k, p.alpha, inner(p.a), p.lda, inner(p.b), p.ldb, p.beta, inner(c), p.ldc)
	}
	return c
}

func (p *problem) opA(i, l int) float64 {
	if p.transA {
		return float64(p.a[pad+l*p.lda+i])
	}
	return float64(p.a[pad+i*p.lda+l])
}

func (p *problem) opB(l, j int) float64 {
	if p.transB {
		return float64(p.b[pad+j*p.ldb+l])
	}
	return float64(p.b[pad+l*p.ldb+j])
}

// tolerance is the allowed error relative to the sum of the magnitudes of
// the terms of each element, sum_l |alpha*a_il*b_lj| + |beta*c_ij|: float32
// summation of k terms in any order is within k·2⁻²⁴ of it, and we allow
// (k+4)·2⁻²³ for the alpha and beta scalings.
func tolerance(k int) float64 { return float64(k+4) * 0x1p-23 }

// check compares got against a float64 triple loop and verifies the guards.
func (p *problem) check(t testing.TB, got []float32) {
	t.Helper()
	tol := tolerance(p.k)
	bad := 0
	for i := 0; i < p.m; i++ {
		for j := 0; j < p.n; j++ {
			var sum, mag float64
			for l := 0; l < p.k; l++ {
				x := p.opA(i, l) * p.opB(l, j)
				sum += x
				mag += math.Abs(x)
			}
			alpha, beta := float64(p.alpha), float64(p.beta)
			want := alpha * sum
			mag *= math.Abs(alpha)
			if beta != 0 {
				c0 := float64(p.c[pad+i*p.ldc+j])
				want += beta * c0
				mag += math.Abs(beta * c0)
			}
			g := float64(got[pad+i*p.ldc+j])
			if err := math.Abs(g - want); !(err <= tol*mag+1e-30) {
				if bad++; bad <= 5 {
					t.Errorf("%s: C[%d,%d] = %g, want %g (err %.3g > %.3g)", p, i, j, g, want, err, tol*mag)
				}
			}
		}
	}
	checkGuards(t, p.String(), got, p.m, p.n, p.ldc)
}

func checkGuards(t testing.TB, name string, got []float32, m, n, ldc int) {
	t.Helper()
	inside := make([]bool, len(got))
	forEach(m, n, ldc, func(i int) { inside[pad+i] = true })
	for i, v := range got {
		if !inside[i] && v != guard {
			t.Fatalf("%s: element %d outside C was overwritten with %g", name, i-pad, v)
		}
	}
}

func (p *problem) String() string {
	return fmt.Sprintf("tA=%v tB=%v m=%d n=%d k=%d lda=%d ldb=%d ldc=%d alpha=%g beta=%g",
		p.transA, p.transB, p.m, p.n, p.k, p.lda, p.ldb, p.ldc, p.alpha, p.beta)
}

var transCases = [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}}

func TestSgemmSmallSizes(t *testing.T) {
	sizes := []int{0, 1, 2, 3, 5, 7, 13, 17, 33}
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			withVariant(t, v, func() {
				rng := rand.New(rand.NewPCG(1, 2))
				for _, tr := range transCases {
					for _, m := range sizes {
						for _, n := range sizes {
							for _, k := range sizes {
								p := newProblem(rng, tr[0], tr[1], m, n, k, (m+n+k)%3, 1.5, 0)
								if (m*7+n*3+k)%2 == 1 {
									p = newProblem(rng, tr[0], tr[1], m, n, k, 0, -0.75, 0.5)
								}
								p.check(t, p.run(-1))
							}
						}
					}
				}
			})
		})
	}
}

func TestSgemmRandom(t *testing.T) {
	alphas := []float32{1, -1, 0.5, 2.25, 0}
	betas := []float32{0, 1, -1, 0.3}
	threads := []int{-1, 0, 2, 3}
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			withVariant(t, v, func() {
				withBModes(func(string) {
					rng := rand.New(rand.NewPCG(3, 4))
					for it := 0; it < 200; it++ {
						tr := transCases[it%4]
						m, n, k := 1+rng.IntN(70), 1+rng.IntN(70), 1+rng.IntN(70)
						p := newProblem(rng, tr[0], tr[1], m, n, k, rng.IntN(5),
							alphas[rng.IntN(len(alphas))], betas[rng.IntN(len(betas))])
						p.check(t, p.run(threads[it%len(threads)]))
					}
				})
			})
		})
	}
}

// TestSgemmBlocking shrinks the cache blocks so that small problems cross
// many Ã, B̃ and k blocks, with edges everywhere, serially and in parallel.
func TestSgemmBlocking(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			withVariant(t, v, func() {
				ki := selectKernel(1)
				saved := *ki
				defer func() { *ki = saved }()
				ki.mc, ki.kc, ki.nc = 2*ki.mr, 7, 3*ki.nr
				rng := rand.New(rand.NewPCG(5, 6))
				shapes := [][3]int{
					{2*ki.mr + 1, 3*ki.nr + 1, 15},
					{5*ki.mr - 1, 7*ki.nr + 3, 29},
					{ki.mr, ki.nr, 7},
					{3*ki.mr + 5, ki.nr - 1, 8},
					{1, 10*ki.nr + 5, 22},
					{11*ki.mr + 3, 1, 13},
					{4 * ki.mr, 6 * ki.nr, 14},
				}
				withBModes(func(string) {
					for i, s := range shapes {
						for _, tr := range transCases {
							for _, threads := range []int{1, 2, 5} {
								beta := []float32{0, 1, -0.5}[(i+threads)%3]
								p := newProblem(rng, tr[0], tr[1], s[0], s[1], s[2], i%3, 0.75, beta)
								p.check(t, p.run(threads))
							}
						}
					}
				})
			})
		})
	}
}

// TestSgemmLarge checks one problem larger than the default blocks.
func TestSgemmLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			withVariant(t, v, func() {
				ki := selectKernel(1)
				rng := rand.New(rand.NewPCG(7, 8))
				m, n, k := ki.mc+ki.mr+3, 2*ki.nr+5, 2*ki.kc+11
				if v.name != "generic" {
					n = ki.nc + ki.nr + 5
					m, k = 2*ki.mr+1, ki.kc+3
				}
				withBModes(func(string) {
					for i, tr := range transCases {
						if tr[1] {
							continue // B is only used in place when not transposed
						}
						p := newProblem(rng, tr[0], tr[1], m, n, k, 3, 1, []float32{0, 2}[i%2])
						p.check(t, p.run(0))
					}
				})
				for i, tr := range transCases {
					if !tr[1] {
						continue
					}
					p := newProblem(rng, tr[0], tr[1], m, n, k, 3, 1, []float32{0, 2}[i%2])
					p.check(t, p.run(0))
				}
			})
		})
	}
}

func TestSgemmConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var probs []*problem
	for i := 0; i < 8; i++ {
		probs = append(probs, newProblem(rng, i%2 == 1, i%3 == 1, 60+i*11, 90-i*5, 70+i, i%2, 1, 0.5))
	}
	results := make([][]float32, len(probs))
	var wg sync.WaitGroup
	for i, p := range probs {
		wg.Go(func() {
			for range 3 {
				results[i] = p.run(3)
			}
		})
	}
	wg.Wait()
	for i, p := range probs {
		p.check(t, results[i])
	}
}

func TestSgemmPanics(t *testing.T) {
	a := make([]float32, 12)
	cases := map[string]func(){
		"negative": func() { Sgemm(false, false, -1, 2, 2, 1, a, 2, a, 2, 0, a, 2) },
		"lda":      func() { Sgemm(false, false, 2, 2, 3, 1, a, 2, a, 2, 0, a, 2) },
		"short a":  func() { Sgemm(false, false, 4, 2, 3, 1, a[:11], 3, a, 2, 0, a, 2) },
		"short c":  func() { Sgemm(true, true, 3, 4, 2, 1, a, 3, a, 2, 0, a[:11], 4) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

// TestSgemmNoAlloc checks that a steady-state call does not allocate.
func TestSgemmNoAlloc(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, size := range []int{20, 200} {
		p := newProblem(rng, false, false, size, size, size, 0, 1, 0)
		c := append([]float32(nil), p.c...)
		f := func() {
			Sgemm(false, false, size, size, size, 1, inner(p.a), p.lda, inner(p.b), p.ldb, 0, inner(c), p.ldc)
		}
		f()
		if n := testing.AllocsPerRun(20, f); n > 0.1 {
			t.Errorf("size %d: %v allocations per call", size, n)
		}
	}
}

func TestAxpyDot(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			withVariant(t, v, func() {
				rng := rand.New(rand.NewPCG(13, 14))
				for n := 0; n < 80; n++ {
					x := make([]float32, n)
					y := make([]float32, n+pad)
					for i := range x {
						x[i] = rng.Float32()*2 - 1
					}
					for i := range y {
						y[i] = rng.Float32()*2 - 1
					}
					if n > 0 {
						y[n] = guard
					}
					var want, mag float64
					for i := range x {
						want += float64(x[i]) * float64(y[i])
						mag += math.Abs(float64(x[i]) * float64(y[i]))
					}
					if got := Dot(x, y[:n]); math.Abs(float64(got)-want) > tolerance(n)*mag+1e-30 {
						t.Errorf("Dot n=%d: got %g, want %g", n, got, want)
					}
					y0 := append([]float32(nil), y...)
					Axpy(-1.5, x, y)
					for i := range x {
						w := float64(y0[i]) - 1.5*float64(x[i])
						if math.Abs(float64(y[i])-w) > 1e-6*(math.Abs(float64(y0[i]))+1.5*math.Abs(float64(x[i]))) {
							t.Fatalf("Axpy n=%d: y[%d] = %g, want %g", n, i, y[i], w)
						}
					}
					for i := n; i < len(y); i++ {
						if y[i] != y0[i] {
							t.Fatalf("Axpy n=%d wrote y[%d]", n, i)
						}
					}
				}
			})
		})
	}
}
