package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/xai-go/lrp/tensor"
)

// naiveConvT is the transposed convolution wᵀ·gy (the input gradient of
// naiveConv) in float64.
func naiveConvT(l *Conv2d, gy *tensor.T, inShape []int) []float64 {
	n, c, h, w := inShape[0], inShape[1], inShape[2], inShape[3]
	o, oh, ow := gy.Shape[1], gy.Shape[2], gy.Shape[3]
	kh, kw := l.W.Shape[2], l.W.Shape[3]
	cg := l.W.Shape[1]
	og := o / l.Groups
	out := make([]float64, n*c*h*w)
	for b := 0; b < n; b++ {
		for oc := 0; oc < o; oc++ {
			g := oc / og
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					s := float64(gy.Data[((b*o+oc)*oh+i)*ow+j])
					for ci := 0; ci < cg; ci++ {
						for u := 0; u < kh; u++ {
							for v := 0; v < kw; v++ {
								y := i*l.Stride[0] - l.Pad[0] + u*l.Dilation[0]
								xx := j*l.Stride[1] - l.Pad[1] + v*l.Dilation[1]
								if y < 0 || y >= h || xx < 0 || xx >= w {
									continue
								}
								out[((b*c+g*cg+ci)*h+y)*w+xx] += float64(l.W.Data[((oc*cg+ci)*kh+u)*kw+v]) * s
							}
						}
					}
				}
			}
		}
	}
	return out
}

type convCase struct {
	n, c, h, w, o, kh, kw, groups int
	stride, dil                   [2]int
	pad                           [4]int
	bias                          bool
}

var tiledCases = []convCase{
	{1, 3, 8, 8, 4, 3, 3, 1, [2]int{1, 1}, [2]int{1, 1}, [4]int{1, 1, 1, 1}, true},
	{2, 4, 9, 7, 6, 3, 2, 2, [2]int{2, 1}, [2]int{1, 2}, [4]int{1, 2, 0, 1}, true},
	{3, 6, 5, 5, 6, 3, 3, 6, [2]int{1, 1}, [2]int{1, 1}, [4]int{1, 1, 1, 1}, false},
	{2, 5, 4, 6, 3, 1, 1, 1, [2]int{1, 1}, [2]int{1, 1}, [4]int{}, true},
	{1, 2, 11, 11, 3, 5, 5, 1, [2]int{3, 3}, [2]int{2, 2}, [4]int{2, 2, 2, 2}, true},
	// enough input channels for the flipped-weight transposed pass
	{1, 16, 13, 11, 24, 3, 3, 1, [2]int{1, 1}, [2]int{1, 1}, [4]int{1, 1, 1, 1}, true},
	{3, 20, 7, 9, 72, 3, 3, 1, [2]int{1, 1}, [2]int{1, 1}, [4]int{1, 1, 1, 1}, true},
	{2, 32, 10, 10, 16, 3, 3, 2, [2]int{1, 1}, [2]int{1, 1}, [4]int{1, 1, 1, 1}, false},
	{1, 17, 9, 12, 9, 3, 2, 1, [2]int{1, 1}, [2]int{2, 3}, [4]int{2, 0, 1, 3}, true},
	{2, 18, 12, 10, 8, 5, 3, 1, [2]int{1, 1}, [2]int{1, 1}, [4]int{0, 0, 0, 0}, true},
	{1, 16, 6, 6, 8, 3, 3, 1, [2]int{1, 1}, [2]int{1, 1}, [4]int{3, 3, 3, 3}, false}, // padding beyond the kernel
	{2, 5, 9, 9, 4, 3, 3, 1, [2]int{1, 1}, [2]int{2, 2}, [4]int{2, 2, 2, 2}, true},   // same size, dilated: im2col copies all rows at once
	// odd sizes, stride 2, pointwise with many channels
	{2, 19, 15, 13, 70, 3, 3, 1, [2]int{2, 2}, [2]int{1, 1}, [4]int{1, 1, 1, 1}, true},
	{1, 24, 14, 14, 80, 1, 1, 1, [2]int{2, 2}, [2]int{1, 1}, [4]int{}, false},
	{3, 40, 9, 11, 136, 1, 1, 1, [2]int{1, 1}, [2]int{1, 1}, [4]int{}, true},
	{1, 64, 20, 20, 130, 1, 1, 2, [2]int{1, 1}, [2]int{1, 1}, [4]int{}, true},
	{1, 3, 17, 17, 8, 7, 7, 1, [2]int{2, 2}, [2]int{1, 1}, [4]int{3, 3, 3, 3}, true},
}

// TestConvTiledPaths checks forward and transposed convolutions against
// the float64 references with tilings and parallel splits forced by small
// budgets and several worker counts.
func TestConvTiledPaths(t *testing.T) {
	type knobs struct{ budget, colMin, colMax, minCols, items, procs, flipMin int }
	settings := []knobs{
		{1 << 13, 1 << 18, 1 << 22, 512, 4, 1, 2048},
		{1 << 13, 1 << 18, 1 << 22, 512, 4, 2, 0},
		{1, 1, 64, 1, 4, 3, 0},             // one output row per tile
		{4, 100, 300, 8, 8, 4, 1 << 30},    // a few rows per tile, blocks of output channels, col2im
		{1 << 20, 1, 1 << 30, 1, 64, 2, 0}, // many items: channel blocks
	}
	defer func(b, cmin, cmax, m, i, ip, p, f int) {
		convColBudget, convColMin, convColMax, convMinCols, convItemsPerWorker, convItemsPerWorkerPointwise, convFlipMinPixels = b, cmin, cmax, m, i, ip, f
		runtime.GOMAXPROCS(p)
	}(convColBudget, convColMin, convColMax, convMinCols, convItemsPerWorker, convItemsPerWorkerPointwise, runtime.GOMAXPROCS(0), convFlipMinPixels)
	r := rand.New(rand.NewPCG(11, 12))
	for si, s := range settings {
		convColBudget, convColMin, convColMax, convMinCols, convItemsPerWorker, convItemsPerWorkerPointwise, convFlipMinPixels = s.budget, s.colMin, s.colMax, s.minCols, s.items, s.items, s.flipMin
		runtime.GOMAXPROCS(s.procs)
		for ci, tc := range tiledCases {
			t.Run(fmt.Sprintf("setting%d/case%d", si, ci), func(t *testing.T) {
				l := &Conv2d{W: randT(r, tc.o, tc.c/tc.groups, tc.kh, tc.kw), Stride: tc.stride, Pad: tc.pad, Dilation: tc.dil, Groups: tc.groups}
				if tc.bias {
					l.B = randT(r, tc.o)
				}
				x := randT(r, tc.n, tc.c, tc.h, tc.w)
				y := l.Forward([]*tensor.T{x})
				checkClose(t, "forward", y.Data, naiveConv(l, x))
				gy := randT(r, y.Shape...)
				gx := l.Backward([]*tensor.T{x}, y, gy)[0]
				want := naiveConvT(l, gy, x.Shape)
				checkClose(t, "transposed", gx.Data, want)
				wt := l.TransposedWeight(l.W)
				if (wt != nil) != (tc.stride == [2]int{1, 1} && tc.c/tc.groups >= convFlipMinChannels && (tc.kh > 1 || tc.kw > 1 || tc.pad != [4]int{})) {
					t.Errorf("TransposedWeight returned %v", wt)
				}
				checkClose(t, "transposed with transposed weight", l.BackwardWithTransposed(gy, l.W, wt, x.Shape).Data, want)
				checkAdjoint(t, r, l, x, y)
			})
		}
	}
}

func checkClose(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i, v := range want {
		if math.Abs(float64(got[i])-v) > 1e-4*(1+math.Abs(v)) {
			t.Fatalf("%s: [%d] = %g, want %g", what, i, got[i], v)
		}
	}
}

// TestConvStackedWeights checks ForwardWith and BackwardWith with two
// weights stacked along the output channels: the result is that of both
// weights, stacked along the channels (forward) or summed (transposed).
func TestConvStackedWeights(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, tc := range tiledCases {
		if tc.groups != 1 {
			continue
		}
		l := &Conv2d{W: randT(r, tc.o, tc.c, tc.kh, tc.kw), B: randT(r, tc.o), Stride: tc.stride, Pad: tc.pad, Dilation: tc.dil, Groups: 1}
		w2, b2 := randT(r, tc.o, tc.c, tc.kh, tc.kw), randT(r, tc.o)
		ws := tensor.New(2*tc.o, tc.c, tc.kh, tc.kw)
		copy(ws.Data, l.W.Data)
		copy(ws.Data[len(l.W.Data):], w2.Data)
		bs := tensor.New(2 * tc.o)
		copy(bs.Data, l.B.Data)
		copy(bs.Data[tc.o:], b2.Data)
		x := randT(r, tc.n, tc.c, tc.h, tc.w)
		ys := l.ForwardWith(x, ws, bs)
		y1, y2 := l.ForwardWith(x, l.W, l.B), l.ForwardWith(x, w2, b2)
		per := y1.Len() / tc.n
		for n := 0; n < tc.n; n++ {
			for i := 0; i < per; i++ {
				if a, b := ys.Data[2*n*per+i], y1.Data[n*per+i]; math.Abs(float64(a-b)) > 1e-4*(1+math.Abs(float64(b))) {
					t.Fatalf("stacked forward, first half [%d,%d] = %g, want %g", n, i, a, b)
				}
				if a, b := ys.Data[(2*n+1)*per+i], y2.Data[n*per+i]; math.Abs(float64(a-b)) > 1e-4*(1+math.Abs(float64(b))) {
					t.Fatalf("stacked forward, second half [%d,%d] = %g, want %g", n, i, a, b)
				}
			}
		}
		g1, g2 := randT(r, y1.Shape...), randT(r, y1.Shape...)
		gs := tensor.New(ys.Shape...)
		for n := 0; n < tc.n; n++ {
			copy(gs.Data[2*n*per:], g1.Data[n*per:(n+1)*per])
			copy(gs.Data[(2*n+1)*per:], g2.Data[n*per:(n+1)*per])
		}
		a, b := l.BackwardWith(g1, l.W, x.Shape), l.BackwardWith(g2, w2, x.Shape)
		for _, got := range []*tensor.T{l.BackwardWith(gs, ws, x.Shape), l.BackwardWithTransposed(gs, ws, l.TransposedWeight(ws), x.Shape)} {
			for i := range got.Data {
				want := a.Data[i] + b.Data[i]
				if math.Abs(float64(got.Data[i]-want)) > 1e-4*(1+math.Abs(float64(want))) {
					t.Fatalf("stacked transposed [%d] = %g, want %g", i, got.Data[i], want)
				}
			}
		}
	}
}
