package kernels

import (
	"math"
	"sync"
)

// BF16FromFloat32 rounds f to bfloat16 (the upper 16 bits of a float32) to
// nearest, ties to even, as PyTorch's float→bfloat16 conversion does:
// finite values too large for bfloat16 round to ±Inf, and subnormals are
// rounded like any other value (not flushed to zero, unlike Intel's
// VCVTNEPS2BF16). Every NaN becomes the quiet NaN 0x7FC0, as in PyTorch's
// scalar conversion (its vectorized CPU one gives 0xFFFF, also a NaN).
func BF16FromFloat32(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return 0x7fc0
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}

// Float32FromBF16 returns the float32 with the value of the bfloat16 h
// (exact).
func Float32FromBF16(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// RoundBF16 returns f rounded to the nearest bfloat16 value, as a float32.
func RoundBF16(f float32) float32 { return Float32FromBF16(BF16FromFloat32(f)) }

// The bfloat16 GEMM's implementations, best first. Which one runs is decided
// per call by bf16Path from the feature variables of the build (useAMX,
// useAVX512BF16), which tests switch off to run every path on one machine.
const (
	bf16PathF32    = iota // bf16-rounded operands multiplied by Sgemm
	bf16PathAVX512        // VDPBF16PS micro-kernel, 12×32 register tile
	bf16PathAMX           // TDPBF16PS on tiles, 32×32 blocks
)

var bf16PathNames = [...]string{"float32", "avx512bf16", "amx"}

// BF16Kernel names the implementation the bfloat16 GEMM uses on this
// machine: "amx", "avx512bf16" or "float32" (bfloat16-rounded operands
// multiplied by the float32 GEMM; the same products, summed in another
// order). Asking for it requests the AMX tile permission from the operating
// system if needed (see BF16Note).
func BF16Kernel() string { return bf16PathNames[bf16Path()] }

// BF16Note returns why the bfloat16 GEMM does not use the best kernel the
// CPU has (the operating system refused the AMX tile state, say), or "" if
// it does. It is a single line, meant for the user: the library does not
// print it; commands that run in bfloat16 print it on stderr.
func BF16Note() string { return bf16Note() }

// BF16Matrix is an m×k matrix rounded to bfloat16 and laid out for the
// bfloat16 GEMM kernels: the A operand (weights) of GemmBF16Packed. It is
// made once by PackBF16 and read by any number of concurrent calls.
//
// Layout: row-major, kp = k rounded up to 32 bfloat16 per row (so pairs of
// consecutive k, which VDPBF16PS and TDPBF16PS multiply together, are
// adjacent), zero beyond k, and 32 zero rows beyond m, so that kernels may
// read whole 32×32 tiles from any row below m.
type BF16Matrix struct {
	m, k, kp int
	data     []uint16

	f32Once sync.Once
	f32     []float32 // m×k widened, for the float32 path; made on first use
}

// PackBF16 rounds op(A) (m×k; A is m×k with leading dimension lda, or k×m
// if transA) to bfloat16 (BF16FromFloat32) and packs it. It panics if a
// dimension is negative or a is too short.
func PackBF16(transA bool, m, k int, a []float32, lda int) *BF16Matrix {
	if m < 0 || k < 0 {
		panic("kernels: negative dimension")
	}
	if transA {
		checkMatrix("a", k, m, a, lda)
	} else {
		checkMatrix("a", m, k, a, lda)
	}
	kp := roundUp(max(k, 1), 32)
	p := &BF16Matrix{m: m, k: k, kp: kp, data: make([]uint16, (m+32)*kp)}
	for i := 0; i < m; i++ {
		row := p.data[i*kp : i*kp+k]
		for j := range row {
			if transA {
				row[j] = BF16FromFloat32(a[j*lda+i])
			} else {
				row[j] = BF16FromFloat32(a[i*lda+j])
			}
		}
	}
	return p
}

// Rows returns m.
func (p *BF16Matrix) Rows() int { return p.m }

// Cols returns k.
func (p *BF16Matrix) Cols() int { return p.k }

// At returns element (i, j) as a float32.
func (p *BF16Matrix) At(i, j int) float32 { return Float32FromBF16(p.data[i*p.kp+j]) }

func (p *BF16Matrix) widened() []float32 {
	p.f32Once.Do(func() {
		p.f32 = make([]float32, p.m*p.k)
		for i := 0; i < p.m; i++ {
			for j := 0; j < p.k; j++ {
				p.f32[i*p.k+j] = p.At(i, j)
			}
		}
	})
	return p.f32
}

// GemmBF16 is Sgemm with both operands rounded to bfloat16 and products
// summed in float32:
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			var s float32
//			for p := 0; p < k; p++ {
//				s += RoundBF16(opA(i, p)) * RoundBF16(opB(p, j)) // exact product
//			}
//			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j] // c not read if beta == 0
//		}
//	}
//
// (the order of the sum differs between kernels). It packs A on every
// call; a constant A is better packed once with PackBF16 for
// GemmBF16Packed.
func GemmBF16(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	pa := PackBF16(transA, m, k, a, lda)
	if alpha == 1 {
		GemmBF16Packed(pa, 0, m, transB, n, b, ldb, beta, c, ldc)
		return
	}
	t := make([]float32, m*n)
	GemmBF16Packed(pa, 0, m, transB, n, b, ldb, 0, t, n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			v := alpha * t[i*n+j]
			if beta != 0 {
				v += beta * c[i*ldc+j]
			}
			c[i*ldc+j] = v
		}
	}
}

// GemmBF16Packed computes C = A[r0:r0+m, :]·RoundBF16(op(B)) + beta·C in
// float32, where A is the packed bfloat16 matrix a (rows r0 to r0+m of its
// Rows()×k), op(B) is k×n (B is k×n with leading dimension ldb, or n×k if
// transB) and C is m×n with leading dimension ldc; beta == 0 means C is
// overwritten. The reference loop is GemmBF16's with alpha = 1.
//
// It runs on up to Threads() goroutines; problems with m·n·k below a small
// threshold run on the calling goroutine only. It panics if the rows are
// out of range, a leading dimension is too small or a slice too short.
func GemmBF16Packed(a *BF16Matrix, r0, m int, transB bool, n int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	threads := Threads()
	if int64(m)*int64(n)*int64(a.k) < parallelThreshold {
		threads = 1
	}
	gemmBF16(threads, a, r0, m, transB, n, b, ldb, beta, c, ldc)
}

// GemmBF16PackedSerial is GemmBF16Packed on the calling goroutine only, for
// callers that already parallelise.
func GemmBF16PackedSerial(a *BF16Matrix, r0, m int, transB bool, n int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmBF16(1, a, r0, m, transB, n, b, ldb, beta, c, ldc)
}

func gemmBF16(threads int, a *BF16Matrix, r0, m int, transB bool, n int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	k := a.k
	if r0 < 0 || m < 0 || n < 0 || r0+m > a.m {
		panic("kernels: rows out of range of the packed matrix")
	}
	if transB {
		checkMatrix("b", n, k, b, ldb)
	} else {
		checkMatrix("b", k, n, b, ldb)
	}
	checkMatrix("c", m, n, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	path := bf16Path()
	if amxEmulator != nil {
		path = bf16PathAMX
	}
	if path == bf16PathF32 {
		gemmBF16F32(threads, a, r0, m, transB, n, b, ldb, beta, c, ldc)
		return
	}
	// Split the columns (in whole 32-column panels) or, when there are
	// too few, the rows (in whole 32-row blocks) over the goroutines; each
	// packs its own part of B.
	if threads > 1 {
		if panels := ceilDiv(n, 32); panels >= 2*threads {
			per := ceilDiv(panels, threads) * 32
			parallelRange(ceilDiv(n, per), func(t int) {
				j0 := t * per
				j1 := min(n, j0+per)
				bj := b[j0:]
				if transB {
					bj = b[j0*ldb:]
				}
				gemmBF16Block(path, a, r0, m, transB, j1-j0, bj, ldb, beta, c[j0:], ldc)
			})
			return
		}
		if blocks := ceilDiv(m, 32); blocks >= 2 {
			per := ceilDiv(blocks, min(threads, blocks)) * 32
			parallelRange(ceilDiv(m, per), func(t int) {
				i0 := t * per
				i1 := min(m, i0+per)
				gemmBF16Block(path, a, r0+i0, i1-i0, transB, n, b, ldb, beta, c[i0*ldc:], ldc)
			})
			return
		}
	}
	gemmBF16Block(path, a, r0, m, transB, n, b, ldb, beta, c, ldc)
}

// gemmBF16F32 is the float32 path: op(B) rounded to bfloat16 into a
// scratch matrix, A widened once, both multiplied by Sgemm. Products of
// two bfloat16 values are exact in float32, so only the order of the sum
// differs from the bfloat16 kernels.
func gemmBF16F32(threads int, a *BF16Matrix, r0, m int, transB bool, n int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	k := a.k
	rows, cols := k, n
	if transB {
		rows, cols = n, k
	}
	brp := f32Scratch.get()
	br := grow(brp, rows*cols)
	for i := 0; i < rows; i++ {
		src, dst := b[i*ldb:i*ldb+cols], br[i*cols:(i+1)*cols]
		for j, v := range src {
			dst[j] = RoundBF16(v)
		}
	}
	sgemm(threads, false, transB, m, n, k, 1, a.widened()[r0*k:], k, br, cols, beta, c, ldc)
	f32Scratch.put(brp)
}

// Scratch buffers of the bfloat16 kernels, on the package's free lists
// (see freeList: the garbage collector does not empty them, so megabytes
// of packed B are not allocated again after each collection). Callers keep
// the pointer they got and put it back, grown by grow if needed.
var (
	f32Scratch  = freeList[[]float32]{max: 4, new: func() *[]float32 { return new([]float32) }}
	bf16Scratch = freeList[[]uint32]{max: 4, new: func() *[]uint32 { return new([]uint32) }} // packed B
	bf16Rows    = freeList[[]uint16]{max: 2, new: func() *[]uint16 { return new([]uint16) }} // GemmBF16Panels' rounded A
)

// grow returns (*p)[:n], first reallocating *p if its capacity is below n.
func grow[T any](p *[]T, n int) []T {
	if cap(*p) < n {
		*p = make([]T, n)
	}
	return (*p)[:n]
}

// packBBF16 packs columns [0, 32·panels) of op(B) (k×n, zero beyond n
// and beyond k up to kp) into panels of 32 columns: panel q holds kp/2 rows
// of 32 pairs (B[2p][j], B[2p+1][j]) as uint32 (low half the even row),
// the layout VDPBF16PS reads as two zmm and TDPBF16PS as two 16×64-byte
// tiles (row stride 128 bytes).
func packBBF16(dst []uint32, kp int, transB bool, k, n int, b []float32, ldb int, panels int) {
	pairs := kp / 2
	for q := 0; q < panels; q++ {
		panel := dst[q*pairs*32 : (q+1)*pairs*32]
		c0 := 32 * q
		full := 0 // pairs [0, full) packed by the fast path
		if !transB && c0+32 <= n && k/2 > 0 && packPanelFast(panel, b[c0:], ldb, k/2) {
			full = k / 2
		}
		for p := full; p < pairs; p++ {
			row := panel[p*32 : p*32+32]
			for j := range row {
				c := c0 + j
				if c >= n {
					row[j] = 0
					continue
				}
				var lo, hi uint16
				if transB {
					if 2*p < k {
						lo = BF16FromFloat32(b[c*ldb+2*p])
					}
					if 2*p+1 < k {
						hi = BF16FromFloat32(b[c*ldb+2*p+1])
					}
				} else {
					if 2*p < k {
						lo = BF16FromFloat32(b[2*p*ldb+c])
					}
					if 2*p+1 < k {
						hi = BF16FromFloat32(b[(2*p+1)*ldb+c])
					}
				}
				row[j] = uint32(lo) | uint32(hi)<<16
			}
		}
	}
}

// mergeBlock sets C[i][j] = t[i*ldt+j] + beta·C[i][j] for i < rows, j <
// cols (C not read when beta == 0).
func mergeBlock(t []float32, ldt int, c []float32, ldc, rows, cols int, beta float32) {
	for i := 0; i < rows; i++ {
		src, dst := t[i*ldt:i*ldt+cols], c[i*ldc:i*ldc+cols]
		if beta == 0 {
			copy(dst, src)
			continue
		}
		for j, v := range src {
			dst[j] = v + beta*dst[j]
		}
	}
}

// gemmBF16Block runs one goroutine's share with a bfloat16 kernel.
//
// AVX-512 BF16: B is packed in panels of 32 columns; the depth is cut
// into blocks of bf16KC, and in each block, for each panel (its kc×32
// sliver in L1), the 12×32 micro-kernel runs down the rows (the m×kc block
// of A in L2), adding to C from the second block on. AMX: the same panels; for each group of
// amxGroup panels (its B in L2) the tile kernel computes every 32-row
// block over the whole depth into a block of float32, merged into C.
func gemmBF16Block(path int, a *BF16Matrix, r0, m int, transB bool, n int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	kp := a.kp
	panels := ceilDiv(n, 32)
	bpp := bf16Scratch.get()
	bp := grow(bpp, panels*kp/2*32)
	packBBF16(bp, kp, transB, a.k, n, b, ldb, panels)
	gemmBF16Compute(path, a.data[r0*kp:], kp, a.k, m, bp, n, beta, c, ldc)
	bf16Scratch.put(bpp)
}

// gemmBF16Compute sets C = A·B + beta·C for the first m rows of the
// row-major bfloat16 matrix ad (kp per row, at least m+31 rows) and the
// packed panels bp of n columns (see packBBF16), with a bfloat16 kernel.
func gemmBF16Compute(path int, ad []uint16, kp, k, m int, bp []uint32, n int, beta float32, c []float32, ldc int) {
	panels := ceilDiv(n, 32)
	switch path {
	case bf16PathAMX:
		const group = amxGroup
		tp := f32Scratch.get()
		t := grow(tp, 32*32*group)
		for q0 := 0; q0 < panels; q0 += group {
			nb := min(group, panels-q0)
			for i := 0; i < m; i += 32 {
				if amxEmulator != nil {
					amxEmulator(ad[i*kp:], kp, bp[q0*kp/2*32:], kp/32, t, nb)
				} else {
					callAMX(ad[i*kp:], kp, bp[q0*kp/2*32:], kp/32, t, nb)
				}
				// The kernel writes nb 32×32 blocks one after the other.
				for q := 0; q < nb; q++ {
					j := (q0 + q) * 32
					mergeBlock(t[q*1024:], 32, c[i*ldc+j:], ldc, min(32, m-i), min(32, n-j), beta)
				}
			}
		}
		f32Scratch.put(tp)
	default:
		var tmp [12 * 32]float32
		for pc := 0; pc < k; pc += bf16KC {
			kpairs := (min(bf16KC, k-pc) + 1) / 2
			bt := beta
			if pc > 0 {
				bt = 1
			}
			for q := 0; q < panels; q++ {
				j := q * 32
				cols := min(32, n-j)
				panel := bp[q*kp/2*32+pc/2*32:]
				for i := 0; i < m; i += 12 {
					rows := min(12, m-i)
					ai := ad[i*kp+pc:]
					if cols == 32 {
						callAVX512BF16(rows, kpairs, ai, kp, panel, c[i*ldc+j:], ldc, bt)
					} else {
						callAVX512BF16(rows, kpairs, ai, kp, panel, tmp[:], 32, 0)
						mergeBlock(tmp[:], 32, c[i*ldc+j:], ldc, rows, cols, bt)
					}
				}
			}
		}
	}
}

// amxEmulator, when set (by tests), selects the AMX path and runs it with
// this function in place of amxKernelBF16, so that the AMX driver and tile
// layout are tested on machines without AMX.
var amxEmulator func(a []uint16, lda int, b []uint32, kt int, c []float32, nb int)

// bf16KC is the depth of a block of the AVX-512 BF16 path (even).
const bf16KC = 512

// amxGroup is the number of 32-column panels of B one AMX kernel call
// multiplies by the same 32 rows of A.
const amxGroup = 4

// BF16Panels is a k×n matrix rounded to bfloat16 and packed in panels of
// 32 columns (the layout of B in every bfloat16 kernel, see the package
// documentation): the B operand (weights) of GemmBF16Panels, for products
// whose other operand has few rows, such as a linear layer's x·Wᵀ at small
// batch sizes. It is made once by PackBF16Panels and read by any number of
// concurrent calls.
type BF16Panels struct {
	k, n, kp int
	data     []uint32

	f32Once sync.Once
	f32     []float32 // k×n widened, for the float32 path; made on first use
}

// PackBF16Panels rounds op(B) (k×n; B is k×n with leading dimension ldb,
// or n×k if transB) to bfloat16 and packs it. It panics if a dimension is
// negative or b is too short.
func PackBF16Panels(transB bool, k, n int, b []float32, ldb int) *BF16Panels {
	if k < 0 || n < 0 {
		panic("kernels: negative dimension")
	}
	if transB {
		checkMatrix("b", n, k, b, ldb)
	} else {
		checkMatrix("b", k, n, b, ldb)
	}
	kp := roundUp(max(k, 1), 32)
	panels := ceilDiv(n, 32)
	p := &BF16Panels{k: k, n: n, kp: kp, data: make([]uint32, panels*kp/2*32)}
	packBBF16(p.data, kp, transB, k, n, b, ldb, panels)
	return p
}

// Rows returns k.
func (p *BF16Panels) Rows() int { return p.k }

// Cols returns n.
func (p *BF16Panels) Cols() int { return p.n }

// At returns element (i, j) as a float32.
func (p *BF16Panels) At(i, j int) float32 {
	v := p.data[(j/32)*p.kp/2*32+(i/2)*32+j%32]
	if i%2 == 1 {
		v >>= 16
	}
	return Float32FromBF16(uint16(v))
}

func (p *BF16Panels) widened() []float32 {
	p.f32Once.Do(func() {
		p.f32 = make([]float32, p.k*p.n)
		for i := 0; i < p.k; i++ {
			for j := 0; j < p.n; j++ {
				p.f32[i*p.n+j] = p.At(i, j)
			}
		}
	})
	return p.f32
}

// GemmBF16Panels computes C = RoundBF16(A)·B + beta·C in float32, where A
// is m×k with leading dimension lda, B the packed k×n matrix b and C m×n
// with leading dimension ldc; beta == 0 means C is overwritten. The
// reference loop is GemmBF16's with alpha = 1. With the AMX and AVX-512
// BF16 kernels, each row of C does not depend on m or on the other rows of
// A (so a sample's result does not depend on its batch). It runs on up to Threads()
// goroutines (split over the columns) and panics if a leading dimension is
// too small or a slice too short.
func GemmBF16Panels(m int, a []float32, lda int, b *BF16Panels, beta float32, c []float32, ldc int) {
	k, n := b.k, b.n
	if m < 0 {
		panic("kernels: negative dimension")
	}
	checkMatrix("a", m, k, a, lda)
	checkMatrix("c", m, n, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	threads := Threads()
	if int64(m)*int64(n)*int64(k) < parallelThreshold {
		threads = 1
	}
	path := bf16Path()
	if amxEmulator != nil {
		path = bf16PathAMX
	}
	if path == bf16PathF32 {
		arp := f32Scratch.get()
		ar := grow(arp, m*k)
		for i := 0; i < m; i++ {
			for j, v := range a[i*lda : i*lda+k] {
				ar[i*k+j] = RoundBF16(v)
			}
		}
		sgemm(threads, false, false, m, n, k, 1, ar, k, b.widened(), n, beta, c, ldc)
		f32Scratch.put(arp)
		return
	}
	kp := b.kp
	adp := bf16Rows.get()
	ad := grow(adp, (m+32)*kp)
	clear(ad)
	defer bf16Rows.put(adp)
	for i := 0; i < m; i++ {
		row := ad[i*kp : i*kp+k]
		for j, v := range a[i*lda : i*lda+k] {
			row[j] = BF16FromFloat32(v)
		}
	}
	panels := ceilDiv(n, 32)
	per := ceilDiv(panels, min(threads, panels))
	parallelRange(ceilDiv(panels, per), func(t int) {
		q0 := t * per
		q1 := min(panels, q0+per)
		j0 := q0 * 32
		gemmBF16Compute(path, ad, kp, k, m, b.data[q0*kp/2*32:], min(n, q1*32)-j0, beta, c[j0:], ldc)
	})
}
