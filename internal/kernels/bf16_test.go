package kernels

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// readRoundGolden reads testdata/bf16/round.txt (written by PyTorch, see
// its README): float32 bits and PyTorch's bfloat16 bits.
func readRoundGolden(t *testing.T) (in []uint32, want []uint16) {
	t.Helper()
	f, err := os.Open("testdata/bf16/round.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		a, err1 := strconv.ParseUint(fs[0], 16, 32)
		b, err2 := strconv.ParseUint(fs[1], 16, 16)
		if len(fs) != 2 || err1 != nil || err2 != nil {
			t.Fatalf("bad golden line %q", sc.Text())
		}
		in = append(in, uint32(a))
		want = append(want, uint16(b))
	}
	return in, want
}

func isNaNBF16(h uint16) bool { return h&0x7fff > 0x7f80 }

// checkRounding compares got with PyTorch's bfloat16 of in: bit-exact,
// except that any NaN is accepted for a NaN (PyTorch's vectorized path
// gives 0xFFFF, its scalar one and ours 0x7FC0).
func checkRounding(t *testing.T, what string, in uint32, got, want uint16) {
	t.Helper()
	if isNaNBF16(want) {
		if !isNaNBF16(got) {
			t.Errorf("%s(%08x) = %04x, want a NaN", what, in, got)
		}
		return
	}
	if got != want {
		t.Errorf("%s(%08x) = %04x, want %04x (PyTorch)", what, in, got, want)
	}
}

func TestBF16FromFloat32Golden(t *testing.T) {
	in, want := readRoundGolden(t)
	for i, b := range in {
		checkRounding(t, "BF16FromFloat32", b, BF16FromFloat32(math.Float32frombits(b)), want[i])
	}
	if got := BF16FromFloat32(float32(math.NaN())); got != 0x7fc0 {
		t.Errorf("NaN → %04x, want 7fc0", got)
	}
}

// TestPackBF16Golden runs the golden values through every B-packing path
// (the AVX-512 panel packer included) and checks the pairs.
func TestPackBF16Golden(t *testing.T) {
	in, want := readRoundGolden(t)
	k := 2 * ((len(in) / 32) / 2) // whole pairs of 32-column rows
	b := make([]float32, k*32)
	for i := range b {
		b[i] = math.Float32frombits(in[i])
	}
	kp := roundUp(k, 32)
	for _, fast := range []bool{true, false} {
		name := "generic"
		if fast {
			name = "fast"
			if !useAVX512BF16 {
				continue
			}
		}
		old := useAVX512BF16
		useAVX512BF16 = fast
		dst := make([]uint32, kp/2*32)
		packBBF16(dst, kp, false, k, 32, b, 32, 1)
		useAVX512BF16 = old
		for p := 0; p < k/2; p++ {
			for j := 0; j < 32; j++ {
				lo, hi := 2*p*32+j, (2*p+1)*32+j
				checkRounding(t, name+" lo", in[lo], uint16(dst[p*32+j]), want[lo])
				checkRounding(t, name+" hi", in[hi], uint16(dst[p*32+j]>>16), want[hi])
			}
		}
	}
}

// bf16Paths lists the kernels this machine can run, each with a function
// that selects it (by switching the feature flags off) and restores them.
func bf16Paths() []struct {
	name string
	set  func() (restore func())
} {
	type path = struct {
		name string
		set  func() (restore func())
	}
	sel := func(amx, avx bool) func() func() {
		return func() func() {
			oa, ov := useAMX, useAVX512BF16
			useAMX, useAVX512BF16 = oa && amx, ov && avx
			return func() { useAMX, useAVX512BF16 = oa, ov }
		}
	}
	ps := []path{{"float32", sel(false, false)}}
	if useAVX512BF16 {
		ps = append(ps, path{"avx512bf16", sel(false, true)})
	}
	if useAMX && bf16Path() == bf16PathAMX {
		ps = append(ps, path{"amx", sel(true, true)})
	}
	ps = append(ps, path{"amx-emulated", func() func() {
		amxEmulator = amxKernelEmulated
		return func() { amxEmulator = nil }
	}})
	return ps
}

const bf16Guard = float32(-12345.5)

// bf16Problem is a GEMM on random data with C inside a guarded buffer:
// bf16Guard values before, between (ldc > n) and after the rows of C.
type bf16Problem struct {
	transB           bool
	m, n, k, r0, ldc int
	a                *BF16Matrix
	af               []float32 // the unpacked A (r0+m rows)
	b                []float32
	ldb              int
	beta             float32
	c0               []float32 // C on entry, inside the guarded buffer
	off              int       // offset of C in the buffer
}

func newBF16Problem(rng *rand.Rand, transB bool, m, n, k, r0, extra int, beta float32) *bf16Problem {
	p := &bf16Problem{transB: transB, m: m, n: n, k: k, r0: r0, ldc: max(n, 1) + extra, beta: beta}
	rows := r0 + m + rng.IntN(3)
	p.af = make([]float32, rows*k)
	for i := range p.af {
		p.af[i] = float32(rng.NormFloat64())
	}
	p.a = PackBF16(false, rows, k, p.af, max(k, 1))
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	p.ldb = max(bc, 1) + rng.IntN(3)
	p.b = make([]float32, max(0, (br-1)*p.ldb+bc))
	for i := range p.b {
		p.b[i] = float32(rng.NormFloat64())
	}
	p.off = 5
	p.c0 = make([]float32, p.off+max(0, (m-1)*p.ldc+n)+7)
	for i := range p.c0 {
		p.c0[i] = bf16Guard
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			p.c0[p.off+i*p.ldc+j] = float32(rng.NormFloat64())
		}
	}
	return p
}

func (p *bf16Problem) String() string {
	return fmt.Sprintf("m=%d n=%d k=%d r0=%d transB=%v ldc=%d beta=%v", p.m, p.n, p.k, p.r0, p.transB, p.ldc, p.beta)
}

func (p *bf16Problem) opB(q, j int) float32 {
	if p.transB {
		return p.b[j*p.ldb+q]
	}
	return p.b[q*p.ldb+j]
}

func (p *bf16Problem) run(serial bool) []float32 {
	c := append([]float32(nil), p.c0...)
	var cs []float32
	if p.m > 0 && p.n > 0 {
		cs = c[p.off:]
	}
	if serial {
		GemmBF16PackedSerial(p.a, p.r0, p.m, p.transB, p.n, p.b, p.ldb, p.beta, cs, p.ldc)
	} else {
		GemmBF16Packed(p.a, p.r0, p.m, p.transB, p.n, p.b, p.ldb, p.beta, cs, p.ldc)
	}
	return c
}

// check compares c with the float64 triple loop on the bfloat16-rounded
// operands. Products of bfloat16 values are exact in float32, so only the
// float32 accumulation differs: the tolerance is 4·2⁻²⁴·√k of Σ|a·b| (a
// random-walk bound with margin) plus 2⁻²³ of |beta·c|, and the bf16Guard
// values must be untouched.
func (p *bf16Problem) check(t *testing.T, what string, c []float32) {
	t.Helper()
	bad := 0
	for idx, v := range c {
		i, j := (idx-p.off)/p.ldc, (idx-p.off)%p.ldc
		inside := idx >= p.off && i < p.m && j < p.n
		if !inside {
			if v != bf16Guard {
				t.Errorf("%s %v: wrote %v outside C at %d", what, p, v, idx)
				return
			}
			continue
		}
		var s, abs float64
		for q := 0; q < p.k; q++ {
			x := float64(RoundBF16(p.af[(p.r0+i)*p.k+q])) * float64(RoundBF16(p.opB(q, j)))
			s += x
			abs += math.Abs(x)
		}
		c0 := float64(p.c0[idx])
		if p.beta != 0 {
			s += float64(p.beta) * c0
		}
		tol := 4*math.Sqrt(float64(p.k))*math.Ldexp(abs, -24) + 1e-30
		if p.beta != 0 {
			tol += math.Ldexp(math.Abs(float64(p.beta)*c0), -23)
		}
		if d := math.Abs(float64(v) - s); !(d <= tol) {
			if bad++; bad <= 3 {
				t.Errorf("%s %v: C[%d,%d] = %v, want %v ± %.2g", what, p, i, j, v, s, tol)
			}
		}
	}
}

func TestGemmBF16Paths(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dims := [][3]int{{1, 1, 1}, {1, 1, 2}, {3, 5, 7}, {12, 32, 2}, {13, 33, 31}, {31, 17, 65}, {32, 32, 32},
		{33, 65, 33}, {47, 100, 129}, {64, 1, 300}, {5, 200, 64}, {100, 70, 3}, {24, 64, 1}, {13, 40, 513}, {26, 33, 1100}, {0, 5, 5}, {5, 0, 5}, {5, 5, 0}}
	for _, path := range bf16Paths() {
		t.Run(path.name, func(t *testing.T) {
			restore := path.set()
			defer restore()
			for _, d := range dims {
				for _, transB := range []bool{false, true} {
					for _, beta := range []float32{0, 1, -0.5} {
						r0 := 0
						if d[0] > 0 {
							r0 = rng.IntN(7)
						}
						p := newBF16Problem(rng, transB, d[0], d[1], d[2], r0, rng.IntN(4), beta)
						p.check(t, path.name+" serial", p.run(true))
						p.check(t, path.name+" parallel", p.run(false))
					}
				}
			}
		})
	}
}

// TestGemmBF16Beta0IgnoresNaN: beta == 0 overwrites C without reading it.
func TestGemmBF16Beta0IgnoresNaN(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, path := range bf16Paths() {
		restore := path.set()
		p := newBF16Problem(rng, false, 29, 45, 20, 0, 1, 0)
		for i := 0; i < p.m; i++ {
			for j := 0; j < p.n; j++ {
				p.c0[p.off+i*p.ldc+j] = float32(math.NaN())
			}
		}
		p.check(t, path.name, p.run(true))
		restore()
	}
}

// TestGemmBF16Concurrent runs many GEMMs at once on every path (each
// with its own data) and checks them all: packed A is shared, scratch
// buffers and (on AMX) tile state must not be.
func TestGemmBF16Concurrent(t *testing.T) {
	for _, path := range bf16Paths() {
		t.Run(path.name, func(t *testing.T) {
			restore := path.set()
			defer restore()
			rng := rand.New(rand.NewPCG(5, 6))
			shared := newBF16Problem(rng, false, 70, 90, 77, 0, 0, 0)
			var probs []*bf16Problem
			for g := 0; g < 16; g++ {
				p := newBF16Problem(rng, g%2 == 1, 20+g, 40+3*g, 33+g, 0, g%3, float32(g%2))
				probs = append(probs, p)
			}
			res := make([][]float32, len(probs))
			sres := make([][]float32, len(probs))
			var wg sync.WaitGroup
			for g, p := range probs {
				wg.Go(func() {
					for range 5 {
						res[g] = p.run(g%3 == 0)
						sres[g] = shared.run(g%2 == 0)
					}
				})
			}
			wg.Wait()
			for g, p := range probs {
				p.check(t, path.name, res[g])
				shared.check(t, path.name+" shared A", sres[g])
			}
		})
	}
}

func TestGemmBF16Unpacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	m, n, k := 19, 23, 37
	a := make([]float32, k*m) // transposed: k×m
	b := make([]float32, k*n)
	c := make([]float32, m*n)
	for i := range a {
		a[i] = float32(rng.NormFloat64())
	}
	for i := range b {
		b[i] = float32(rng.NormFloat64())
	}
	for i := range c {
		c[i] = float32(rng.NormFloat64())
	}
	c0 := append([]float32(nil), c...)
	GemmBF16(true, false, m, n, k, 2, a, m, b, n, 0.5, c, n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, abs float64
			for q := 0; q < k; q++ {
				x := float64(RoundBF16(a[q*m+i])) * float64(RoundBF16(b[q*n+j]))
				s += x
				abs += math.Abs(x)
			}
			want := 2*s + 0.5*float64(c0[i*n+j])
			if d := math.Abs(float64(c[i*n+j]) - want); d > 1e-5*(abs+1) {
				t.Fatalf("C[%d,%d] = %v, want %v", i, j, c[i*n+j], want)
			}
		}
	}
}

func TestGemmBF16Panics(t *testing.T) {
	a := PackBF16(false, 4, 3, make([]float32, 12), 3)
	for name, f := range map[string]func(){
		"rows":  func() { GemmBF16Packed(a, 2, 3, false, 2, make([]float32, 6), 2, 0, make([]float32, 6), 2) },
		"short": func() { GemmBF16Packed(a, 0, 4, false, 2, make([]float32, 5), 2, 0, make([]float32, 8), 2) },
		"ldc":   func() { GemmBF16Packed(a, 0, 4, false, 2, make([]float32, 6), 2, 0, make([]float32, 8), 1) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestBF16KernelName(t *testing.T) {
	name := BF16Kernel()
	switch {
	case useAMX && name == "amx", !useAMX && useAVX512BF16 && name == "avx512bf16", name == "float32":
	default:
		t.Errorf("BF16Kernel() = %q with useAMX=%v useAVX512BF16=%v", name, useAMX, useAVX512BF16)
	}
	if name == "float32" && BF16Note() == "" {
		t.Error("no note when running bfloat16 as float32")
	}
	if name != "float32" && !(useAMX && name != "amx") && BF16Note() != "" {
		t.Errorf("note %q while running %s", BF16Note(), name)
	}
	oa, ov := useAMX, useAVX512BF16
	useAMX, useAVX512BF16 = false, false
	if BF16Kernel() != "float32" || BF16Note() == "" {
		t.Errorf("features off: kernel %q, note %q", BF16Kernel(), BF16Note())
	}
	useAMX, useAVX512BF16 = oa, ov
	t.Logf("kernel %s; note %q", name, BF16Note())
}

// amxKernelEmulated executes amxKernelBF16's instruction sequence in Go,
// following the Intel SDM's definitions of TILELOADD, TDPBF16PS and
// TILESTORED (tiles of 16 rows × 64 bytes): the same registers, addresses
// and strides as the assembly, as offsets into the slices. It lets the AMX
// driver run on machines without AMX; the encodings themselves are checked
// by TestBF16Encodings.
func amxKernelEmulated(a []uint16, lda int, b []uint32, kt int, c []float32, nb int) {
	var acc [4][16][16]float32 // tmm0..3
	var ta [2][16][32]uint16   // tmm4, tmm5: rows of A, 32 bf16 each
	var tb [2][16][16]uint32   // tmm6, tmm7: 16 pair-rows of B, 16 pairs each
	di := 0                    // DI, in uint32
	r8 := 0                    // R8, in float32
	for q := 0; q < nb; q++ {
		si, bx := 0, 16*lda // SI, BX in uint16: A rows 0-15 and 16-31
		acc = [4][16][16]float32{}
		for range kt {
			for r := 0; r < 16; r++ {
				copy(ta[0][r][:], a[si+r*lda:])   // tileloadd tmm4, [rsi+rdx*1]
				copy(ta[1][r][:], a[bx+r*lda:])   // tileloadd tmm5, [rbx+rdx*1]
				copy(tb[0][r][:], b[di+r*32:])    // tileloadd tmm6, [rdi+r11*1] (128-byte rows)
				copy(tb[1][r][:], b[di+r*32+16:]) // tileloadd tmm7, [rdi+r11*1+64]
			}
			for t, ops := range [4][2]int{{0, 0}, {0, 1}, {1, 0}, {1, 1}} { // tdpbf16ps tmm0..3
				for m := 0; m < 16; m++ {
					for n := 0; n < 16; n++ {
						s := acc[t][m][n]
						for k := 0; k < 16; k++ {
							pair := tb[ops[1]][k][n]
							s += Float32FromBF16(ta[ops[0]][m][2*k])*Float32FromBF16(uint16(pair)) +
								Float32FromBF16(ta[ops[0]][m][2*k+1])*Float32FromBF16(uint16(pair>>16))
						}
						acc[t][m][n] = s
					}
				}
			}
			si += 32
			bx += 32
			di += 512
		}
		r13 := r8 + 512
		for m := 0; m < 16; m++ { // tilestored, rows of 128 bytes
			copy(c[r8+m*32:], acc[0][m][:])
			copy(c[r8+m*32+16:], acc[1][m][:])
			copy(c[r13+m*32:], acc[2][m][:])
			copy(c[r13+m*32+16:], acc[3][m][:])
		}
		r8 += 1024
	}
}

// TestGemmBF16EveryTileHeight covers each row count of the AVX-512 tile
// (1 to 12) as the last tile.
func TestGemmBF16EveryTileHeight(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, path := range bf16Paths() {
		restore := path.set()
		for m := 1; m <= 24; m++ {
			p := newBF16Problem(rng, false, m, 40, 19, 0, 1, 0.5)
			p.check(t, path.name, p.run(true))
		}
		restore()
	}
}

// TestGemmBF16Panels checks GemmBF16Panels (B packed once, A rounded per
// call) on every path against the float64 loop, with guard values around
// C, and that a row's result does not depend on the other rows.
func TestGemmBF16Panels(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	dims := [][3]int{{1, 1, 1}, {1, 100, 70}, {3, 33, 513}, {8, 64, 1100}, {13, 31, 40}, {40, 200, 9}, {2, 0, 3}, {2, 3, 0}}
	for _, path := range bf16Paths() {
		t.Run(path.name, func(t *testing.T) {
			restore := path.set()
			defer restore()
			for _, d := range dims {
				for _, transB := range []bool{false, true} {
					for _, beta := range []float32{0, 1} {
						m, n, k := d[0], d[1], d[2]
						// bf16Problem's A is m×k and B is op(B): reuse it,
						// packing B instead of A.
						p := newBF16Problem(rng, transB, m, n, k, 0, 2, beta)
						pb := PackBF16Panels(transB, k, n, p.b, p.ldb)
						run := func(rows int) []float32 {
							c := append([]float32(nil), p.c0...)
							if m > 0 && n > 0 {
								GemmBF16Panels(rows, p.af, max(k, 1), pb, beta, c[p.off:], p.ldc)
							}
							return c
						}
						got := run(m)
						p.check(t, path.name+" panels", got)
						if m > 1 && n > 0 && path.name != "float32" {
							one := run(1)
							for j := 0; j < n; j++ {
								if one[p.off+j] != got[p.off+j] {
									t.Fatalf("%s %v: row 0 alone %v, with %d rows %v", path.name, p, one[p.off+j], m, got[p.off+j])
								}
							}
						}
					}
				}
			}
		})
	}
}
