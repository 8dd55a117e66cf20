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
	Label(name + "_loop")
	CMPQ(n, U32(16))
	JL(LabelRef(name + "_tail"))
	body(false)
	for _, p := range append([]GPVirtual{pd, pd1}, src...) {
		ADDQ(U32(64), p)
	}
	SUBQ(U32(16), n)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	// K1 = (1 << n) − 1 for the last n < 16 floats.
	t := GP32()
	MOVL(U32(1), t)
	SHLXL(n.As32(), t, t)
	DECL(t)
	KMOVW(t, K1)
	body(true)
	Label(name + "_done")
	VZEROUPPER()
	RET()
}
