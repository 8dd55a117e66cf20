package nn

import (
	"math"

	"github.com/xai-go/lrp/internal/kernels"
	"github.com/xai-go/lrp/tensor"
)

func oneInputSame(name string, in [][]int) ([]int, error) {
	if err := wantInputs(name, in, 1); err != nil {
		return nil, err
	}
	return append([]int(nil), in[0]...), nil
}

// ReLU is max(0, x). Its gradient is passed where x > 0.
type ReLU struct{}

// Type returns "ReLU".
func (ReLU) Type() string { return "ReLU" }

// OutputShape returns the input shape.
func (ReLU) OutputShape(in [][]int) ([]int, error) { return oneInputSame("ReLU", in) }

// Forward computes max(0, x).
func (ReLU) Forward(in []*tensor.T) *tensor.T {
	return rectify(tensor.Empty(in[0].Shape...), in[0])
}

// isReLU reports whether l is a ReLU.
func isReLU(l Layer) bool {
	_, ok := l.(ReLU)
	return ok
}

// reluInPlace sets x = max(x, 0) and returns x.
func reluInPlace(x *tensor.T) *tensor.T { return rectify(x, x) }

// rectify sets dst = max(x, 0) (dst may be x) and returns dst.
func rectify(dst, x *tensor.T) *tensor.T {
	parallelFor(len(x.Data), 1<<16, func(lo, hi int) {
		reluMasked(dst.Data[lo:hi], x.Data[lo:hi], x.Data[lo:hi])
	})
	return dst
}

// reluMasked sets dst[i] = src[i] where x[i] > 0, else 0.
func reluMasked(dst, src, x []float32) { kernels.ReLUMasked(dst, src, x) }

// Backward passes g where x > 0.
func (ReLU) Backward(in []*tensor.T, _, g *tensor.T) []*tensor.T {
	x := in[0]
	gx := tensor.Empty(x.Shape...)
	parallelFor(len(x.Data), 1<<16, func(lo, hi int) {
		reluMasked(gx.Data[lo:hi], g.Data[lo:hi], x.Data[lo:hi])
	})
	return []*tensor.T{gx}
}

// Clip is min(max(x, Min), Max) (ReLU6 is Clip with Min 0 and Max 6). Its
// gradient is passed where Min < x < Max, as PyTorch's hardtanh (ReLU6)
// does.
type Clip struct{ Min, Max float32 }

// Type returns "Clip".
func (*Clip) Type() string { return "Clip" }

// OutputShape returns the input shape.
func (*Clip) OutputShape(in [][]int) ([]int, error) { return oneInputSame("Clip", in) }

// Forward clips x to [Min, Max].
func (l *Clip) Forward(in []*tensor.T) *tensor.T {
	x := in[0]
	y := tensor.Empty(x.Shape...)
	for i, v := range x.Data {
		y.Data[i] = min(max(v, l.Min), l.Max)
	}
	return y
}

// Backward passes g where Min < x < Max.
func (l *Clip) Backward(in []*tensor.T, _, g *tensor.T) []*tensor.T {
	x := in[0]
	gx := tensor.New(x.Shape...)
	for i, v := range x.Data {
		if v > l.Min && v < l.Max {
			gx.Data[i] = g.Data[i]
		}
	}
	return []*tensor.T{gx}
}

// Identity returns its input unchanged (Dropout at inference is Identity).
// Kind keeps the operator it stands for, e.g. "Dropout".
type Identity struct{ Kind string }

// Type returns Kind, or "Identity" if Kind is empty.
func (l Identity) Type() string {
	if l.Kind == "" {
		return "Identity"
	}
	return l.Kind
}

// OutputShape returns the input shape.
func (l Identity) OutputShape(in [][]int) ([]int, error) { return oneInputSame(l.Type(), in) }

// Forward returns a copy of the input.
func (Identity) Forward(in []*tensor.T) *tensor.T { return in[0].Clone() }

// Backward returns the gradient.
func (Identity) Backward(_ []*tensor.T, _, g *tensor.T) []*tensor.T {
	return []*tensor.T{g.Clone()}
}

// BatchNorm2d is batch normalization at inference, per channel c:
//
//	y = (x − Mean[c]) / √(Var[c] + Eps) · Scale[c] + Bias[c] = A[c]·x + B[c]
//
// for N×C×… inputs. A and B are computed by NewBatchNorm2d.
type BatchNorm2d struct {
	Scale, Bias, Mean, Var *tensor.T // C each
	Eps                    float32
	A, B                   []float32
}

// NewBatchNorm2d returns the layer with A and B computed in float64.
func NewBatchNorm2d(scale, bias, mean, variance *tensor.T, eps float32) *BatchNorm2d {
	c := len(scale.Data)
	l := &BatchNorm2d{Scale: scale, Bias: bias, Mean: mean, Var: variance, Eps: eps,
		A: make([]float32, c), B: make([]float32, c)}
	for i := 0; i < c; i++ {
		a := float64(scale.Data[i]) / math.Sqrt(float64(variance.Data[i])+float64(eps))
		l.A[i] = float32(a)
		l.B[i] = float32(float64(bias.Data[i]) - a*float64(mean.Data[i]))
	}
	return l
}

// Type returns "BatchNorm".
func (*BatchNorm2d) Type() string { return "BatchNorm" }

// OutputShape returns the input shape.
func (l *BatchNorm2d) OutputShape(in [][]int) ([]int, error) {
	if err := wantInputs("BatchNorm", in, 1); err != nil {
		return nil, err
	}
	if len(in[0]) < 2 || in[0][1] != len(l.A) {
		return nil, shapeErr("BatchNorm", "needs %d channels in dimension 1, got shape %s", len(l.A), tensor.ShapeString(in[0]))
	}
	return append([]int(nil), in[0]...), nil
}

func (l *BatchNorm2d) apply(x *tensor.T, withBias bool) *tensor.T {
	y := tensor.New(x.Shape...)
	c := x.Shape[1]
	inner := tensor.Size(x.Shape[2:])
	parallelFor(x.Shape[0]*c, 4, func(lo, hi int) {
		for nc := lo; nc < hi; nc++ {
			a, b := l.A[nc%c], l.B[nc%c]
			if !withBias {
				b = 0
			}
			src := x.Data[nc*inner : (nc+1)*inner]
			dst := y.Data[nc*inner : (nc+1)*inner]
			for i, v := range src {
				dst[i] = a*v + b
			}
		}
	})
	return y
}

// Forward normalizes x.
func (l *BatchNorm2d) Forward(in []*tensor.T) *tensor.T { return l.apply(in[0], true) }

// Backward scales g by A per channel.
func (l *BatchNorm2d) Backward(_ []*tensor.T, _, g *tensor.T) []*tensor.T {
	return []*tensor.T{l.apply(g, false)}
}

// Softmax is exp(x_i) / Σ_j exp(x_j) over the dimension Axis and those after
// it, flattened (ONNX opset < 13 semantics, Legacy), or over dimension Axis
// alone (opset ≥ 13).
type Softmax struct {
	Axis   int
	Legacy bool
}

// Type returns "Softmax".
func (*Softmax) Type() string { return "Softmax" }

// OutputShape returns the input shape.
func (l *Softmax) OutputShape(in [][]int) ([]int, error) {
	s, err := oneInputSame("Softmax", in)
	if err != nil {
		return nil, err
	}
	if a := l.axis(len(s)); a < 0 || a >= len(s) {
		return nil, shapeErr("Softmax", "axis %d out of range for shape %s", l.Axis, tensor.ShapeString(s))
	}
	return s, nil
}

func (l *Softmax) axis(rank int) int {
	if l.Axis < 0 {
		return l.Axis + rank
	}
	return l.Axis
}

// Layout returns how Softmax sees an input of shape s: outer independent
// groups of n values, inner apart (n the axis' length, or with Legacy the
// flattened size from the axis on, inner 1).
func (l *Softmax) Layout(s []int) (outer, n, inner int) {
	a := l.axis(len(s))
	outer = tensor.Size(s[:a])
	if l.Legacy {
		return outer, tensor.Size(s[a:]), 1
	}
	return outer, s[a], tensor.Size(s[a+1:])
}

// Forward computes the softmax, subtracting the maximum for stability.
func (l *Softmax) Forward(in []*tensor.T) *tensor.T {
	x := in[0]
	y := tensor.New(x.Shape...)
	outer, n, inner := l.Layout(x.Shape)
	parallelFor(outer*inner, max(1, (1<<12)/max(n, 1)), func(lo, hi int) {
		for row := lo; row < hi && inner == 1; row++ {
			// Contiguous rows: the vector exponential.
			xr, yr := x.Data[row*n:(row+1)*n], y.Data[row*n:(row+1)*n]
			m := float32(math.Inf(-1))
			for _, v := range xr {
				m = max(m, v)
			}
			s := 1 / kernels.Exp(yr, xr, m)
			for i := range yr {
				yr[i] *= s
			}
		}
		for row := lo; row < hi && inner > 1; row++ {
			o, k := row/inner, row%inner
			base := o*n*inner + k
			m := float32(math.Inf(-1))
			for i := 0; i < n; i++ {
				m = max(m, x.Data[base+i*inner])
			}
			var sum float64
			for i := 0; i < n; i++ {
				e := math.Exp(float64(x.Data[base+i*inner] - m))
				y.Data[base+i*inner] = float32(e)
				sum += e
			}
			for i := 0; i < n; i++ {
				y.Data[base+i*inner] = float32(float64(y.Data[base+i*inner]) / sum)
			}
		}
	})
	return y
}

// Backward computes y ⊙ (g − Σ g ⊙ y).
func (l *Softmax) Backward(_ []*tensor.T, y, g *tensor.T) []*tensor.T {
	gx := tensor.New(y.Shape...)
	outer, n, inner := l.Layout(y.Shape)
	for o := 0; o < outer; o++ {
		for k := 0; k < inner; k++ {
			base := o*n*inner + k
			var dot float64
			for i := 0; i < n; i++ {
				dot += float64(g.Data[base+i*inner]) * float64(y.Data[base+i*inner])
			}
			for i := 0; i < n; i++ {
				j := base + i*inner
				gx.Data[j] = y.Data[j] * (g.Data[j] - float32(dot))
			}
		}
	}
	return []*tensor.T{gx}
}
