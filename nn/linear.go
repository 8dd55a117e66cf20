package nn

import "github.com/xai-go/lrp/tensor"

// Linear is a fully connected layer, as PyTorch's nn.Linear:
//
//	y[n,o] = b[o] + Σ_i W[o,i] · x[n,i]
type Linear struct {
	W *tensor.T // Out × In
	B *tensor.T // Out, or nil
}

// Type returns "Linear".
func (l *Linear) Type() string { return "Linear" }

// Params returns the weight and bias.
func (l *Linear) Params() (w, b *tensor.T) { return l.W, l.B }

// OutputShape returns N × Out for an N × In input.
func (l *Linear) OutputShape(in [][]int) ([]int, error) {
	if err := wantInputs("Linear", in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	if len(s) != 2 || s[1] != l.W.Shape[1] {
		return nil, shapeErr("Linear", "weight %s needs an N×%d input, got %s",
			tensor.ShapeString(l.W.Shape), l.W.Shape[1], tensor.ShapeString(s))
	}
	return []int{s[0], l.W.Shape[0]}, nil
}

// Forward computes x·Wᵀ + b.
func (l *Linear) Forward(in []*tensor.T) *tensor.T { return l.ForwardWith(in[0], l.W, l.B) }

// Backward returns gout·W.
func (l *Linear) Backward(in []*tensor.T, _, gout *tensor.T) []*tensor.T {
	return []*tensor.T{l.BackwardWith(gout, l.W, in[0].Shape)}
}

// ForwardWith computes x·wᵀ + b (b may be nil).
func (l *Linear) ForwardWith(x, w, b *tensor.T) *tensor.T {
	n, in, out := x.Shape[0], w.Shape[1], w.Shape[0]
	y := tensor.New(n, out)
	if b != nil {
		for i := 0; i < n; i++ {
			copy(y.Data[i*out:(i+1)*out], b.Data)
		}
	}
	gemm(false, true, n, out, in, 1, x.Data, in, w.Data, in, 1, y.Data, out)
	return y
}

// BackwardWith computes gy·w, the gradient at the input.
func (l *Linear) BackwardWith(gy, w *tensor.T, inShape []int) *tensor.T {
	n, in, out := inShape[0], w.Shape[1], w.Shape[0]
	gx := tensor.New(n, in)
	gemm(false, false, n, in, out, 1, gy.Data, out, w.Data, in, 0, gx.Data, in)
	return gx
}

// Transpose2D swaps the two dimensions of a matrix input (ONNX Gemm with
// transA = 1 applies it before the Linear layer).
type Transpose2D struct{}

// Type returns "Transpose".
func (Transpose2D) Type() string { return "Transpose" }

// OutputShape returns the swapped shape.
func (Transpose2D) OutputShape(in [][]int) ([]int, error) {
	if err := wantInputs("Transpose", in, 1); err != nil {
		return nil, err
	}
	if len(in[0]) != 2 {
		return nil, shapeErr("Transpose", "needs a matrix, got %s", tensor.ShapeString(in[0]))
	}
	return []int{in[0][1], in[0][0]}, nil
}

// Forward transposes in[0].
func (Transpose2D) Forward(in []*tensor.T) *tensor.T { return transpose2D(in[0]) }

// Backward transposes the gradient back.
func (Transpose2D) Backward(_ []*tensor.T, _, g *tensor.T) []*tensor.T {
	return []*tensor.T{transpose2D(g)}
}

func transpose2D(x *tensor.T) *tensor.T {
	r, c := x.Shape[0], x.Shape[1]
	y := tensor.New(c, r)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			y.Data[j*r+i] = x.Data[i*c+j]
		}
	}
	return y
}
