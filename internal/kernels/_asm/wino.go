package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The Winograd F(4×4, 3×3) transforms (Lavin & Gray 2016) used by
// ../wino.go: Bᵀ maps 6 input values to 6 transformed ones, Aᵀ maps 6
// products back to 4 outputs. The kernels apply them along one axis at a
// time, to vectors of values (tiles, channels, rows) that sit at the same
// positions of 6 source rows.
var (
	winoBT = [][]float64{
		{4, 0, -5, 0, 1, 0},
		{0, -4, -4, 1, 1, 0},
		{0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0},
		{0, 2, -1, -2, 1, 0},
		{0, 4, 0, -5, 0, 1},
	}
	winoAT = [][]float64{
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 0},
		{0, 1, 1, 4, 4, 0},
		{0, 1, -1, 8, -8, 1},
	}
)

// winoKernel emits name(dst *float32, dstStride int, src *float32, off
// *[6]int, n int), which sets, for r < len(coef) and i < n,
//
//	dst[r·dstStride + i] = Σ_j coef[r][j] · src[off[j] + i]
//
// with the sum taken term by term in the order of j (the first term with a
// positive coefficient first). Coefficients ±1 become additions and
// subtractions, zeros are skipped; n need not be a multiple of 16 (the last
// vector is masked).
func winoKernel(name string, coef [][]float64) {
	TEXT(name, NOSPLIT, "func(dst *float32, dstStride int, src *float32, off *[6]int, n int)")
	Doc(fmt.Sprintf("%s applies a %d×6 Winograd transform along 6 source rows (see wino.go).", name, len(coef)))
	pd := GP64()
	Load(Param("dst"), pd)
	stride := Load(Param("dstStride"), GP64())
	SHLQ(U8(2), stride)
	pd1 := GP64()
	LEAQ(Mem{Base: pd, Index: stride, Scale: 1}, pd1)
	ps := Load(Param("src"), GP64())
	po := Load(Param("off"), GP64())
	src := make([]GPVirtual, 6)
	for j := range src {
		src[j] = GP64()
		MOVQ(Mem{Base: po, Disp: 8 * j}, src[j])
		LEAQ(Mem{Base: ps, Index: src[j], Scale: 4}, src[j])
	}
	n := GP64()
	Load(Param("n"), n)
	rows := []Mem{
		{Base: pd}, {Base: pd1}, {Base: pd, Index: stride, Scale: 2},
		{Base: pd1, Index: stride, Scale: 2}, {Base: pd, Index: stride, Scale: 4},
		{Base: pd1, Index: stride, Scale: 4},
	}
	// Constant registers for the coefficients other than 0 and ±1.
	consts := map[float64]VecPhysical{}
	next := 31
	for _, row := range coef {
		for _, c := range row {
			if c == 0 || math.Abs(c) == 1 {
				continue
			}
			if _, ok := consts[c]; !ok {
				consts[c] = vecReg(16, next)
				broadcast(c, consts[c])
				next--
			}
		}
	}
	in := []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5}
	acc := []VecPhysical{Z6, Z7, Z8, Z9, Z10, Z11}
	body := func(mask bool) {
		for j, r := range in {
			if mask {
				VMOVUPS_Z(Mem{Base: src[j]}, K1, r)
			} else {
				VMOVUPS(Mem{Base: src[j]}, r)
			}
		}
		for r, row := range coef {
			a := acc[r]
			first := -1
			for j, c := range row {
				if c > 0 {
					first = j
					break
				}
			}
			if c := row[first]; c == 1 {
				VMOVAPS(in[first], a)
			} else {
				VMULPS(consts[c], in[first], a)
			}
			for j, c := range row {
				switch {
				case j == first || c == 0:
				case c == 1:
					VADDPS(in[j], a, a)
				case c == -1:
					VSUBPS(in[j], a, a)
				default:
					VFMADD231PS(consts[c], in[j], a)
				}
			}
		}
		for r := range coef {
			if mask {
				VMOVUPS(acc[r], K1, rows[r])
			} else {
				VMOVUPS(acc[r], rows[r])
			}
		}
	}
	ptrs := []Register{pd, pd1}
	for _, p := range src {
		ptrs = append(ptrs, p)
	}
	maskedLoop(name, n, ptrs, nil, body)
	VZEROUPPER()
	RET()
}

// constVector emits a read-only 64-byte table of 16 uint32 lanes.
func constVector(name string, lanes func(i int) uint32) Mem {
	m := GLOBL(name, RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U32(lanes(i)))
	}
	return m
}

// winoSplitKernel emits winoSplit4AVX512(dst *float32, stride int, src
// *float32, n int): dst[p·stride + j] = src[4j + p] for p < 4 and j < n
// (the last vector masked), the four column phases of a row. Two rounds of
// VPERMI2PS: even and odd floats of 32, then of the evens and of the odds.
func winoSplitKernel() {
	TEXT("winoSplit4AVX512", NOSPLIT, "func(dst *float32, stride int, src *float32, n int)")
	Doc("winoSplit4AVX512 sets dst[p*stride+j] = src[4j+p] for p < 4, j < n.")
	even := constVector("wino_even", func(i int) uint32 { return uint32(2 * i) })
	odd := constVector("wino_odd", func(i int) uint32 { return uint32(2*i + 1) })
	pd := GP64()
	Load(Param("dst"), pd)
	stride := GP64()
	Load(Param("stride"), stride)
	SHLQ(U8(2), stride)
	pd1 := GP64()
	LEAQ(Mem{Base: pd, Index: stride, Scale: 1}, pd1)
	ps := GP64()
	Load(Param("src"), ps)
	n := GP64()
	Load(Param("n"), n)
	ev, od := Z30, Z31
	VMOVDQU32(even, ev)
	VMOVDQU32(odd, od)
	// The tail's masks: K1 for n < 16 outputs per phase, K2-K5 for the 4n
	// floats read (16 bits each of (1 << 4n) − 1).
	splitBody := func(mask bool) {
		for i := 0; i < 4; i++ {
			if mask {
				VMOVUPS_Z(Mem{Base: ps, Disp: 64 * i}, []Op{K2, K3, K4, K5}[i], vecReg(16, i))
			} else {
				VMOVUPS(Mem{Base: ps, Disp: 64 * i}, vecReg(16, i))
			}
		}
		// Z4, Z5: even and odd of src[0:32]; Z6, Z7: of src[32:64].
		pair := func(idx, lo, hi, dst VecPhysical) {
			VMOVAPS(idx, dst)
			VPERMI2PS(hi, lo, dst)
		}
		pair(ev, Z0, Z1, Z4)
		pair(od, Z0, Z1, Z5)
		pair(ev, Z2, Z3, Z6)
		pair(od, Z2, Z3, Z7)
		pair(ev, Z4, Z6, Z8)  // phase 0
		pair(od, Z4, Z6, Z9)  // phase 2
		pair(ev, Z5, Z7, Z10) // phase 1
		pair(od, Z5, Z7, Z11) // phase 3
		stores := []Mem{{Base: pd}, {Base: pd1}, {Base: pd, Index: stride, Scale: 2}, {Base: pd1, Index: stride, Scale: 2}}
		for i, z := range []VecPhysical{Z8, Z10, Z9, Z11} {
			if mask {
				VMOVUPS(z, K1, stores[i])
			} else {
				VMOVUPS(z, stores[i])
			}
		}
	}
	maskedLoop("split", n, []Register{ps, pd, pd1}, []int{256, 64, 64}, splitBody)
	VZEROUPPER()
	RET()
}

// winoJoinKernel emits winoJoin4AVX512(dst, y *float32, stride int, n int,
// bias float32): dst[4j + b] = y[b·stride + j] + bias for b < 4 and j < n
// (the last vector masked), the inverse of winoSplit4 with the bias added.
// VPERMI2PS interleaves y0 with y1 and y2 with y3 float by float, VPERMI2PD
// the two results pair by pair.
func winoJoinKernel() {
	TEXT("winoJoin4AVX512", NOSPLIT, "func(dst, y *float32, stride int, n int, bias float32)")
	Doc("winoJoin4AVX512 sets dst[4j+b] = y[b*stride+j] + bias for b < 4, j < n.")
	lo := constVector("wino_ilo", func(i int) uint32 { return uint32(i/2 + 16*(i%2)) })
	hi := constVector("wino_ihi", func(i int) uint32 { return uint32(8 + i/2 + 16*(i%2)) })
	// Quadword indices, as pairs of dwords (index, 0).
	qlo := constVector("wino_qlo", func(i int) uint32 {
		if i%2 == 1 {
			return 0
		}
		q := i / 2
		return uint32(q/2 + 8*(q%2))
	})
	qhi := constVector("wino_qhi", func(i int) uint32 {
		if i%2 == 1 {
			return 0
		}
		q := i / 2
		return uint32(4 + q/2 + 8*(q%2))
	})
	pd := GP64()
	Load(Param("dst"), pd)
	py := GP64()
	Load(Param("y"), py)
	stride := GP64()
	Load(Param("stride"), stride)
	SHLQ(U8(2), stride)
	py1 := GP64()
	LEAQ(Mem{Base: py, Index: stride, Scale: 1}, py1)
	n := GP64()
	Load(Param("n"), n)
	bias := Z26
	bx := XMM()
	Load(Param("bias"), bx)
	VBROADCASTSS(bx, bias)
	ilo, ihi, iqlo, iqhi := Z27, Z28, Z29, Z30
	VMOVDQU32(lo, ilo)
	VMOVDQU32(hi, ihi)
	VMOVDQU32(qlo, iqlo)
	VMOVDQU32(qhi, iqhi)
	joinBody := func(mask bool) {
		loads := []Mem{{Base: py}, {Base: py1}, {Base: py, Index: stride, Scale: 2}, {Base: py1, Index: stride, Scale: 2}}
		for i, m := range loads {
			if mask {
				VMOVUPS_Z(m, K1, vecReg(16, i))
				VADDPS(vecReg(16, i), bias, vecReg(16, i))
			} else {
				VADDPS(m, bias, vecReg(16, i))
			}
		}
		perm := func(idx, a, b, dst VecPhysical, pd bool) {
			VMOVAPS(idx, dst)
			if pd {
				VPERMI2PD(b, a, dst)
			} else {
				VPERMI2PS(b, a, dst)
			}
		}
		perm(ilo, Z0, Z1, Z4, false) // y0,y1 of tiles 0-7
		perm(ihi, Z0, Z1, Z5, false) // tiles 8-15
		perm(ilo, Z2, Z3, Z6, false)
		perm(ihi, Z2, Z3, Z7, false)
		perm(iqlo, Z4, Z6, Z8, true) // tiles 0-3
		perm(iqhi, Z4, Z6, Z9, true) // 4-7
		perm(iqlo, Z5, Z7, Z10, true)
		perm(iqhi, Z5, Z7, Z11, true)
		for i, z := range []VecPhysical{Z8, Z9, Z10, Z11} {
			if mask {
				VMOVUPS(z, []Op{K2, K3, K4, K5}[i], Mem{Base: pd, Disp: 64 * i})
			} else {
				VMOVUPS(z, Mem{Base: pd, Disp: 64 * i})
			}
		}
	}
	maskedLoop("join", n, []Register{pd, py, py1}, []int{256, 64, 64}, joinBody)
	VZEROUPPER()
	RET()
}

// tailMasks sets, for 0 < n < 16, k1 to the low n bits and wide[i] to bits
// [16i, 16i+16) of the low 4n bits (a vector of n floats and its four
// vectors of 4n).
func tailMasks(n Register, k1 Op, wide []Op) {
	t := GP64()
	MOVQ(U64(1), t)
	SHLXQ(n, t, t)
	DECQ(t)
	KMOVW(t.As32(), k1)
	n4 := GP64()
	MOVQ(n, n4)
	SHLQ(U8(2), n4)
	MOVQ(U64(1), t)
	SHLXQ(n4, t, t)
	DECQ(t)
	for i, k := range wide {
		if i > 0 {
			SHRQ(U8(16), t)
		}
		KMOVW(t.As32(), k)
	}
}

// maskedLoop emits the loop of the Winograd kernels over n elements:
// body(false) while 16 remain, each pointer ptrs[i] advancing by steps[i]
// bytes (64 when steps is nil), then, if n%16 > 0, body(true) once with
// the masks of tailMasks set (K1 for 16-lane vectors, K2-K5 for the four
// vectors of 64).
func maskedLoop(name string, n Register, ptrs []Register, steps []int, body func(mask bool)) {
	Label(name + "_loop")
	CMPQ(n, U32(16))
	JL(LabelRef(name + "_tail"))
	body(false)
	for i, p := range ptrs {
		step := 64
		if steps != nil {
			step = steps[i]
		}
		ADDQ(U32(step), p)
	}
	SUBQ(U32(16), n)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	tailMasks(n, K1, []Op{K2, K3, K4, K5})
	body(true)
	Label(name + "_done")
}
