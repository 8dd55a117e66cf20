//go:build !amd64 || purego

package kernels

// The kernel selection flags; without assembly they are always false.
var (
	useAVX512 = false
	useAVX2   = false
)

var avx512Rows = 0

func selectKernel(m int) *kernelInfo { return &genericKernel }

// callKernel computes one mr×nr tile of C (see sgemmKernelGeneric).
func callKernel(ki *kernelInfo, k int, a, b, c []float32, ldc int, beta float32) {
	sgemmKernelGeneric(k, a, b, c, ldc, beta)
}

func callKernelHalf(ki *kernelInfo, k int, a, b, c []float32, ldc int, beta float32) {
	panic("kernels: no half kernel")
}

func callKernelStrided(ki *kernelInfo, k int, a, b []float32, ldb int, c []float32, ldc int, beta float32) {
	panic("kernels: no strided kernel")
}

func dot(x, y []float32) float32 { return dotGeneric(x, y) }

func axpy(alpha float32, x, y []float32) { axpyGeneric(alpha, x, y) }

func packTFast(dst, src []float32, ld, w, k int, alpha float32) int { return 0 }

func packNFast(dst, src []float32, ld, w, k int, alpha float32) bool { return false }

func packRowsFast(dst, src []float32, ld, w, k, panels int) bool { return false }

func hasPeakFMA() bool { return false }

func peakFMA(n int) {}

func expAVX512(dst, src *float32, n int, shift float32) float32 { panic("kernels: no assembly") }

func geluAVX512(dst, src *float32, n int) { panic("kernels: no assembly") }

func stabDivAVX512(dst, r, z *float32, n int, eps float32) { panic("kernels: no assembly") }

func reluAVX512(dst, src, x *float32, n int) { panic("kernels: no assembly") }

func max2x2AVX512(dst, r0, r1 *float32, n int) { panic("kernels: no assembly") }

func winoInputAVX512(dst *float32, dstStride int, src *float32, off *[6]int, n int) {
	panic("kernels: no assembly")
}

func winoOutputAVX512(dst *float32, dstStride int, src *float32, off *[6]int, n int) {
	panic("kernels: no assembly")
}

func useWino() bool { return false }

func winoSplit4AVX512(dst *float32, stride int, src *float32, n int) { panic("kernels: no assembly") }

func winoJoin4AVX512(dst, y *float32, stride int, n int, bias float32) {
	panic("kernels: no assembly")
}
