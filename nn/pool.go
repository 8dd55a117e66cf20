package nn

import (
	"math"

	"github.com/xai-go/lrp/internal/kernels"
	"github.com/xai-go/lrp/tensor"
)

// Pool2d holds the window geometry shared by MaxPool2d and AvgPool2d.
type Pool2d struct {
	Kernel   [2]int // along H, W
	Stride   [2]int
	Pad      [4]int // top, left, bottom, right
	Dilation [2]int // MaxPool2d only; 1 for average pooling
	CeilMode bool
}

// outSize returns PyTorch's pooling output length for one axis: the
// floor (or ceil with CeilMode) of (in + p0 + p1 − d·(k−1) − 1)/s, plus one,
// less one if CeilMode would start the last window inside the end padding.
func (p *Pool2d) outSize(in, k, s, p0, p1, d int) int {
	span := in + p0 + p1 - d*(k-1) - 1
	if span < 0 {
		return 0
	}
	n := span / s
	if p.CeilMode {
		n = (span + s - 1) / s
	}
	n++
	if p.CeilMode && (n-1)*s >= in+p0 {
		n--
	}
	return n
}

func (p *Pool2d) outputShape(name string, in [][]int) ([]int, error) {
	if err := wantInputs(name, in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	if err := want4D(name, s); err != nil {
		return nil, err
	}
	d := p.dil()
	oh := p.outSize(s[2], p.Kernel[0], p.Stride[0], p.Pad[0], p.Pad[2], d[0])
	ow := p.outSize(s[3], p.Kernel[1], p.Stride[1], p.Pad[1], p.Pad[3], d[1])
	if oh <= 0 || ow <= 0 {
		return nil, shapeErr(name, "window %dx%d does not fit input %dx%d", p.Kernel[0], p.Kernel[1], s[2], s[3])
	}
	return []int{s[0], s[1], oh, ow}, nil
}

func (p *Pool2d) dil() [2]int {
	d := p.Dilation
	if d[0] == 0 {
		d[0] = 1
	}
	if d[1] == 0 {
		d[1] = 1
	}
	return d
}

// MaxPool2d takes the maximum over each window, as PyTorch's MaxPool2d;
// padding counts as −∞. Its gradient goes to the first maximum of each
// window in row-major order (winner takes all).
type MaxPool2d struct{ Pool2d }

// Type returns "MaxPool".
func (l *MaxPool2d) Type() string { return "MaxPool" }

// OutputShape returns N × C × OH × OW.
func (l *MaxPool2d) OutputShape(in [][]int) ([]int, error) { return l.outputShape("MaxPool", in) }

// validTaps returns the kernel taps [t0, t1) of a window starting at
// position start (negative in the padding) whose positions
// start + t·dil fall inside [0, size).
func validTaps(start, k, dil, size int) (t0, t1 int) {
	t0, t1 = 0, k
	for t0 < k && start+t0*dil < 0 {
		t0++
	}
	for t1 > t0 && start+(t1-1)*dil >= size {
		t1--
	}
	return t0, t1
}

// rows calls fn(plane, i, best, idx) for every output row i of every
// plane (n·C + c) of x, with the maximum of each window of the row in best
// and its index in the plane in idx (−1 if the window is empty). The
// maximum is the first in row-major order; a NaN wins over numbers, and
// the last NaN over earlier ones. Planes are split over goroutines; fn
// must not keep best and idx.
func (l *MaxPool2d) rows(x *tensor.T, oh, ow int, fn func(nc, i int, best []float32, idx []int32)) {
	h, w := x.Shape[2], x.Shape[3]
	d := l.dil()
	kh, kw := l.Kernel[0], l.Kernel[1]
	// Valid kernel columns [v0, v1) of each output column.
	cols := make([][2]int, ow)
	for j := range cols {
		v0, v1 := validTaps(j*l.Stride[1]-l.Pad[1], kw, d[1], w)
		cols[j] = [2]int{v0, v1}
	}
	simple := l.simple(x.Shape, oh, ow)
	row3 := kw == 3 && d[1] == 1
	planes := x.Shape[0] * x.Shape[1]
	parallelFor(planes, 1, func(lo, hi int) {
		best := make([]float32, ow)
		idx := make([]int32, ow)
		for nc := lo; nc < hi; nc++ {
			xp := x.Data[nc*h*w : (nc+1)*h*w]
			for i := 0; i < oh; i++ {
				if simple {
					max2x2(xp[2*i*w:], w, 2*i*w, best, idx)
					fn(nc, i, best, idx)
					continue
				}
				y0 := i*l.Stride[0] - l.Pad[0]
				u0, u1 := validTaps(y0, kh, d[0], h)
				for j := 0; j < ow; j++ {
					x0 := j*l.Stride[1] - l.Pad[1]
					b, bi := float32(math.Inf(-1)), -1
					if row3 && cols[j] == [2]int{0, 3} && u1 > u0 {
						// a window three columns wide inside the image
						for u := u0; u < u1; u++ {
							k := (y0+u*d[0])*w + x0
							r := xp[k : k+3 : k+3]
							if v := r[0]; bi < 0 || v > b || v != v {
								b, bi = v, k
							}
							if v := r[1]; v > b || v != v {
								b, bi = v, k+1
							}
							if v := r[2]; v > b || v != v {
								b, bi = v, k+2
							}
						}
						best[j], idx[j] = b, int32(bi)
						continue
					}
					for u := u0; u < u1; u++ {
						row := (y0 + u*d[0]) * w
						for v := cols[j][0]; v < cols[j][1]; v++ {
							k := row + x0 + v*d[1]
							val := xp[k]
							if bi < 0 || val > b || val != val {
								b, bi = val, k
							}
						}
					}
					best[j], idx[j] = b, int32(bi)
				}
				fn(nc, i, best, idx)
			}
		}
	})
}

// max2x2 computes the maxima of the 2×2 windows at columns 2j of the rows
// x[0:w] and x[w:2w] (base is the index of x[0] in its plane), as the
// general loop of rows does.
func max2x2(x []float32, w, base int, best []float32, idx []int32) {
	r0, r1 := x[:w], x[w:2*w]
	for j := range best {
		b, bi := r0[2*j], 2*j
		if v := r0[2*j+1]; v > b || v != v {
			b, bi = v, 2*j+1
		}
		if v := r1[2*j]; v > b || v != v {
			b, bi = v, w+2*j
		}
		if v := r1[2*j+1]; v > b || v != v {
			b, bi = v, w+2*j+1
		}
		best[j], idx[j] = b, int32(base+bi)
	}
}

// Forward computes the window maxima.
func (l *MaxPool2d) Forward(in []*tensor.T) *tensor.T {
	x := in[0]
	s, _ := l.OutputShape([][]int{x.Shape})
	y := tensor.Empty(s...) // every row is written
	oh, ow := s[2], s[3]
	if l.simple(x.Shape, oh, ow) {
		// 2×2 windows, stride 2: the vector kernel, no argmax.
		h, w := x.Shape[2], x.Shape[3]
		parallelFor(x.Shape[0]*x.Shape[1]*oh, max(1, 1<<12/max(ow, 1)), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				nc, i := r/oh, r%oh
				src := x.Data[nc*h*w+2*i*w:]
				kernels.Max2x2(y.Data[r*ow:(r+1)*ow], src[:2*ow], src[w:w+2*ow])
			}
		})
		return y
	}
	l.rows(x, oh, ow, func(nc, i int, best []float32, _ []int32) {
		copy(y.Data[(nc*oh+i)*ow:], best)
	})
	return y
}

// simple reports whether l pools 2×2 windows with stride 2 inside an
// input of shape s (no padding, no dilation) into oh×ow outputs.
func (l *MaxPool2d) simple(s []int, oh, ow int) bool {
	return l.Kernel == [2]int{2, 2} && l.Stride == [2]int{2, 2} && l.dil() == [2]int{1, 1} && l.Pad == [4]int{} &&
		2*oh <= s[2] && 2*ow <= s[3]
}

// Backward sends each output gradient to its window's maximum.
func (l *MaxPool2d) Backward(in []*tensor.T, out, g *tensor.T) []*tensor.T {
	x := in[0]
	gx := tensor.New(x.Shape...)
	oh, ow := out.Shape[2], out.Shape[3]
	hw := x.Shape[2] * x.Shape[3]
	l.rows(x, oh, ow, func(nc, i int, _ []float32, idx []int32) {
		gp := gx.Data[nc*hw : (nc+1)*hw]
		for j, k := range idx {
			if k >= 0 {
				gp[k] += g.Data[(nc*oh+i)*ow+j]
			}
		}
	})
	return []*tensor.T{gx}
}

// AvgPool2d averages each window, as PyTorch's AvgPool2d: the divisor is
// the window's size clipped to the padded input when CountIncludePad,
// otherwise the number of input pixels inside the window.
type AvgPool2d struct {
	Pool2d
	CountIncludePad bool
}

// Type returns "AvgPool".
func (l *AvgPool2d) Type() string { return "AvgPool" }

// OutputShape returns N × C × OH × OW.
func (l *AvgPool2d) OutputShape(in [][]int) ([]int, error) { return l.outputShape("AvgPool", in) }

// Params returns nil: the weights are the fixed 1/divisor.
func (l *AvgPool2d) Params() (w, b *tensor.T) { return nil, nil }

// window returns the clipped window [y0,y1)×[x0,x1) and its divisor.
func (l *AvgPool2d) window(i, j, h, w int) (y0, y1, x0, x1 int, div float32) {
	y0 = i*l.Stride[0] - l.Pad[0]
	x0 = j*l.Stride[1] - l.Pad[1]
	y1 = min(y0+l.Kernel[0], h+l.Pad[2])
	x1 = min(x0+l.Kernel[1], w+l.Pad[3])
	size := (y1 - y0) * (x1 - x0)
	y0, x0 = max(y0, 0), max(x0, 0)
	y1, x1 = min(y1, h), min(x1, w)
	if !l.CountIncludePad {
		size = (y1 - y0) * (x1 - x0)
	}
	if size <= 0 {
		return y0, y0, x0, x0, 1
	}
	return y0, y1, x0, x1, float32(size)
}

// Forward computes the window averages.
func (l *AvgPool2d) Forward(in []*tensor.T) *tensor.T { return l.ForwardWith(in[0], nil, nil) }

// ForwardWith computes the window averages; w and b are ignored.
func (l *AvgPool2d) ForwardWith(x, _, _ *tensor.T) *tensor.T {
	s, _ := l.OutputShape([][]int{x.Shape})
	y := tensor.New(s...)
	h, w, oh, ow := x.Shape[2], x.Shape[3], s[2], s[3]
	parallelFor(s[0]*s[1], 1, func(lo, hi int) {
		for nc := lo; nc < hi; nc++ {
			xp := x.Data[nc*h*w : (nc+1)*h*w]
			yp := y.Data[nc*oh*ow : (nc+1)*oh*ow]
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					y0, y1, x0, x1, div := l.window(i, j, h, w)
					var sum float32
					for yy := y0; yy < y1; yy++ {
						for xx := x0; xx < x1; xx++ {
							sum += xp[yy*w+xx]
						}
					}
					yp[i*ow+j] = sum / div
				}
			}
		}
	})
	return y
}

// Backward spreads each output gradient evenly over its window.
func (l *AvgPool2d) Backward(in []*tensor.T, _, g *tensor.T) []*tensor.T {
	return []*tensor.T{l.BackwardWith(g, nil, in[0].Shape)}
}

// BackwardWith spreads each output gradient g evenly over its window.
func (l *AvgPool2d) BackwardWith(g, _ *tensor.T, inShape []int) *tensor.T {
	gx := tensor.New(inShape...)
	h, w, oh, ow := inShape[2], inShape[3], g.Shape[2], g.Shape[3]
	parallelFor(inShape[0]*inShape[1], 1, func(lo, hi int) {
		for nc := lo; nc < hi; nc++ {
			gp := gx.Data[nc*h*w : (nc+1)*h*w]
			op := g.Data[nc*oh*ow : (nc+1)*oh*ow]
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					y0, y1, x0, x1, div := l.window(i, j, h, w)
					v := op[i*ow+j] / div
					for yy := y0; yy < y1; yy++ {
						for xx := x0; xx < x1; xx++ {
							gp[yy*w+xx] += v
						}
					}
				}
			}
		}
	})
	return gx
}

// AdaptiveAvgPool2d averages over windows chosen so the output is OutH×OutW,
// as PyTorch's AdaptiveAvgPool2d: output row i covers input rows
// ⌊i·H/OutH⌋ to ⌈(i+1)·H/OutH⌉ (exclusive). OutH = OutW = 1 is global
// average pooling (ONNX GlobalAveragePool).
type AdaptiveAvgPool2d struct {
	OutH, OutW int
}

// Type returns "GlobalAvgPool" for a 1×1 output, "AdaptiveAvgPool" otherwise.
func (l *AdaptiveAvgPool2d) Type() string {
	if l.OutH == 1 && l.OutW == 1 {
		return "GlobalAvgPool"
	}
	return "AdaptiveAvgPool"
}

// Params returns nil: the weights are the fixed 1/window size.
func (l *AdaptiveAvgPool2d) Params() (w, b *tensor.T) { return nil, nil }

// OutputShape returns N × C × OutH × OutW.
func (l *AdaptiveAvgPool2d) OutputShape(in [][]int) ([]int, error) {
	if err := wantInputs(l.Type(), in, 1); err != nil {
		return nil, err
	}
	if err := want4D(l.Type(), in[0]); err != nil {
		return nil, err
	}
	if in[0][2] == 0 || in[0][3] == 0 {
		return nil, shapeErr(l.Type(), "empty input %s", tensor.ShapeString(in[0]))
	}
	return []int{in[0][0], in[0][1], l.OutH, l.OutW}, nil
}

func adaptiveRange(i, in, out int) (int, int) {
	return i * in / out, ((i+1)*in + out - 1) / out
}

// Forward computes the window averages.
func (l *AdaptiveAvgPool2d) Forward(in []*tensor.T) *tensor.T { return l.ForwardWith(in[0], nil, nil) }

// ForwardWith computes the window averages; w and b are ignored.
func (l *AdaptiveAvgPool2d) ForwardWith(x, _, _ *tensor.T) *tensor.T {
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	y := tensor.New(n, c, l.OutH, l.OutW)
	parallelFor(n*c, 8, func(lo, hi int) {
		for nc := lo; nc < hi; nc++ {
			xp := x.Data[nc*h*w : (nc+1)*h*w]
			for i := 0; i < l.OutH; i++ {
				y0, y1 := adaptiveRange(i, h, l.OutH)
				for j := 0; j < l.OutW; j++ {
					x0, x1 := adaptiveRange(j, w, l.OutW)
					var sum float32
					for yy := y0; yy < y1; yy++ {
						for _, v := range xp[yy*w+x0 : yy*w+x1] {
							sum += v
						}
					}
					y.Data[(nc*l.OutH+i)*l.OutW+j] = sum / float32((y1-y0)*(x1-x0))
				}
			}
		}
	})
	return y
}

// Backward spreads each output gradient evenly over its window.
func (l *AdaptiveAvgPool2d) Backward(in []*tensor.T, _, g *tensor.T) []*tensor.T {
	return []*tensor.T{l.BackwardWith(g, nil, in[0].Shape)}
}

// BackwardWith spreads each output gradient evenly over its window.
func (l *AdaptiveAvgPool2d) BackwardWith(g, _ *tensor.T, inShape []int) *tensor.T {
	gx := tensor.New(inShape...)
	n, c, h, w := inShape[0], inShape[1], inShape[2], inShape[3]
	parallelFor(n*c, 8, func(lo, hi int) {
		for nc := lo; nc < hi; nc++ {
			gp := gx.Data[nc*h*w : (nc+1)*h*w]
			for i := 0; i < l.OutH; i++ {
				y0, y1 := adaptiveRange(i, h, l.OutH)
				for j := 0; j < l.OutW; j++ {
					x0, x1 := adaptiveRange(j, w, l.OutW)
					v := g.Data[(nc*l.OutH+i)*l.OutW+j] / float32((y1-y0)*(x1-x0))
					for yy := y0; yy < y1; yy++ {
						row := gp[yy*w+x0 : yy*w+x1]
						for k := range row {
							row[k] += v
						}
					}
				}
			}
		}
	})
	return gx
}

// MaxPoolIndices is ONNX MaxPool's second output (Indices): for each
// window of MaxPool2d, the index of its maximum in the whole input
// flattened, (n·C + c)·H·W + h·W + w (storage_order 0), or with
// ColumnMajor (storage_order 1) (n·C + c)·H·W + w·H + h, carried as a
// float32 (exact below 2²⁴, which OutputShape enforces). The index depends
// on the sample's position n in the batch. It is piecewise constant, so no
// gradient flows through it.
type MaxPoolIndices struct {
	MaxPool2d
	ColumnMajor bool
}

// Type returns "MaxPoolIndices".
func (l *MaxPoolIndices) Type() string { return "MaxPoolIndices" }

// OutputShape is MaxPool2d's; inputs of 2²⁴ elements or more are refused,
// since their indices would not be exact in float32.
func (l *MaxPoolIndices) OutputShape(in [][]int) ([]int, error) {
	s, err := l.outputShape("MaxPoolIndices", in)
	if err != nil {
		return nil, err
	}
	if tensor.Size(in[0]) > 1<<24 {
		return nil, shapeErr("MaxPoolIndices", "input %s has more than 2^24 elements, whose indices float32 cannot hold exactly", tensor.ShapeString(in[0]))
	}
	return s, nil
}

// Forward computes the index of each window's maximum.
func (l *MaxPoolIndices) Forward(in []*tensor.T) *tensor.T {
	x := in[0]
	s, _ := l.OutputShape([][]int{x.Shape})
	y := tensor.Empty(s...) // every row is written
	oh, ow := s[2], s[3]
	hw := x.Shape[2] * x.Shape[3]
	l.rows(x, oh, ow, func(nc, i int, _ []float32, idx []int32) {
		row := y.Data[(nc*oh+i)*ow : (nc*oh+i+1)*ow]
		for j, k := range idx {
			if l.ColumnMajor {
				h, w := int(k)/x.Shape[3], int(k)%x.Shape[3]
				k = int32(w*x.Shape[2] + h)
			}
			row[j] = float32(nc*hw + int(k))
		}
	})
	return y
}

// Backward returns no gradient: the indices are piecewise constant.
func (l *MaxPoolIndices) Backward(in []*tensor.T, _, _ *tensor.T) []*tensor.T {
	return []*tensor.T{nil}
}
