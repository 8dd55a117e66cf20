//go:build !amd64 || purego

package kernels

// Without assembly the bfloat16 kernels are never selected.
var (
	useAMX        = false
	useAVX512BF16 = false
)

func bf16Path() int { return bf16PathF32 }

func bf16Note() string {
	return "bfloat16: no bfloat16 kernels in this build; computing in float32 on bfloat16-rounded values (no speed-up)"
}

func packPanelFast(dst []uint32, src []float32, ldb, pairs int) bool { return false }

func callAMX(a []uint16, lda int, b []uint32, kt int, c []float32, nb int) {
	panic("kernels: no AMX kernel")
}

func callAVX512BF16(rows, kpairs int, a []uint16, lda int, b []uint32, c []float32, ldc int, beta float32) {
	panic("kernels: no AVX-512 BF16 kernel")
}

func hasPeakBF16() bool { return false }

func peakBF16(n int) {}

func hasPeakAMX() bool { return false }

func peakAMX(n int) {}
