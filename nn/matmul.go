package nn

import (
	"github.com/xai-go/lrp/tensor"
)

// MatMulConst multiplies its input by a constant B of rank ≥ 3, as ONNX MatMul
// (numpy.matmul) does: over the last two dimensions,
//
//	y[..., m, p] = Σ_k x[..., m, k] · B[..., k, p],
//
// with B's leading dimensions aligned to the input's from the right and
// broadcast where they are 1. Every leading dimension of B must be 1 or
// equal to the input's, so that the output keeps the input's leading
// dimensions. (A matrix B is a Linear layer.)
type MatMulConst struct{ B *tensor.T }

// Type returns "MatMulConst" (the product of two activations is MatMul).
func (*MatMulConst) Type() string { return "MatMulConst" }

// OutputShape checks that B broadcasts to the input and returns
// x[:-1] with the last dimension B's.
func (l *MatMulConst) OutputShape(in [][]int) ([]int, error) {
	if err := wantInputs("MatMulConst", in, 1); err != nil {
		return nil, err
	}
	x, b := in[0], l.B.Shape
	if len(b) < 2 || len(x) < len(b) {
		return nil, shapeErr("MatMulConst", "input %s has lower rank than the constant %s", tensor.ShapeString(x), tensor.ShapeString(b))
	}
	off := len(x) - len(b)
	for i := 0; i < len(b)-2; i++ {
		if b[i] != 1 && b[i] != x[off+i] {
			return nil, shapeErr("MatMulConst", "constant %s does not broadcast to the input %s", tensor.ShapeString(b), tensor.ShapeString(x))
		}
	}
	if x[len(x)-1] != b[len(b)-2] {
		return nil, shapeErr("MatMulConst", "input %s and constant %s: inner dimensions differ", tensor.ShapeString(x), tensor.ShapeString(b))
	}
	out := append([]int(nil), x...)
	out[len(out)-1] = b[len(b)-1]
	return out, nil
}

// matrices calls fn(i, j) for every matrix i of the input (leading indices
// flattened) and the matrix j of B it is multiplied with.
func (l *MatMulConst) matrices(x []int, fn func(i, j int)) {
	b := l.B.Shape
	lead := x[:len(x)-2]
	off := len(x) - len(b)
	idx := make([]int, len(lead))
	for i := range tensor.Size(lead) {
		j := 0
		for d := off; d < len(lead); d++ {
			j *= b[d-off]
			if b[d-off] != 1 {
				j += idx[d]
			}
		}
		fn(i, j)
		for d := len(idx) - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < lead[d] {
				break
			}
			idx[d] = 0
		}
	}
}

// Forward computes x·B per matrix.
func (l *MatMulConst) Forward(in []*tensor.T) *tensor.T {
	x := in[0]
	s, err := l.OutputShape([][]int{x.Shape})
	if err != nil {
		panic("nn: " + err.Error())
	}
	y := tensor.New(s...)
	r := len(x.Shape)
	m, k, p := x.Shape[r-2], x.Shape[r-1], s[r-1]
	l.matrices(x.Shape, func(i, j int) {
		xm, bm, ym := x.Data[i*m*k:(i+1)*m*k], l.B.Data[j*k*p:(j+1)*k*p], y.Data[i*m*p:(i+1)*m*p]
		gemm(false, false, m, p, k, 1, xm, k, bm, p, 0, ym, p)
	})
	return y
}

// Backward computes g·Bᵀ per matrix.
func (l *MatMulConst) Backward(in []*tensor.T, _, g *tensor.T) []*tensor.T {
	x := in[0]
	gx := tensor.New(x.Shape...)
	r := len(x.Shape)
	m, k, p := x.Shape[r-2], x.Shape[r-1], g.Shape[r-1]
	l.matrices(x.Shape, func(i, j int) {
		gm, bm, xm := g.Data[i*m*p:(i+1)*m*p], l.B.Data[j*k*p:(j+1)*k*p], gx.Data[i*m*k:(i+1)*m*k]
		gemm(false, true, m, k, p, 1, gm, p, bm, p, 0, xm, k)
	})
	return []*tensor.T{gx}
}
