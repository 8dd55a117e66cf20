package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// reluKernel emits reluAVX512(dst, src, x *float32, n int): dst[i] = src[i]
// where x[i] > 0, else +0 (NaN in x counts as not positive), for n a
// multiple of 16: VCMPPS (0 < x, LT_OQ) into a mask, then a zeroing masked move.
func reluKernel() {
	TEXT("reluAVX512", NOSPLIT, "func(dst, src, x *float32, n int)")
	Doc("reluAVX512 sets dst[i] = src[i] where x[i] > 0, else 0, for i < n (a multiple of 16).")
	pd := Load(Param("dst"), GP64())
	ps := Load(Param("src"), GP64())
	px := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	zero := Z31
	VPXORD(zero, zero, zero)
	ks := []Op{K1, K2, K3, K4}
	vectorLoop("relu", n, 4, []Register{pd, ps, px}, func(m int) {
		for i := 0; i < m; i++ {
			VCMPPS(U8(0x11), Mem{Base: px, Disp: 64 * i}, zero, ks[i]) // 0 < x, ordered (LT_OQ)
		}
		for i := 0; i < m; i++ {
			VMOVUPS_Z(Mem{Base: ps, Disp: 64 * i}, ks[i], vecReg(16, i))
		}
		for i := 0; i < m; i++ {
			VMOVUPS(vecReg(16, i), Mem{Base: pd, Disp: 64 * i})
		}
	})
	VZEROUPPER()
	RET()
}

// max2x2Kernel emits max2x2AVX512(dst, r0, r1 *float32, n int): dst[j] =
// the maximum of r0[2j], r0[2j+1], r1[2j], r1[2j+1] for j < n (a multiple
// of 16), taken in that order with >, so that of equal values (±0) the
// first is kept, as the scalar loop does; a window holding a NaN gives NaN.
// VPERMI2PS splits each 32-float row piece into its even and odd columns.
func max2x2Kernel() {
	TEXT("max2x2AVX512", NOSPLIT, "func(dst, r0, r1 *float32, n int)")
	Doc("max2x2AVX512 sets dst[j] to the maximum of r0[2j], r0[2j+1], r1[2j], r1[2j+1] for j < n (a multiple of 16).")
	pd := Load(Param("dst"), GP64())
	p0 := Load(Param("r0"), GP64())
	p1 := Load(Param("r1"), GP64())
	n := Load(Param("n"), GP64())
	// Permutation indices: even lanes i hold 2i, odd ones 2i+1. The lane
	// numbers 0…15 come from adding one to lanes ≥ i for i = 1…15.
	even, odd, idx, one := Z30, Z31, Z29, Z28
	t := GP32()
	zero(16, idx)
	MOVL(U32(1), t)
	VPBROADCASTD(t, one)
	for i := 1; i < 16; i++ {
		MOVL(U32(uint32(0xffff<<i)&0xffff), t)
		KMOVW(t, K1)
		VPADDD(one, idx, K1, idx)
	}
	VPADDD(idx, idx, even) // 2i
	VPADDD(one, even, odd) // 2i+1
	a, b, c, d := Z0, Z1, Z2, Z3
	vectorLoop("max", n, 1, []Register{pd, p0, p1}, func(int) {
		VMOVUPS(Mem{Base: p0}, Z4)
		VMOVUPS(Mem{Base: p0, Disp: 64}, Z5)
		VMOVUPS(Mem{Base: p1}, Z6)
		VMOVUPS(Mem{Base: p1, Disp: 64}, Z7)
		VMOVAPS(even, a)
		VPERMI2PS(Z5, Z4, a)
		VMOVAPS(odd, b)
		VPERMI2PS(Z5, Z4, b)
		VMOVAPS(even, c)
		VPERMI2PS(Z7, Z6, c)
		VMOVAPS(odd, d)
		VPERMI2PS(Z7, Z6, d)
		// NaN anywhere in the window: the sum of its four values is NaN.
		VCMPPS(U8(3), b, a, K2) // unordered
		VCMPPS(U8(3), d, c, K3)
		KORW(K2, K3, K2)
		VADDPS(b, a, Z8)
		VADDPS(d, c, Z9)
		VADDPS(Z9, Z8, Z8)
		best := Z10
		VMOVAPS(a, best)
		for _, v := range []VecPhysical{b, c, d} {
			VCMPPS(U8(0x1e), best, v, K1) // v > best (GT_OQ)
			VMOVAPS(v, K1, best)
		}
		VMOVAPS(Z8, K2, best)
		VMOVUPS(best, Mem{Base: pd})
		ADDQ(U32(64), p0) // the rows advance 128 bytes per 64 of dst
		ADDQ(U32(64), p1)
	})
	VZEROUPPER()
	RET()
}
