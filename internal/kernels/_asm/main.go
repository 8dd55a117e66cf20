// Command _asm generates the amd64 assembly of package kernels with avo.
//
//	cd internal/kernels/_asm && go run . -out ../gemm_amd64.s
//
// It is a separate module so that the library itself does not depend on avo.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// kernelSig is the Go signature shared by all GEMM micro-kernels.
const kernelSig = "func(k int, a, b, c *float32, ldc int, beta float32)"

// kernelSigStrided is the signature of the micro-kernels that read B in place.
const kernelSigStrided = "func(k int, a, b, c *float32, ldc int, beta float32, ldb int)"

func main() {
	ConstraintExpr("!purego")

	// AVX-512: mr rows of broadcast A times nv zmm vectors (16 floats each) of B:
	// 12×32 (24 accumulators) and 8×32 for row counts that are multiples of 8.
	gemmKernel("sgemmKernelAVX512", 16, 32, 12, 2, 4, 32)
	gemmKernel("sgemmKernelAVX512x8", 16, 32, 8, 2, 4, 32)
	// Their halves, for the last column panel when it has at most 16
	// columns: the same 32-wide B̃ panels, only the first zmm of each row.
	gemmKernel("sgemmKernelAVX512Half", 16, 32, 12, 1, 4, 32)
	gemmKernel("sgemmKernelAVX512x8Half", 16, 32, 8, 1, 4, 32)
	// AVX2+FMA: the classic 6×16 tile (12 ymm accumulators).
	gemmKernel("sgemmKernelAVX2", 8, 16, 6, 2, 4, 16)
	// The same, reading full slivers of a non-transposed B in place (for
	// small m, where packing B̃ would cost as much as using it).
	gemmKernel("sgemmKernelAVX512Strided", 16, 32, 12, 2, 4, 0)
	gemmKernel("sgemmKernelAVX512x8Strided", 16, 32, 8, 2, 4, 0)
	gemmKernel("sgemmKernelAVX2Strided", 8, 16, 6, 2, 4, 0)

	for _, r := range []int{12, 32, 8, 6, 16} {
		packT(r)
		packN(r)
	}
	for _, w := range []int{32, 16} {
		packRows(w, 8)
		packRows(w, 1)
	}

	peakFMA()
	dotKernel()
	axpyKernel()
	expKernel()
	geluKernel()
	stabDivKernel()
	reluKernel()
	max2x2Kernel()
	winoKernel("winoInputAVX512", winoBT)
	winoKernel("winoOutputAVX512", winoAT)
	winoSplitKernel()
	winoJoinKernel()

	Generate()
}

// vecReg returns vector register i of the given width in floats (16: Z, 8: Y).
func vecReg(width, i int) VecPhysical {
	if width == 16 {
		return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
			Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}[i]
	}
	return []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}[i]
}

// gemmKernel emits a micro-kernel computing the mr×(nv*width) tile
//
//	C[i*ldc+j] = sum_p a[p*mr+i]*b[p*nr+j] + beta*C[i*ldc+j]
//
// for i < mr, j < nr = nv*width, where a and b are packed panels of k steps
// (b has bstride >= nr floats per step). When beta is ±0, C is not read.
// The k loop is unrolled unroll times.
//
// With bstride == 0, b is not packed: the kernel takes an extra argument
// ldb, reads row p of the sliver at b[p*ldb:], and prefetches the same rows
// of the next sliver (the nr floats that follow), which the next call uses.
func gemmKernel(name string, width, nregs, mr, nv, unroll, bstride int) {
	nr := nv * width
	vbytes := width * 4
	if mr*nv+nv+1 > nregs {
		panic("tile too large for register file")
	}
	sig, what := kernelSig, fmt.Sprintf("packed panels (B: %d floats per k)", bstride)
	if bstride == 0 {
		sig, what = kernelSigStrided, "a packed A panel and B rows ldb apart"
	}
	TEXT(name, NOSPLIT, sig)
	Doc(fmt.Sprintf("%s computes a %d×%d tile: C = A·B + beta·C from %s.", name, mr, nr, what))
	pk := Load(Param("k"), GP64())
	pa := Load(Param("a"), GP64())
	pb := Load(Param("b"), GP64())
	var ldb Register
	if bstride == 0 {
		ldb = Load(Param("ldb"), GP64())
		SHLQ(U8(2), ldb)
	}

	acc := func(i, v int) VecPhysical { return vecReg(width, i*nv+v) }
	breg := func(v int) VecPhysical { return vecReg(width, mr*nv+v) }
	nfree := nregs - mr*nv - nv
	treg := func(i int) VecPhysical { return vecReg(width, mr*nv+nv+i%nfree) }

	pc := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	if prefetchC {
		Comment("Prefetch the C tile, so that its update at the end does not stall.")
		pf := GP64()
		MOVQ(pc, pf)
		for i := 0; i < mr; i++ {
			for off := 0; off < nr*4; off += 64 {
				PREFETCHT0(Mem{Base: pf, Disp: off})
			}
			if i != mr-1 {
				ADDQ(ldc, pf)
			}
		}
	}

	Comment("Zero the accumulators.")
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			zero(width, acc(i, v))
		}
	}

	step := func(u int) {
		ao := u * mr * 4
		bo := u * bstride * 4
		if bstride == 0 {
			for off := 0; off < nr*4; off += 64 {
				PREFETCHT0(Mem{Base: pb, Disp: nr*4 + off})
			}
		}
		for v := 0; v < nv; v++ {
			VMOVUPS(Mem{Base: pb, Disp: bo + v*vbytes}, breg(v))
		}
		for i := 0; i < mr; i++ {
			t := treg(i)
			VBROADCASTSS(Mem{Base: pa, Disp: ao + 4*i}, t)
			for v := 0; v < nv; v++ {
				VFMADD231PS(breg(v), t, acc(i, v))
			}
		}
	}

	kmain := GP64()
	MOVQ(pk, kmain)
	SHRQ(U8(log2(unroll)), kmain)
	JZ(LabelRef(name + "_tail"))
	Label(name + "_loop")
	for u := 0; u < unroll; u++ {
		step(u)
		if bstride == 0 {
			ADDQ(ldb, pb)
		}
	}
	ADDQ(U32(unroll*mr*4), pa)
	if bstride != 0 {
		ADDQ(U32(unroll*bstride*4), pb)
	}
	DECQ(kmain)
	JNZ(LabelRef(name + "_loop"))

	Label(name + "_tail")
	ANDQ(U32(unroll-1), pk)
	JZ(LabelRef(name + "_store"))
	Label(name + "_tailloop")
	step(0)
	ADDQ(U32(mr*4), pa)
	if bstride != 0 {
		ADDQ(U32(bstride*4), pb)
	} else {
		ADDQ(ldb, pb)
	}
	DECQ(pk)
	JNZ(LabelRef(name + "_tailloop"))

	Label(name + "_store")
	betaAddr, err := Param("beta").Resolve()
	if err != nil {
		panic(err)
	}
	bits := GP32()
	MOVL(betaAddr.Addr, bits)
	ANDL(U32(0x7fffffff), bits)
	JNZ(LabelRef(name + "_beta"))

	Comment("beta == 0: overwrite C without reading it.")
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			VMOVUPS(acc(i, v), Mem{Base: pc, Disp: v * vbytes})
		}
		if i != mr-1 {
			ADDQ(ldc, pc)
		}
	}
	VZEROUPPER()
	RET()

	Label(name + "_beta")
	Comment("C = acc + beta*C.")
	bv := breg(0)
	VBROADCASTSS(betaAddr.Addr, bv)
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			VFMADD231PS(Mem{Base: pc, Disp: v * vbytes}, bv, acc(i, v))
			VMOVUPS(acc(i, v), Mem{Base: pc, Disp: v * vbytes})
		}
		if i != mr-1 {
			ADDQ(ldc, pc)
		}
	}
	VZEROUPPER()
	RET()
}

// zero clears a vector register with an instruction of the kernel's ISA
// (VPXORD needs only AVX512F for zmm registers).
func zero(width int, r VecPhysical) {
	if width == 16 {
		VPXORD(r, r, r)
		return
	}
	VXORPS(r, r, r)
}

var prefetchC = true

func log2(n int) int {
	r := 0
	for 1<<r < n {
		r++
	}
	if 1<<r != n {
		panic("not a power of two")
	}
	return r
}

// peakFMA emits a loop of n iterations of 24 independent zmm FMAs
// (768 float32 flops per iteration) that touches no memory.
func peakFMA() {
	TEXT("peakFMAAVX512", NOSPLIT, "func(n int)")
	Doc("peakFMAAVX512 runs n iterations of 24 independent register-only zmm FMAs (768 flops each).")
	n := Load(Param("n"), GP64())
	for i := 0; i < 26; i++ {
		zero(16, vecReg(16, i))
	}
	TESTQ(n, n)
	JZ(LabelRef("peak_done"))
	Label("peak_loop")
	for i := 0; i < 24; i++ {
		VFMADD231PS(Z24, Z25, vecReg(16, i))
	}
	DECQ(n)
	JNZ(LabelRef("peak_loop"))
	Label("peak_done")
	VZEROUPPER()
	RET()
}

// dotKernel emits dotAVX2(x, y *float32, n int) float32 = sum x[i]*y[i].
func dotKernel() {
	TEXT("dotAVX2", NOSPLIT, "func(x, y *float32, n int) float32")
	Doc("dotAVX2 returns sum_{i<n} x[i]*y[i].")
	px := Load(Param("x"), GP64())
	py := Load(Param("y"), GP64())
	n := Load(Param("n"), GP64())
	const u = 4
	for i := 0; i < u; i++ {
		VXORPS(vecReg(8, i), vecReg(8, i), vecReg(8, i))
	}
	Label("dot_loop")
	CMPQ(n, U32(8*u))
	JL(LabelRef("dot_vec"))
	for i := 0; i < u; i++ {
		VMOVUPS(Mem{Base: px, Disp: 32 * i}, vecReg(8, u+i))
		VFMADD231PS(Mem{Base: py, Disp: 32 * i}, vecReg(8, u+i), vecReg(8, i))
	}
	ADDQ(U32(32*u), px)
	ADDQ(U32(32*u), py)
	SUBQ(U32(8*u), n)
	JMP(LabelRef("dot_loop"))
	Label("dot_vec")
	CMPQ(n, U32(8))
	JL(LabelRef("dot_reduce"))
	VMOVUPS(Mem{Base: px}, Y4)
	VFMADD231PS(Mem{Base: py}, Y4, Y0)
	ADDQ(U32(32), px)
	ADDQ(U32(32), py)
	SUBQ(U32(8), n)
	JMP(LabelRef("dot_vec"))
	Label("dot_reduce")
	VADDPS(Y1, Y0, Y0)
	VADDPS(Y3, Y2, Y2)
	VADDPS(Y2, Y0, Y0)
	VEXTRACTF128(U8(1), Y0, X1)
	VADDPS(X1, X0, X0)
	VMOVHLPS(X0, X0, X1)
	VADDPS(X1, X0, X0)
	VMOVSHDUP(X0, X1)
	VADDSS(X1, X0, X0)
	Label("dot_tail")
	TESTQ(n, n)
	JZ(LabelRef("dot_done"))
	VMOVSS(Mem{Base: px}, X1)
	VFMADD231SS(Mem{Base: py}, X1, X0)
	ADDQ(U32(4), px)
	ADDQ(U32(4), py)
	DECQ(n)
	JMP(LabelRef("dot_tail"))
	Label("dot_done")
	VZEROUPPER()
	Store(X0, ReturnIndex(0))
	RET()
}

// axpyKernel emits axpyAVX2(alpha float32, x, y *float32, n int): y[i] += alpha*x[i].
func axpyKernel() {
	TEXT("axpyAVX2", NOSPLIT, "func(alpha float32, x, y *float32, n int)")
	Doc("axpyAVX2 computes y[i] += alpha*x[i] for i < n.")
	aAddr, err := Param("alpha").Resolve()
	if err != nil {
		panic(err)
	}
	px := Load(Param("x"), GP64())
	py := Load(Param("y"), GP64())
	n := Load(Param("n"), GP64())
	VBROADCASTSS(aAddr.Addr, Y8)
	const u = 4
	Label("axpy_loop")
	CMPQ(n, U32(8*u))
	JL(LabelRef("axpy_vec"))
	for i := 0; i < u; i++ {
		VMOVUPS(Mem{Base: py, Disp: 32 * i}, vecReg(8, i))
		VFMADD231PS(Mem{Base: px, Disp: 32 * i}, Y8, vecReg(8, i))
		VMOVUPS(vecReg(8, i), Mem{Base: py, Disp: 32 * i})
	}
	ADDQ(U32(32*u), px)
	ADDQ(U32(32*u), py)
	SUBQ(U32(8*u), n)
	JMP(LabelRef("axpy_loop"))
	Label("axpy_vec")
	CMPQ(n, U32(8))
	JL(LabelRef("axpy_tail"))
	VMOVUPS(Mem{Base: py}, Y0)
	VFMADD231PS(Mem{Base: px}, Y8, Y0)
	VMOVUPS(Y0, Mem{Base: py})
	ADDQ(U32(32), px)
	ADDQ(U32(32), py)
	SUBQ(U32(8), n)
	JMP(LabelRef("axpy_vec"))
	Label("axpy_tail")
	TESTQ(n, n)
	JZ(LabelRef("axpy_done"))
	VMOVSS(Mem{Base: py}, X0)
	VFMADD231SS(Mem{Base: px}, X8, X0)
	VMOVSS(X0, Mem{Base: py})
	ADDQ(U32(4), px)
	ADDQ(U32(4), py)
	DECQ(n)
	JMP(LabelRef("axpy_tail"))
	Label("axpy_done")
	VZEROUPPER()
	RET()
}

// packT emits packT<rows>(k8 int, src *float32, ld int, dst *float32, alpha float32),
// which packs 8*k8 columns of rows rows of a row-major matrix transposed:
//
//	dst[p*rows+i] = alpha*src[i*ld+p]   (i < rows, p < 8*k8)
//
// It transposes 4×8 blocks (and a 2×8 block when rows%4 == 2) with AVX shuffles.
func packT(rows int) {
	name := fmt.Sprintf("packT%d", rows)
	TEXT(name, NOSPLIT, "func(k8 int, src *float32, ld int, dst *float32, alpha float32)")
	Doc(fmt.Sprintf("%s sets dst[p*%d+i] = alpha*src[i*ld+p] for i < %d, p < 8*k8.", name, rows, rows))
	k8 := Load(Param("k8"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	dst := Load(Param("dst"), GP64())
	alphaAddr, err := Param("alpha").Resolve()
	if err != nil {
		panic(err)
	}
	SHLQ(U8(2), ld)
	ld3 := GP64()
	LEAQ(Mem{Base: ld, Index: ld, Scale: 2}, ld3)
	VBROADCASTSS(alphaAddr.Addr, Y15)
	TESTQ(k8, k8)
	JZ(LabelRef(name + "_done"))
	row := GP64()
	Label(name + "_loop")
	MOVQ(src, row)
	ps := rows * 4 // bytes between consecutive p in dst
	for g := 0; g+4 <= rows; g += 4 {
		// Rows g..g+3 of 8 columns.
		VMULPS(Mem{Base: row}, Y15, Y0)
		VMULPS(Mem{Base: row, Index: ld, Scale: 1}, Y15, Y1)
		VMULPS(Mem{Base: row, Index: ld, Scale: 2}, Y15, Y2)
		VMULPS(Mem{Base: row, Index: ld3, Scale: 1}, Y15, Y3)
		VUNPCKLPS(Y1, Y0, Y4) // r0p0 r1p0 r0p1 r1p1 | p4 p5
		VUNPCKHPS(Y1, Y0, Y5) // p2 p3 | p6 p7
		VUNPCKLPS(Y3, Y2, Y6)
		VUNPCKHPS(Y3, Y2, Y7)
		VSHUFPS(U8(0x44), Y6, Y4, Y0) // p0 | p4
		VSHUFPS(U8(0xee), Y6, Y4, Y1) // p1 | p5
		VSHUFPS(U8(0x44), Y7, Y5, Y2) // p2 | p6
		VSHUFPS(U8(0xee), Y7, Y5, Y3) // p3 | p7
		off := 4 * g
		for p, y := range []VecPhysical{Y0, Y1, Y2, Y3} {
			VMOVUPS(y.(Vec).AsX(), Mem{Base: dst, Disp: off + p*ps})
			VEXTRACTF128(U8(1), y, Mem{Base: dst, Disp: off + (p+4)*ps})
		}
		if g+4 < rows {
			LEAQ(Mem{Base: row, Index: ld, Scale: 4}, row)
		}
	}
	if rows%4 == 2 {
		g := rows - 2
		VMULPS(Mem{Base: row}, Y15, Y0)
		VMULPS(Mem{Base: row, Index: ld, Scale: 1}, Y15, Y1)
		VUNPCKLPS(Y1, Y0, Y4) // p0 p1 | p4 p5 (pairs)
		VUNPCKHPS(Y1, Y0, Y5) // p2 p3 | p6 p7
		VEXTRACTF128(U8(1), Y4, X6)
		VEXTRACTF128(U8(1), Y5, X7)
		off := 4 * g
		for h, x := range []VecPhysical{X4, X5, X6, X7} {
			p := []int{0, 2, 4, 6}[h]
			VMOVLPS(x, Mem{Base: dst, Disp: off + p*ps})
			VMOVHPS(x, Mem{Base: dst, Disp: off + (p+1)*ps})
		}
	} else if rows%4 != 0 {
		panic("rows must be even")
	}
	ADDQ(U32(32), src)
	ADDQ(U32(8*ps), dst)
	DECQ(k8)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// packN emits packN<width>(k int, src *float32, ld int, dst *float32, alpha float32),
// which copies k rows of width floats of a row-major matrix, scaled:
//
//	dst[p*width+j] = alpha*src[p*ld+j]   (j < width, p < k)
func packN(width int) {
	name := fmt.Sprintf("packN%d", width)
	TEXT(name, NOSPLIT, "func(k int, src *float32, ld int, dst *float32, alpha float32)")
	Doc(fmt.Sprintf("%s sets dst[p*%d+j] = alpha*src[p*ld+j] for j < %d, p < k.", name, width, width))
	k := Load(Param("k"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	dst := Load(Param("dst"), GP64())
	alphaAddr, err := Param("alpha").Resolve()
	if err != nil {
		panic(err)
	}
	SHLQ(U8(2), ld)
	VBROADCASTSS(alphaAddr.Addr, Y15)
	TESTQ(k, k)
	JZ(LabelRef(name + "_done"))
	Label(name + "_loop")
	off := 0
	for ; off+8 <= width; off += 8 {
		VMULPS(Mem{Base: src, Disp: 4 * off}, Y15, Y0)
		VMOVUPS(Y0, Mem{Base: dst, Disp: 4 * off})
	}
	if off+4 <= width {
		VMULPS(Mem{Base: src, Disp: 4 * off}, X15, X0)
		VMOVUPS(X0, Mem{Base: dst, Disp: 4 * off})
		off += 4
	}
	if off+2 <= width {
		VMOVSD(Mem{Base: src, Disp: 4 * off}, X0)
		VMULPS(X15, X0, X0)
		VMOVSD(X0, Mem{Base: dst, Disp: 4 * off})
		off += 2
	}
	if off != width {
		panic("odd width")
	}
	ADDQ(ld, src)
	ADDQ(U32(4*width), dst)
	DECQ(k)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// packRows emits packRows<width>x<rows>(k, panels int, src *float32, ld int, dst *float32, pstride int),
// which packs panels full column panels of k rows (a multiple of rows) of a
// row-major matrix (B̃ without transposition):
//
//	dst[q*pstride+p*width+j] = src[p*ld+q*width+j]   (j < width, q < panels, p < k)
//
// It walks blocks of rows rows across all panels, so that the source is read
// as rows sequential streams and each panel gets rows*width contiguous floats.
func packRows(width, rows int) {
	name := fmt.Sprintf("packRows%dx%d", width, rows)
	TEXT(name, NOSPLIT, "func(k, panels int, src *float32, ld int, dst *float32, pstride int)")
	Doc(fmt.Sprintf("%s sets dst[q*pstride+p*%d+j] = src[p*ld+q*%d+j] for j < %d, q < panels, p < k (a multiple of %d).",
		name, width, width, width, rows))
	k := Load(Param("k"), GP64())
	panels := Load(Param("panels"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	dst := Load(Param("dst"), GP64())
	pstride := Load(Param("pstride"), GP64())
	SHLQ(U8(2), ld)
	SHLQ(U8(2), pstride)
	if rows > 1 {
		SHRQ(U8(log2(rows)), k)
	}
	TESTQ(k, k)
	JZ(LabelRef(name + "_done"))
	TESTQ(panels, panels)
	JZ(LabelRef(name + "_done"))
	s, d, q, r := GP64(), GP64(), GP64(), GP64()
	Label(name + "_block")
	MOVQ(src, s)
	MOVQ(dst, d)
	MOVQ(panels, q)
	Label(name + "_panel")
	MOVQ(s, r)
	regs := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7}
	nv := width / 8
	for row := 0; row < rows; row++ {
		for i := 0; i < nv; i++ {
			VMOVUPS(Mem{Base: r, Disp: 32 * i}, regs[(row%2)*nv+i])
		}
		for i := 0; i < nv; i++ {
			VMOVUPS(regs[(row%2)*nv+i], Mem{Base: d, Disp: 4*width*row + 32*i})
		}
		if row != rows-1 {
			ADDQ(ld, r)
		}
	}
	ADDQ(U32(4*width), s)
	ADDQ(pstride, d)
	DECQ(q)
	JNZ(LabelRef(name + "_panel"))
	for row := 0; row < rows; row++ {
		ADDQ(ld, src)
	}
	ADDQ(U32(4*width*rows), dst)
	DECQ(k)
	JNZ(LabelRef(name + "_block"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}
