//go:build !purego

package kernels

import (
	"sync"

	"golang.org/x/sys/cpu"
)

//go:generate sh -c "cd _asmbf16 && go run . -out ../bf16_amd64.s"

// The bfloat16 kernel selection flags. Tests switch them off to exercise
// every path on one machine. AMX is used only once the operating system
// granted the tile state (requestAMX).
var (
	useAMX        = cpu.X86.HasAMXTile && cpu.X86.HasAMXBF16
	useAVX512BF16 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BF16
)

var (
	amxOnce sync.Once
	amxErr  error
	// amxPermission asks the OS for the tile state; tests replace it.
	amxPermission = requestAMX
)

func bf16Path() int {
	if useAMX {
		amxOnce.Do(func() { amxErr = amxPermission() })
		if amxErr == nil {
			return bf16PathAMX
		}
	}
	if useAVX512BF16 {
		return bf16PathAVX512
	}
	return bf16PathF32
}

func bf16Note() string {
	path := bf16Path()
	switch {
	case useAMX && amxErr != nil:
		next := "float32 arithmetic on bfloat16-rounded values (no speed-up)"
		if path == bf16PathAVX512 {
			next = "AVX-512 BF16"
		}
		return "bfloat16: AMX tiles unavailable (" + amxErr.Error() + "); using " + next
	case path == bf16PathF32:
		return "bfloat16: this CPU has neither AMX nor AVX-512 BF16; computing in float32 on bfloat16-rounded values (no speed-up)"
	}
	return ""
}

// amxTileConfig is the LDTILECFG operand of the AMX kernels: palette 1,
// tiles 0-7 of 16 rows × 64 bytes.
var amxTileConfig = func() (c [64]byte) {
	c[0] = 1
	for t := 0; t < 8; t++ {
		c[16+2*t] = 64 // colsb, little-endian uint16
		c[48+t] = 16   // rows
	}
	return c
}()

// amxKernelBF16 multiplies 32 rows of A by nb panels of B on AMX tiles and
// stores nb 32×32 float32 blocks, one after the other, at c:
//
//	for q < nb, i < 32, j < 32:
//		c[q*1024+i*32+j] += Σ_{p<32·kt} A[i][p]·B_q[p][j]
//
// a is row-major bf16 with lda elements per row (32 rows, 32·kt columns
// read); b holds nb panels of kt·16 rows of 32 bf16 pairs (the layout of
// packBBF16), one after the other. It loads the tile configuration cfg,
// computes and releases the tiles (TILERELEASE) in the same call, so no
// tile state outlives it.
//
//go:noescape
func amxKernelBF16(cfg *[64]byte, a *uint16, lda int, b *uint32, kt int, c *float32, nb int)

// amxPeakBF16 runs n iterations of four register-only TDPBF16PS (16×16×32
// multiply-adds each) to measure the machine's peak.
//
//go:noescape
func amxPeakBF16(cfg *[64]byte, n int)

// bf16KernelAVX512 computes the 12×32 tile
//
//	c[i*ldc+j] = Σ_{p<2·kp} A[i][p]·B[p][j] + beta*c[i*ldc+j]   (i < 12, j < 32)
//
// with VDPBF16PS, where A is row-major bf16 (lda elements per row) and b
// one 32-column panel of packBBF16 (kp pairs). c is not read if beta == 0.
//
//go:noescape
func bf16KernelAVX512(kp int, a *uint16, lda int, b *uint32, c *float32, ldc int, beta float32)

// bf16KernelAVX512R1 … bf16KernelAVX512R11 are bf16KernelAVX512 for
// tiles of 1 to 11 rows.
//
//go:noescape
func bf16KernelAVX512R1(kp int, a *uint16, lda int, b *uint32, c *float32, ldc int, beta float32)

//go:noescape
func bf16KernelAVX512R2(kp int, a *uint16, lda int, b *uint32, c *float32, ldc int, beta float32)

//go:noescape
func bf16KernelAVX512R3(kp int, a *uint16, lda int, b *uint32, c *float32, ldc int, beta float32)

//go:noescape
func bf16KernelAVX512R4(kp int, a *uint16, lda int, b *uint32, c *float32, ldc int, beta float32)

//go:noescape
func bf16KernelAVX512R5(kp int, a *uint16, lda int, b *uint32, c *float32, ldc int, beta float32)

//go:noescape
func bf16KernelAVX512R6(kp int, a *uint16, lda int, b *uint32, c *float32, ldc int, beta float32)

//go:noescape
func bf16KernelAVX512R7(kp int, a *uint16, lda int, b *uint32, c *float32, ldc int, beta float32)

//go:noescape
func bf16KernelAVX512R8(kp int, a *uint16, lda int, b *uint32, c *float32, ldc int, beta float32)

//go:noescape
func bf16KernelAVX512R9(kp int, a *uint16, lda int, b *uint32, c *float32, ldc int, beta float32)

//go:noescape
func bf16KernelAVX512R10(kp int, a *uint16, lda int, b *uint32, c *float32, ldc int, beta float32)

//go:noescape
func bf16KernelAVX512R11(kp int, a *uint16, lda int, b *uint32, c *float32, ldc int, beta float32)

// peakBF16AVX512 runs n iterations of 24 independent register-only
// VDPBF16PS (16 lanes × 2 multiply-adds each).
//
//go:noescape
func peakBF16AVX512(n int)

// packPanelBF16AVX512 is
//
//	for p < pairs, j < 32:
//		dst[p*32+j] = BF16FromFloat32(src[2p*ldb+j]) | BF16FromFloat32(src[(2p+1)*ldb+j])<<16
//
//go:noescape
func packPanelBF16AVX512(dst *uint32, src *float32, ldb int, pairs int)

func packPanelFast(dst []uint32, src []float32, ldb, pairs int) bool {
	if !useAVX512BF16 {
		return false
	}
	_ = dst[pairs*32-1]
	_ = src[(2*pairs-1)*ldb+31]
	packPanelBF16AVX512(&dst[0], &src[0], ldb, pairs)
	return true
}

func callAMX(a []uint16, lda int, b []uint32, kt int, c []float32, nb int) {
	// The assembly trusts its arguments: check the extents it touches.
	_ = a[31*lda+32*kt-1]
	_ = b[nb*kt*512-1]
	_ = c[nb*1024-1]
	amxKernelBF16(&amxTileConfig, &a[0], lda, &b[0], kt, &c[0], nb)
}

// callAVX512BF16 computes a rows×32 tile (rows ≤ 12) with VDPBF16PS.
func callAVX512BF16(rows, kpairs int, a []uint16, lda int, b []uint32, c []float32, ldc int, beta float32) {
	// The assembly trusts its arguments: check the extents it touches.
	_ = a[(rows-1)*lda+2*kpairs-1]
	_ = b[kpairs*32-1]
	_ = c[(rows-1)*ldc+31]
	switch rows {
	case 1:
		bf16KernelAVX512R1(kpairs, &a[0], lda, &b[0], &c[0], ldc, beta)
	case 2:
		bf16KernelAVX512R2(kpairs, &a[0], lda, &b[0], &c[0], ldc, beta)
	case 3:
		bf16KernelAVX512R3(kpairs, &a[0], lda, &b[0], &c[0], ldc, beta)
	case 4:
		bf16KernelAVX512R4(kpairs, &a[0], lda, &b[0], &c[0], ldc, beta)
	case 5:
		bf16KernelAVX512R5(kpairs, &a[0], lda, &b[0], &c[0], ldc, beta)
	case 6:
		bf16KernelAVX512R6(kpairs, &a[0], lda, &b[0], &c[0], ldc, beta)
	case 7:
		bf16KernelAVX512R7(kpairs, &a[0], lda, &b[0], &c[0], ldc, beta)
	case 8:
		bf16KernelAVX512R8(kpairs, &a[0], lda, &b[0], &c[0], ldc, beta)
	case 9:
		bf16KernelAVX512R9(kpairs, &a[0], lda, &b[0], &c[0], ldc, beta)
	case 10:
		bf16KernelAVX512R10(kpairs, &a[0], lda, &b[0], &c[0], ldc, beta)
	case 11:
		bf16KernelAVX512R11(kpairs, &a[0], lda, &b[0], &c[0], ldc, beta)
	case 12:
		bf16KernelAVX512(kpairs, &a[0], lda, &b[0], &c[0], ldc, beta)
	default:
		panic("kernels: bad tile height")
	}
}

func hasPeakBF16() bool { return useAVX512BF16 }

func peakBF16(n int) { peakBF16AVX512(n) }

func hasPeakAMX() bool { return bf16Path() == bf16PathAMX }

func peakAMX(n int) { amxPeakBF16(&amxTileConfig, n) }
