package kernels

import "math"

// The transforms of Winograd's minimal filtering algorithm F(4×4, 3×3)
// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
// CVPR 2016): a 3×3 correlation of a 6×6 input tile d with filter g gives
// the 4×4 output tile
//
//	Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A
//
// with the interpolation points 0, ±1, ±2 and ∞. Bᵀ and Aᵀ are applied one
// axis at a time; WinogradInput and WinogradOutput apply them to vectors:
// each of the 6 source "rows" is a run of values (of many tiles, channels
// or images) at the same position of the tile.

// WinogradBT is Bᵀ, the input transform of F(4×4, 3×3).
var WinogradBT = [6][6]float32{
	{4, 0, -5, 0, 1, 0},
	{0, -4, -4, 1, 1, 0},
	{0, 4, -4, -1, 1, 0},
	{0, -2, -1, 2, 1, 0},
	{0, 2, -1, -2, 1, 0},
	{0, 4, 0, -5, 0, 1},
}

// WinogradAT is Aᵀ, the output transform of F(4×4, 3×3).
var WinogradAT = [4][6]float32{
	{1, 1, 1, 1, 1, 0},
	{0, 1, -1, 2, -2, 0},
	{0, 1, 1, 4, 4, 0},
	{0, 1, -1, 8, -8, 1},
}

// WinogradG is G, the filter transform of F(4×4, 3×3), in float64 (the
// filter is transformed once per layer).
var WinogradG = [6][3]float64{
	{1.0 / 4, 0, 0},
	{-1.0 / 6, -1.0 / 6, -1.0 / 6},
	{-1.0 / 6, 1.0 / 6, -1.0 / 6},
	{1.0 / 24, 1.0 / 12, 1.0 / 6},
	{1.0 / 24, -1.0 / 12, 1.0 / 6},
	{0, 0, 1},
}

// WinogradInput sets, for r < 6 and i < n,
//
//	dst[r·dstStride + i] = Σ_j Bᵀ[r][j] · src[off[j] + i]
//
// the sum taken term by term over the non-zero coefficients in the order
// of j, starting with the first positive one. It panics if an index is out
// of range.
func WinogradInput(dst []float32, dstStride int, src []float32, off *[6]int, n int) {
	winoApply(dst, dstStride, src, off, n, WinogradBT[:])
}

// WinogradOutput is WinogradInput with Aᵀ: 4 rows of dst.
func WinogradOutput(dst []float32, dstStride int, src []float32, off *[6]int, n int) {
	winoApply(dst, dstStride, src, off, n, WinogradAT[:])
}

func winoApply[M ~[6]float32](dst []float32, dstStride int, src []float32, off *[6]int, n int, m []M) {
	if n <= 0 {
		return
	}
	if dstStride < n || (len(m)-1)*dstStride+n > len(dst) {
		panic("kernels: Winograd transform: dst too short")
	}
	for _, o := range off {
		if o < 0 || o+n > len(src) {
			panic("kernels: Winograd transform: src too short")
		}
	}
	if useWino() {
		if len(m) == 6 {
			winoInputAVX512(&dst[0], dstStride, &src[0], off, n)
		} else {
			winoOutputAVX512(&dst[0], dstStride, &src[0], off, n)
		}
		return
	}
	winoGeneric(dst, dstStride, src, off, n, m)
}

// winoGeneric is the portable form of the transform kernels, with the
// same order of operations.
func winoGeneric[M ~[6]float32](dst []float32, dstStride int, src []float32, off *[6]int, n int, m []M) {
	for r, row := range m {
		first := 0
		for row[first] <= 0 {
			first++
		}
		d := dst[r*dstStride : r*dstStride+n]
		s0 := src[off[first] : off[first]+n]
		c0 := row[first]
		for i := range d {
			d[i] = c0 * s0[i]
		}
		for j, c := range row {
			if j == first || c == 0 {
				continue
			}
			s := src[off[j] : off[j]+n]
			switch c {
			case 1:
				for i := range d {
					d[i] += s[i]
				}
			case -1:
				for i := range d {
					d[i] -= s[i]
				}
			default:
				for i := range d {
					d[i] = fma32(c, s[i], d[i])
				}
			}
		}
	}
}

// fma32 is a·b + c rounded once to float64 and then to float32 (a·b is
// exact in float64).
func fma32(a, b, c float32) float32 { return float32(math.FMA(float64(a), float64(b), float64(c))) }

// WinogradSplit4 sets dst[p·stride + j] = src[4j + p] for p < 4 and
// j < n: the four column phases of a row, each a run of dst. It panics if
// an index is out of range.
func WinogradSplit4(dst []float32, stride int, src []float32, n int) {
	if n <= 0 {
		return
	}
	if stride < n || 3*stride+n > len(dst) || 4*n > len(src) {
		panic("kernels: WinogradSplit4: short slice")
	}
	if useWino() {
		winoSplit4AVX512(&dst[0], stride, &src[0], n)
		return
	}
	for p := range 4 {
		d := dst[p*stride : p*stride+n]
		for j := range n {
			d[j] = src[4*j+p]
		}
	}
}

// WinogradJoin4 sets dst[4j + b] = y[b·stride + j] + bias for b < 4 and
// j < n, the inverse of WinogradSplit4 with a constant added. It panics if
// an index is out of range.
func WinogradJoin4(dst, y []float32, stride, n int, bias float32) {
	if n <= 0 {
		return
	}
	if stride < n || 3*stride+n > len(y) || 4*n > len(dst) {
		panic("kernels: WinogradJoin4: short slice")
	}
	if useWino() {
		winoJoin4AVX512(&dst[0], &y[0], stride, n, bias)
		return
	}
	for b := range 4 {
		s := y[b*stride : b*stride+n]
		for j := range n {
			dst[4*j+b] = s[j] + bias
		}
	}
}
