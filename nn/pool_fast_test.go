package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/xai-go/lrp/tensor"
)

// refMaxPool is the direct definition of max pooling: for each window, the
// value and index of its first maximum in row-major order, where a NaN
// replaces any earlier value (−1 for an empty window).
func refMaxPool(l *MaxPool2d, x *tensor.T, oh, ow int) (vals []float32, idx []int) {
	h, w := x.Shape[2], x.Shape[3]
	d := l.dil()
	planes := x.Shape[0] * x.Shape[1]
	for nc := 0; nc < planes; nc++ {
		xp := x.Data[nc*h*w : (nc+1)*h*w]
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				best, bi := float32(math.Inf(-1)), -1
				for u := 0; u < l.Kernel[0]; u++ {
					y := i*l.Stride[0] - l.Pad[0] + u*d[0]
					for v := 0; v < l.Kernel[1]; v++ {
						xx := j*l.Stride[1] - l.Pad[1] + v*d[1]
						if y < 0 || y >= h || xx < 0 || xx >= w {
							continue
						}
						val := xp[y*w+xx]
						if bi < 0 || val > best || val != val {
							best, bi = val, y*w+xx
						}
					}
				}
				vals = append(vals, best)
				if bi >= 0 {
					bi += nc * h * w
				}
				idx = append(idx, bi)
			}
		}
	}
	return vals, idx
}

func TestMaxPoolAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	pools := []Pool2d{
		{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}},
		{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}, CeilMode: true},
		{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}},
		{Kernel: [2]int{3, 2}, Stride: [2]int{1, 2}, Pad: [4]int{1, 0, 1, 1}, Dilation: [2]int{2, 1}, CeilMode: true},
		{Kernel: [2]int{3, 3}, Stride: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}, Dilation: [2]int{1, 2}},
		{Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}, Pad: [4]int{1, 1, 1, 1}},
		{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, CeilMode: true},
		{Kernel: [2]int{2, 3}, Stride: [2]int{2, 1}, Pad: [4]int{0, 1, 1, 1}, Dilation: [2]int{2, 1}},
	}
	for _, shape := range [][]int{{2, 3, 8, 8}, {1, 2, 7, 9}, {3, 1, 5, 4}} {
		for pi, p := range pools {
			l := &MaxPool2d{p}
			s, err := l.OutputShape([][]int{shape})
			if err != nil {
				continue
			}
			x := tensor.New(shape...)
			for i := range x.Data {
				// few distinct values (ties), some NaNs and infinities
				switch k := r.IntN(40); {
				case k == 0:
					x.Data[i] = float32(math.NaN())
				case k == 1:
					x.Data[i] = float32(math.Inf(-1))
				default:
					x.Data[i] = float32(r.IntN(5) - 2)
				}
			}
			y := l.Forward([]*tensor.T{x})
			vals, idx := refMaxPool(l, x, s[2], s[3])
			for i, v := range vals {
				if got := y.Data[i]; got != v && !(got != got && v != v) {
					t.Fatalf("pool %d shape %v: y[%d] = %g, want %g", pi, shape, i, got, v)
				}
			}
			g := randT(r, s...)
			gx := l.Backward([]*tensor.T{x}, y, g)[0]
			want := make([]float32, x.Len())
			for i, k := range idx {
				if k >= 0 {
					want[k] += g.Data[i]
				}
			}
			for i, v := range want {
				if gx.Data[i] != v {
					t.Fatalf("pool %d shape %v: gx[%d] = %g, want %g", pi, shape, i, gx.Data[i], v)
				}
			}
		}
	}
}

func TestReLUMasks(t *testing.T) {
	vals := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 1e-45, -1e-45, 3e38,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), -float32(math.NaN())}
	x := tensor.FromData(vals, len(vals))
	g := tensor.FromData(make([]float32, len(vals)), len(vals))
	for i := range g.Data {
		g.Data[i] = float32(i + 1)
	}
	y := ReLU{}.Forward([]*tensor.T{x})
	gx := ReLU{}.Backward([]*tensor.T{x}, y, g)[0]
	for i, v := range vals {
		want, wantG := float32(0), float32(0)
		if v > 0 {
			want, wantG = v, g.Data[i]
		}
		if math.Float32bits(y.Data[i]) != math.Float32bits(want) || gx.Data[i] != wantG {
			t.Errorf("ReLU(%g) = %g, gradient %g; want %g, %g", v, y.Data[i], gx.Data[i], want, wantG)
		}
	}
}
