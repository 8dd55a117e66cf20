package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The float32 exponential of the element-wise kernels (see
// ../elementwise.go for the algorithm): e^x = 2^n · p(r), n = round(x·log₂e),
// r = x − n·ln2 (ln2 split in a high part exact in float32 and a low part),
// p the degree-7 Taylor polynomial of e^r on |r| ≤ ln2/2 (remainder below
// 5.3e-9), 2^n applied by VSCALEFPS. Inputs are clamped to [−104, 89]
// first, so that −∞ gives 0 and large inputs +∞ through VSCALEFPS, never NaN.
const (
	expLo = -104.0
	expHi = 89
	ln2Hi = 0.693359375 // ln 2 rounded to 10 bits: n·ln2Hi is exact
	ln2Lo = -2.12194440e-4
)

// expTaylor holds 1/k! for k = 7 down to 0, the Horner order.
var expTaylor = []float64{1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1, 1}

// erfcAS holds the coefficients a5 … a1 of Abramowitz and Stegun 7.1.26,
// erfc(a) ≈ (a1·t + a2·t² + … + a5·t⁵)·e^(−a²), t = 1/(1 + p·a), with
// absolute error below 1.5e-7 for a ≥ 0.
var erfcAS = []float64{1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592}

const erfcP = 0.3275911

// vectorLoop emits the loop of the element-wise kernels over n floats (a
// multiple of 16): body(m) processes m vectors of 16 and advances the
// pointers ptrs by 64·m bytes; the loop runs body(u) while 16·u floats
// remain, then body(1).
func vectorLoop(name string, n Register, u int, ptrs []Register, body func(m int)) {
	step := func(m int) {
		body(m)
		for _, p := range ptrs {
			ADDQ(U32(64*m), p)
		}
		SUBQ(U32(16*m), n)
	}
	if u > 1 {
		Label(name + "_loop")
		CMPQ(n, U32(16*u))
		JL(LabelRef(name + "_tail"))
		step(u)
		JMP(LabelRef(name + "_loop"))
	}
	Label(name + "_tail")
	CMPQ(n, U32(16))
	JL(LabelRef(name + "_done"))
	step(1)
	JMP(LabelRef(name + "_tail"))
	Label(name + "_done")
}

// broadcast loads the float32 constant v into every lane of z.
func broadcast(v float64, z VecPhysical) {
	t := GP32()
	MOVL(U32(math.Float32bits(float32(v))), t)
	VPBROADCASTD(t, z)
}

// expConsts are the registers holding the exponential's constants.
type expConsts struct {
	lo, hi, log2e, ln2hi, ln2lo VecPhysical
	taylor                      []VecPhysical
}

func loadExpConsts() expConsts {
	c := expConsts{lo: Z20, hi: Z21, log2e: Z22, ln2hi: Z23, ln2lo: Z24,
		taylor: []VecPhysical{Z25, Z26, Z27, Z28, Z29, Z30, Z31}}
	broadcast(expLo, c.lo)
	broadcast(expHi, c.hi)
	broadcast(math.Log2E, c.log2e)
	broadcast(ln2Hi, c.ln2hi)
	broadcast(ln2Lo, c.ln2lo)
	// taylor[0..6] hold 1/7! … 1/1!; the constant term 1 is the last
	// coefficient too, so taylor[6] serves both.
	for i, r := range c.taylor {
		broadcast(expTaylor[i], r)
	}
	return c
}

// exp replaces each x[i] by e^x[i], using n[i] and p[i] as scratch; the
// vectors are interleaved for instruction-level parallelism.
func (c expConsts) exp(x, n, p []VecPhysical) {
	for i := range x {
		VMINPS(x[i], c.hi, x[i]) // NaN stays NaN
		VMAXPS(x[i], c.lo, x[i])
	}
	for i := range x {
		VMULPS(c.log2e, x[i], n[i])
	}
	for i := range x {
		VRNDSCALEPS(U8(0), n[i], n[i]) // round to nearest even
	}
	for i := range x {
		VFNMADD231PS(c.ln2hi, n[i], x[i]) // x −= n·ln2hi
	}
	for i := range x {
		VFNMADD231PS(c.ln2lo, n[i], x[i]) // r = x − n·ln2lo
	}
	for i := range x {
		VMOVAPS(c.taylor[0], p[i])
	}
	for k := 1; k < len(expTaylor); k++ {
		co := c.taylor[min(k, len(c.taylor)-1)]
		for i := range x {
			VFMADD213PS(co, x[i], p[i]) // p = p·r + 1/k!
		}
	}
	for i := range x {
		VSCALEFPS(n[i], p[i], x[i]) // x = p·2^n
	}
}

// expKernel emits expAVX512(dst, src *float32, n int, shift float32) float32:
// dst[i] = e^(src[i]−shift) for i < n (a multiple of 16), returning their sum.
func expKernel() {
	TEXT("expAVX512", NOSPLIT, "func(dst, src *float32, n int, shift float32) float32")
	Doc("expAVX512 sets dst[i] = exp(src[i]-shift) for i < n (a multiple of 16) and returns their sum.")
	pd := Load(Param("dst"), GP64())
	ps := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	sAddr, err := Param("shift").Resolve()
	if err != nil {
		panic(err)
	}
	shift := Z19
	VBROADCASTSS(sAddr.Addr, shift)
	c := loadExpConsts()
	sum := Z18
	VPXORD(sum, sum, sum)
	x := []VecPhysical{Z0, Z1, Z2, Z3}
	nn := []VecPhysical{Z4, Z5, Z6, Z7}
	p := []VecPhysical{Z8, Z9, Z10, Z11}
	vectorLoop("exp", n, 4, []Register{ps, pd}, func(m int) {
		for i := 0; i < m; i++ {
			VMOVUPS(Mem{Base: ps, Disp: 64 * i}, x[i])
			VSUBPS(shift, x[i], x[i])
		}
		c.exp(x[:m], nn[:m], p[:m])
		for i := 0; i < m; i++ {
			VMOVUPS(x[i], Mem{Base: pd, Disp: 64 * i})
			VADDPS(x[i], sum, sum)
		}
	})
	VEXTRACTF64X4(U8(1), sum, Y1)
	VADDPS(Y1, Y18, Y0)
	VEXTRACTF128(U8(1), Y0, X1)
	VADDPS(X1, X0, X0)
	VMOVHLPS(X0, X0, X1)
	VADDPS(X1, X0, X0)
	VMOVSHDUP(X0, X1)
	VADDSS(X1, X0, X0)
	VZEROUPPER()
	Store(X0, ReturnIndex(0))
	RET()
}

// geluKernel emits geluAVX512(dst, src *float32, n int): dst[i] = GELU(src[i])
// for i < n (a multiple of 16), with
//
//	GELU(x) = x·Φ(x) = max(x, 0) − ½|x|·erfc(|x|/√2),
//
// which has no cancellation for either sign, erfc from Abramowitz and
// Stegun 7.1.26. One vector per iteration: the iterations are independent,
// so the core overlaps them.
func geluKernel() {
	TEXT("geluAVX512", NOSPLIT, "func(dst, src *float32, n int)")
	Doc("geluAVX512 sets dst[i] = GELU(src[i]) for i < n (a multiple of 16).")
	pd := Load(Param("dst"), GP64())
	ps := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	c := loadExpConsts()
	absMask, invSqrt2, half, one, pc, zero, big := Z12, Z13, Z14, Z15, Z16, Z17, Z18
	coef := []VecPhysical{Z7, Z8, Z9, Z10, Z11}
	t := GP32()
	MOVL(U32(0x7fffffff), t)
	VPBROADCASTD(t, absMask)
	broadcast(1/math.Sqrt2, invSqrt2)
	broadcast(0.5, half)
	broadcast(1, one)
	broadcast(erfcP, pc)
	VPXORD(zero, zero, zero)
	broadcast(1e30, big)
	for i, r := range coef {
		broadcast(erfcAS[i], r)
	}
	x, ha, a, tt, e, s1, s2 := Z0, Z1, Z2, Z3, Z4, Z5, Z6
	vectorLoop("gelu", n, 1, []Register{ps, pd}, func(int) {
		VMOVUPS(Mem{Base: ps}, x)
		VPANDD(absMask, x, ha)  // |x|
		VMULPS(invSqrt2, ha, a) // a = |x|/√2
		VMULPS(half, ha, ha)    // ½|x|
		VMOVAPS(one, tt)        //
		VFMADD231PS(pc, a, tt)  // 1 + p·a
		VDIVPS(tt, one, tt)     // t = 1/(1 + p·a)
		VPXORD(e, e, e)         //
		VFNMADD231PS(a, a, e)   // −a²
		c.exp([]VecPhysical{e}, []VecPhysical{s1}, []VecPhysical{s2})
		VMOVAPS(coef[0], s1)
		for _, co := range coef[1:] {
			VFMADD213PS(co, tt, s1) // s1 = s1·t + a_k
		}
		VMULPS(tt, s1, s1)       // ·t
		VMULPS(e, s1, s1)        // erfc(a)
		VMAXPS(x, zero, s2)      // ½(x + |x|) = max(x, 0); NaN stays NaN
		VMINPS(ha, big, ha)      // ½|x| capped: ±∞·erfc(∞) gives 0, not NaN
		VFNMADD231PS(ha, s1, s2) // − ½|x|·erfc(a)
		VMOVUPS(s2, Mem{Base: pd})
	})
	VZEROUPPER()
	RET()
}

// stabDivKernel emits stabDivAVX512(dst, r, z *float32, n int, eps float32):
// dst[i] = r[i] / (z[i] + ε·sign(z[i])) with sign(±0) = +1, for n a
// multiple of 16 and ε ≥ 0. The sign is taken from z + 0, which turns −0
// into +0, so no compare or branch is needed.
func stabDivKernel() {
	TEXT("stabDivAVX512", NOSPLIT, "func(dst, r, z *float32, n int, eps float32)")
	Doc("stabDivAVX512 sets dst[i] = r[i] / (z[i] + eps*sign(z[i])), sign(±0) = +1, for i < n (a multiple of 16), eps ≥ 0.")
	pd := Load(Param("dst"), GP64())
	pr := Load(Param("r"), GP64())
	pz := Load(Param("z"), GP64())
	n := Load(Param("n"), GP64())
	eAddr, err := Param("eps").Resolve()
	if err != nil {
		panic(err)
	}
	epsV, sign, zero := Z30, Z31, Z29
	VBROADCASTSS(eAddr.Addr, epsV)
	t := GP32()
	MOVL(U32(0x80000000), t)
	VPBROADCASTD(t, sign)
	VPXORD(zero, zero, zero)
	vectorLoop("sd", n, 4, []Register{pd, pr, pz}, func(m int) {
		for i := 0; i < m; i++ {
			z, s := vecReg(16, i), vecReg(16, 8+i)
			VMOVUPS(Mem{Base: pz, Disp: 64 * i}, z)
			VADDPS(zero, z, s) // −0 → +0
			VPANDD(sign, s, s)
			VPORD(epsV, s, s) // ε with z's sign
			VADDPS(z, s, s)
			VMOVUPS(Mem{Base: pr, Disp: 64 * i}, z)
			VDIVPS(s, z, z)
			VMOVUPS(z, Mem{Base: pd, Disp: 64 * i})
		}
	})
	VZEROUPPER()
	RET()
}
