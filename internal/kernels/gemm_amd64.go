//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

//go:generate sh -c "cd _asm && go run . -out ../gemm_amd64.s"

// The kernel selection flags. Tests switch them off to exercise every
// variant on one machine.
var (
	useAVX512 = cpu.X86.HasAVX512F
	useAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
)

var (
	avx512Kernel  = kernelInfo{id: kernAVX512, name: "avx512", mr: 12, nr: 32, mc: 384, kc: 256, nc: 4096, half: true, strided: true}
	avx512Kernel8 = kernelInfo{id: kernAVX512x8, name: "avx512x8", mr: 8, nr: 32, mc: 384, kc: 256, nc: 4096, half: true, strided: true}
	avx2Kernel    = kernelInfo{id: kernAVX2, name: "avx2", mr: 6, nr: 16, mc: 144, kc: 256, nc: 4096, strided: true}
)

// avx512Rows forces the AVX-512 tile height (8 or 12) when non-zero; by
// default it is chosen per call from m. Tests set it.
var avx512Rows = 0

func selectKernel(m int) *kernelInfo {
	switch {
	case useAVX512:
		switch avx512Rows {
		case 8:
			return &avx512Kernel8
		case 12:
			return &avx512Kernel
		}
		// The 12-row tile needs fewer loads per FMA, but the 8-row
		// one pads less when m is a multiple of 8 (channel counts).
		if 0.98*float64(roundUp(m, 12)) > float64(roundUp(m, 8)) {
			return &avx512Kernel8
		}
		return &avx512Kernel
	case useAVX2:
		return &avx2Kernel
	}
	return &genericKernel
}

// callKernel computes one mr×nr tile of C (see sgemmKernelGeneric).
func callKernel(ki *kernelInfo, k int, a, b, c []float32, ldc int, beta float32) {
	switch ki.id {
	case kernAVX512, kernAVX512x8, kernAVX2:
		// The assembly trusts its arguments: check the extents it touches.
		_ = a[ki.mr*k-1]
		_ = b[ki.nr*k-1]
		_ = c[(ki.mr-1)*ldc+ki.nr-1]
		switch ki.id {
		case kernAVX512:
			sgemmKernelAVX512(k, &a[0], &b[0], &c[0], ldc, beta)
		case kernAVX512x8:
			sgemmKernelAVX512x8(k, &a[0], &b[0], &c[0], ldc, beta)
		default:
			sgemmKernelAVX2(k, &a[0], &b[0], &c[0], ldc, beta)
		}
	default:
		sgemmKernelGeneric(k, a, b, c, ldc, beta)
	}
}

// callKernelHalf is callKernel for the first nr/2 columns of the tile only.
func callKernelHalf(ki *kernelInfo, k int, a, b, c []float32, ldc int, beta float32) {
	_ = a[ki.mr*k-1]
	_ = b[ki.nr*k-1]
	_ = c[(ki.mr-1)*ldc+ki.nr/2-1]
	switch ki.id {
	case kernAVX512:
		sgemmKernelAVX512Half(k, &a[0], &b[0], &c[0], ldc, beta)
	case kernAVX512x8:
		sgemmKernelAVX512x8Half(k, &a[0], &b[0], &c[0], ldc, beta)
	default:
		panic("kernels: no half kernel")
	}
}

// callKernelStrided is callKernel for a full sliver of B read in place:
// row p of the sliver is b[p*ldb:p*ldb+nr].
func callKernelStrided(ki *kernelInfo, k int, a, b []float32, ldb int, c []float32, ldc int, beta float32) {
	_ = a[ki.mr*k-1]
	_ = b[(k-1)*ldb+ki.nr-1]
	_ = c[(ki.mr-1)*ldc+ki.nr-1]
	switch ki.id {
	case kernAVX512:
		sgemmKernelAVX512Strided(k, &a[0], &b[0], &c[0], ldc, beta, ldb)
	case kernAVX512x8:
		sgemmKernelAVX512x8Strided(k, &a[0], &b[0], &c[0], ldc, beta, ldb)
	case kernAVX2:
		sgemmKernelAVX2Strided(k, &a[0], &b[0], &c[0], ldc, beta, ldb)
	default:
		panic("kernels: no strided kernel")
	}
}

// sgemmKernelAVX512Strided is sgemmKernelAVX512 with B read in place, ldb floats between rows.
//
//go:noescape
func sgemmKernelAVX512Strided(k int, a, b, c *float32, ldc int, beta float32, ldb int)

// sgemmKernelAVX512x8Strided is sgemmKernelAVX512x8 with B read in place, ldb floats between rows.
//
//go:noescape
func sgemmKernelAVX512x8Strided(k int, a, b, c *float32, ldc int, beta float32, ldb int)

// sgemmKernelAVX2Strided is sgemmKernelAVX2 with B read in place, ldb floats between rows.
//
//go:noescape
func sgemmKernelAVX2Strided(k int, a, b, c *float32, ldc int, beta float32, ldb int)

// sgemmKernelAVX512Half is sgemmKernelAVX512 for the first 16 columns of the tile.
//
//go:noescape
func sgemmKernelAVX512Half(k int, a, b, c *float32, ldc int, beta float32)

// sgemmKernelAVX512x8Half is sgemmKernelAVX512x8 for the first 16 columns of the tile.
//
//go:noescape
func sgemmKernelAVX512x8Half(k int, a, b, c *float32, ldc int, beta float32)

// sgemmKernelAVX512 is sgemmKernelGeneric for a 12×32 tile (k×12 and k×32 panels), using zmm registers.
//
//go:noescape
func sgemmKernelAVX512(k int, a, b, c *float32, ldc int, beta float32)

// sgemmKernelAVX512x8 is sgemmKernelGeneric for an 8×32 tile (k×8 and k×32 panels), using zmm registers.
//
//go:noescape
func sgemmKernelAVX512x8(k int, a, b, c *float32, ldc int, beta float32)

// sgemmKernelAVX2 is sgemmKernelGeneric for a 6×16 tile (k×6 and k×16 panels), using ymm registers.
//
//go:noescape
func sgemmKernelAVX2(k int, a, b, c *float32, ldc int, beta float32)

// peakFMAAVX512 runs n iterations of 24 independent register-only zmm FMAs
// (768 float32 flops per iteration).
//
//go:noescape
func peakFMAAVX512(n int)

// dotAVX2 returns sum_{i<n} x[i]*y[i].
//
//go:noescape
func dotAVX2(x, y *float32, n int) float32

// axpyAVX2 computes y[i] += alpha*x[i] for i < n.
//
//go:noescape
func axpyAVX2(alpha float32, x, y *float32, n int)

func dot(x, y []float32) float32 {
	if useAVX2 && len(x) > 0 {
		return dotAVX2(&x[0], &y[0], len(x))
	}
	return dotGeneric(x, y)
}

func axpy(alpha float32, x, y []float32) {
	if useAVX2 && len(x) > 0 {
		axpyAVX2(alpha, &x[0], &y[0], len(x))
		return
	}
	axpyGeneric(alpha, x, y)
}

// packTFast packs the first 8*floor(k/8) columns for packT with rows == w
// and returns how many it packed.
func packTFast(dst, src []float32, ld, w, k int, alpha float32) int {
	k8 := k / 8
	if !(useAVX2 || useAVX512) || k8 == 0 {
		return 0
	}
	_ = src[(w-1)*ld+8*k8-1]
	_ = dst[w*8*k8-1]
	switch w {
	case 12:
		packT12(k8, &src[0], ld, &dst[0], alpha)
	case 32:
		packT32(k8, &src[0], ld, &dst[0], alpha)
	case 8:
		packT8(k8, &src[0], ld, &dst[0], alpha)
	case 6:
		packT6(k8, &src[0], ld, &dst[0], alpha)
	case 16:
		packT16(k8, &src[0], ld, &dst[0], alpha)
	default:
		return 0
	}
	return 8 * k8
}

// packNFast is packN for cols == w, reporting whether it had a fast path.
func packNFast(dst, src []float32, ld, w, k int, alpha float32) bool {
	if !(useAVX2 || useAVX512) || k == 0 {
		return false
	}
	_ = src[(k-1)*ld+w-1]
	_ = dst[w*k-1]
	switch w {
	case 12:
		packN12(k, &src[0], ld, &dst[0], alpha)
	case 32:
		packN32(k, &src[0], ld, &dst[0], alpha)
	case 8:
		packN8(k, &src[0], ld, &dst[0], alpha)
	case 6:
		packN6(k, &src[0], ld, &dst[0], alpha)
	case 16:
		packN16(k, &src[0], ld, &dst[0], alpha)
	default:
		return false
	}
	return true
}

// packRowsFast packs panels full panels of width w of a non-transposed B̃
// (see packN), walking the source row by row, and reports whether it could.
func packRowsFast(dst, src []float32, ld, w, k, panels int) bool {
	if !(useAVX2 || useAVX512) || k == 0 || panels == 0 {
		return false
	}
	_ = src[(k-1)*ld+panels*w-1]
	_ = dst[panels*w*k-1]
	if w != 32 && w != 16 {
		return false
	}
	// Blocks of 8 rows, then the remaining rows one by one.
	k8 := k &^ 7
	if k8 > 0 {
		if w == 32 {
			packRows32x8(k8, panels, &src[0], ld, &dst[0], w*k)
		} else {
			packRows16x8(k8, panels, &src[0], ld, &dst[0], w*k)
		}
	}
	if k8 < k {
		if w == 32 {
			packRows32x1(k-k8, panels, &src[k8*ld], ld, &dst[k8*w], w*k)
		} else {
			packRows16x1(k-k8, panels, &src[k8*ld], ld, &dst[k8*w], w*k)
		}
	}
	return true
}

//go:noescape
func packRows32x8(k, panels int, src *float32, ld int, dst *float32, pstride int)

//go:noescape
func packRows32x1(k, panels int, src *float32, ld int, dst *float32, pstride int)

//go:noescape
func packRows16x8(k, panels int, src *float32, ld int, dst *float32, pstride int)

//go:noescape
func packRows16x1(k, panels int, src *float32, ld int, dst *float32, pstride int)

//go:noescape
func packT12(k8 int, src *float32, ld int, dst *float32, alpha float32)

//go:noescape
func packT32(k8 int, src *float32, ld int, dst *float32, alpha float32)

//go:noescape
func packT8(k8 int, src *float32, ld int, dst *float32, alpha float32)

//go:noescape
func packN8(k int, src *float32, ld int, dst *float32, alpha float32)

//go:noescape
func packT6(k8 int, src *float32, ld int, dst *float32, alpha float32)

//go:noescape
func packT16(k8 int, src *float32, ld int, dst *float32, alpha float32)

//go:noescape
func packN12(k int, src *float32, ld int, dst *float32, alpha float32)

//go:noescape
func packN32(k int, src *float32, ld int, dst *float32, alpha float32)

//go:noescape
func packN6(k int, src *float32, ld int, dst *float32, alpha float32)

//go:noescape
func packN16(k int, src *float32, ld int, dst *float32, alpha float32)

func hasPeakFMA() bool { return useAVX512 }

func peakFMA(n int) { peakFMAAVX512(n) }

// expAVX512 sets dst[i] = exp(src[i]-shift) for i < n (a multiple of 16) and returns their sum.
//
//go:noescape
func expAVX512(dst, src *float32, n int, shift float32) float32

// geluAVX512 sets dst[i] = GELU(src[i]) for i < n (a multiple of 16).
//
//go:noescape
func geluAVX512(dst, src *float32, n int)

// stabDivAVX512 sets dst[i] = r[i] / (z[i] + eps*sign(z[i])), sign(±0) = +1, for i < n (a multiple of 16), eps ≥ 0.
//
//go:noescape
func stabDivAVX512(dst, r, z *float32, n int, eps float32)

// reluAVX512 sets dst[i] = src[i] where x[i] > 0, else 0, for i < n (a multiple of 16).
//
//go:noescape
func reluAVX512(dst, src, x *float32, n int)

// max2x2AVX512 sets dst[j] to the maximum of r0[2j], r0[2j+1], r1[2j], r1[2j+1] for j < n (a multiple of 16).
//
//go:noescape
func max2x2AVX512(dst, r0, r1 *float32, n int)

// winoInputAVX512 applies a 6×6 Winograd transform along 6 source rows (see wino.go).
//
//go:noescape
func winoInputAVX512(dst *float32, dstStride int, src *float32, off *[6]int, n int)

// winoOutputAVX512 applies a 4×6 Winograd transform along 6 source rows (see wino.go).
//
//go:noescape
func winoOutputAVX512(dst *float32, dstStride int, src *float32, off *[6]int, n int)

// useWino reports whether the Winograd transform kernels run (their masked
// tail uses BMI2's SHLX, which every AVX-512 CPU has).
func useWino() bool { return useAVX512 && cpu.X86.HasBMI2 }

// winoSplit4AVX512 sets dst[p*stride+j] = src[4j+p] for p < 4, j < n.
//
//go:noescape
func winoSplit4AVX512(dst *float32, stride int, src *float32, n int)

// winoJoin4AVX512 sets dst[4j+b] = y[b*stride+j] + bias for b < 4, j < n.
//
//go:noescape
func winoJoin4AVX512(dst, y *float32, stride int, n int, bias float32)
