package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/xai-go/lrp/tensor"
)

// conv3x3Float64 is the direct 3×3 stride-1 convolution in float64.
func conv3x3Float64(x []float32, n, c, h, w int, wt []float32, b []float32, o int, pad [4]int) ([]float64, int, int) {
	oh, ow := h+pad[0]+pad[2]-2, w+pad[1]+pad[3]-2
	y := make([]float64, n*o*oh*ow)
	for in := range n {
		for k := range o {
			for i := range oh {
				for j := range ow {
					var s float64
					if b != nil {
						s = float64(b[k])
					}
					for ch := range c {
						for u := range 3 {
							yy := i - pad[0] + u
							if yy < 0 || yy >= h {
								continue
							}
							for v := range 3 {
								xx := j - pad[1] + v
								if xx < 0 || xx >= w {
									continue
								}
								s += float64(wt[((k*c+ch)*3+u)*3+v]) * float64(x[((in*c+ch)*h+yy)*w+xx])
							}
						}
					}
					y[((in*o+k)*oh+i)*ow+j] = s
				}
			}
		}
	}
	return y, oh, ow
}

// TestWinogradConv checks the Winograd convolution against the direct one
// in float64, on sizes that are and are not multiples of the tile,
// asymmetric padding, with and without bias, and with chunks of images,
// of tile rows and of single tile rows. The error allowed, 1e-5 of the
// largest |y|, is 25 times that of the direct float32 convolution
// (measured: at most 4.2e-7; Winograd at most 5.2e-6), the known cost of
// F(4×4, 3×3)'s larger transform coefficients.
func TestWinogradConv(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	type tc struct {
		n, c, h, w, o int
		pad           [4]int
		bias          bool
	}
	cases := []tc{
		{2, 16, 14, 14, 16, [4]int{1, 1, 1, 1}, true},
		{1, 17, 9, 13, 20, [4]int{}, true},
		{3, 32, 28, 28, 24, [4]int{1, 1, 1, 1}, false},
		{2, 16, 11, 7, 16, [4]int{0, 2, 1, 0}, true},
		{1, 16, 3, 3, 16, [4]int{}, true},
		{4, 24, 5, 21, 16, [4]int{2, 1, 2, 1}, true},
	}
	chunks := []int{winoChunkFloats, 36 * 60 * 40, 1}
	defer func(v, m int) { winoChunkFloats, winoMinTiles = v, m }(winoChunkFloats, winoMinTiles)
	winoMinTiles = 0 // small shapes too
	for _, cs := range cases {
		for _, chunk := range chunks {
			winoChunkFloats = chunk
			name := fmt.Sprintf("%v/chunk%d", cs, chunk)
			x := make([]float32, cs.n*cs.c*cs.h*cs.w)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			l := &Conv2d{W: tensor.New(cs.o, cs.c, 3, 3), Stride: [2]int{1, 1}, Dilation: [2]int{1, 1}, Pad: cs.pad}
			for i := range l.W.Data {
				l.W.Data[i] = float32(rng.NormFloat64() / math.Sqrt(float64(9*cs.c)))
			}
			var b []float32
			if cs.bias {
				l.B = tensor.New(cs.o)
				for i := range l.B.Data {
					l.B.Data[i] = float32(rng.NormFloat64())
				}
				b = l.B.Data
			}
			want, oh, ow := conv3x3Float64(x, cs.n, cs.c, cs.h, cs.w, l.W.Data, b, cs.o, cs.pad)
			xt := tensor.FromData(x, cs.n, cs.c, cs.h, cs.w)
			if g, err := l.geom(xt.Shape); err != nil || !winoApplies(&g) {
				t.Fatalf("%s: not a Winograd geometry (%v)", name, err)
			}
			l.wino = &winoWeights{}
			got := l.Forward([]*tensor.T{xt})
			direct := l.ForwardWith(xt, l.W, l.B)
			if fmt.Sprint(got.Shape) != fmt.Sprint([]int{cs.n, cs.o, oh, ow}) {
				t.Fatalf("%s: shape %v", name, got.Shape)
			}
			var big, errW, errD float64
			for i, v := range want {
				big = max(big, math.Abs(v))
				errW = max(errW, math.Abs(float64(got.Data[i])-v))
				errD = max(errD, math.Abs(float64(direct.Data[i])-v))
			}
			if errW > 1e-5*big {
				t.Errorf("%s: Winograd error %.3g of max |y| (direct %.3g)", name, errW/big, errD/big)
			}
			if testing.Verbose() && chunk == chunks[0] {
				t.Logf("%s: Winograd error %.3g, direct %.3g of max |y|", name, errW/big, errD/big)
			}
		}
	}
}
