package nn

import (
	"github.com/xai-go/lrp/internal/kernels"
	"github.com/xai-go/lrp/tensor"
)

// Linear is a fully connected layer, as PyTorch's nn.Linear:
//
//	y[n,o] = b[o] + Σ_i W[o,i] · x[n,i]
type Linear struct {
	W *tensor.T // Out × In
	B *tensor.T // Out, or nil
	// TokenRows says that the rows of a 2-D input are the tokens of
	// several samples (an attention projection exported as Reshape →
	// Gemm → Reshape), not samples: they are multiplied by one GEMM, as
	// inputs of rank 3 and more are, instead of a dot product per row.
	TokenRows bool

	bf16 *bf16Weights // set by Graph.SetPrecision(BF16)
}

// Type returns "Linear".
func (l *Linear) Type() string { return "Linear" }

// Params returns the weight and bias.
func (l *Linear) Params() (w, b *tensor.T) { return l.W, l.B }

// OutputShape returns N × Out for an N × In input. As in PyTorch, leading
// dimensions are kept: … × In maps to … × Out (the tokens of a transformer).
func (l *Linear) OutputShape(in [][]int) ([]int, error) {
	if err := wantInputs("Linear", in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	if len(s) < 2 || s[len(s)-1] != l.W.Shape[1] {
		return nil, shapeErr("Linear", "weight %s needs an N×%d input, got %s",
			tensor.ShapeString(l.W.Shape), l.W.Shape[1], tensor.ShapeString(s))
	}
	return append(append([]int(nil), s[:len(s)-1]...), l.W.Shape[0]), nil
}

// Forward computes x·Wᵀ + b, in the precision set by Graph.SetPrecision.
func (l *Linear) Forward(in []*tensor.T) *tensor.T {
	if l.bf16 != nil {
		return l.forwardBF16(in[0])
	}
	return l.ForwardWith(in[0], l.W, l.B)
}

// forwardBF16 is Forward in bfloat16: y = b + x·Wᵀ by the bfloat16 GEMM
// with Wᵀ packed once, over the last dimension of x (tokens of a
// transformer are rows like samples). With the bfloat16 kernels a sample's
// logits do not depend on its batch, as in float32.
func (l *Linear) forwardBF16(x *tensor.T) *tensor.T {
	in, out := l.W.Shape[1], l.W.Shape[0]
	y, n, beta := linearOutput(x, in, out, l.B)
	kernels.GemmBF16Panels(n, x.Data, max(in, 1), l.bf16.panels(l.W), beta, y.Data, max(out, 1))
	return y
}

// Backward returns gout·W.
func (l *Linear) Backward(in []*tensor.T, _, gout *tensor.T) []*tensor.T {
	return []*tensor.T{l.BackwardWith(gout, l.W, in[0].Shape)}
}

// ForwardWith computes x·wᵀ + b (b may be nil).
func (l *Linear) ForwardWith(x, w, b *tensor.T) *tensor.T {
	if x.Dims() > 2 || l.TokenRows {
		return linearTokens(x, w, b)
	}
	in, out := w.Shape[1], w.Shape[0]
	y, n, _ := linearOutput(x, in, out, b)
	linearForwardRows(n, in, out, x.Data, w.Data, y.Data)
	return y
}

// linearOutput allocates the output of a Linear layer with in inputs and
// out outputs on x (x's leading dimensions × out): the bias b in every
// row, zeros without one. It returns it with its number of rows and the
// GEMM beta that keeps what it holds (1 with a bias, else 0).
func linearOutput(x *tensor.T, in, out int, b *tensor.T) (y *tensor.T, n int, beta float32) {
	n = x.Len() / max(in, 1)
	y = tensor.New(append(append([]int(nil), x.Shape[:len(x.Shape)-1]...), out)...)
	if b != nil {
		parallelFor(n, max(1, 1<<14/max(out, 1)), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				copy(y.Data[i*out:(i+1)*out], b.Data)
			}
		})
		beta = 1
	}
	return y, n, beta
}

// BackwardWith computes gy·w, the gradient at the input.
func (l *Linear) BackwardWith(gy, w *tensor.T, inShape []int) *tensor.T {
	if len(inShape) > 2 || l.TokenRows {
		return linearTokensBackward(gy, w, inShape)
	}
	in, out := w.Shape[1], w.Shape[0]
	n := tensor.Size(inShape) / in
	gx := tensor.New(inShape...)
	linearBackwardRows(n, in, out, gy.Data, w.Data, gx.Data)
	return gx
}

// Linear layers read their weights row by row (dot products forward, axpys
// backward) rather than calling the GEMM. A classifier's weights are large
// and the batch small, so the product is bound by reading the weights once,
// which this does, while the GEMM would pack (read and write) all of them
// first: VGG16's first classifier layer took 95 ms per image at batch 1
// with the GEMM. It also makes every sample's result independent of the
// batch it is computed in (the GEMM's blocking is not), so that a score
// does not change with how pixel flipping groups its inputs.

// linearForwardRows adds x·wᵀ to y (n×out), one dot product per sample and
// weight row, the rows split over the cores.
func linearForwardRows(n, in, out int, x, w, y []float32) {
	parallelFor(out, max(1, (1<<16)/max(in, 1)), func(lo, hi int) {
		for o := lo; o < hi; o++ {
			row := w[o*in : (o+1)*in]
			for i := 0; i < n; i++ {
				y[i*out+o] += kernels.Dot(x[i*in:(i+1)*in], row)
			}
		}
	})
}

// linearBackwardRows sets gx (n×in, zero on entry) to gy·w, the columns
// split over the cores in blocks; weight rows whose gradient is zero for
// every sample are skipped (LRP starts from a one-hot relevance, and ReLU
// masks about half of the rest).
func linearBackwardRows(n, in, out int, gy, w, gx []float32) {
	const block = 2048
	parallelFor(ceilDiv(in, block), 1, func(lo, hi int) {
		c0, c1 := lo*block, min(hi*block, in)
		for o := 0; o < out; o++ {
			zero := true
			for i := 0; i < n; i++ {
				zero = zero && gy[i*out+o] == 0
			}
			if zero {
				continue
			}
			row := w[o*in+c0 : o*in+c1]
			for i := 0; i < n; i++ {
				if g := gy[i*out+o]; g != 0 {
					kernels.Axpy(g, row, gx[i*in+c0:i*in+c1])
				}
			}
		}
	})
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
