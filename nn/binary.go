package nn

import (
	"fmt"

	"github.com/xai-go/lrp/tensor"
)

// BinaryOp names an element-wise operation of two tensors.
type BinaryOp string

// The element-wise operations, with NumPy broadcasting as in ONNX.
const (
	OpAdd BinaryOp = "Add"
	OpSub BinaryOp = "Sub"
	OpMul BinaryOp = "Mul"
	OpDiv BinaryOp = "Div"
)

// Binary applies Op element-wise to two tensors a and b with NumPy-style
// broadcasting. When Const is set, one operand is that constant tensor:
// it is a if ConstFirst, b otherwise, and the layer takes one input.
type Binary struct {
	Op         BinaryOp
	Const      *tensor.T
	ConstFirst bool
}

// Type returns the operation's name, e.g. "Add".
func (l *Binary) Type() string { return string(l.Op) }

func (l *Binary) operands(in []*tensor.T) (a, b *tensor.T) {
	if l.Const == nil {
		return in[0], in[1]
	}
	if l.ConstFirst {
		return l.Const, in[0]
	}
	return in[0], l.Const
}

func (l *Binary) operandShapes(in [][]int) (a, b []int, err error) {
	want := 2
	if l.Const != nil {
		want = 1
	}
	if err := wantInputs(string(l.Op), in, want); err != nil {
		return nil, nil, err
	}
	if l.Const == nil {
		return in[0], in[1], nil
	}
	if l.ConstFirst {
		return l.Const.Shape, in[0], nil
	}
	return in[0], l.Const.Shape, nil
}

// OutputShape returns the broadcast shape of the operands.
func (l *Binary) OutputShape(in [][]int) ([]int, error) {
	a, b, err := l.operandShapes(in)
	if err != nil {
		return nil, err
	}
	s, err := Broadcast(a, b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.Op, err)
	}
	return s, nil
}

// Broadcast returns the NumPy broadcast of two shapes.
func Broadcast(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := i - (n - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (n - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %s and %s do not broadcast", tensor.ShapeString(a), tensor.ShapeString(b))
		}
	}
	return out, nil
}

// bstrides returns the strides of shape s aligned to out, 0 on broadcast
// dimensions.
func bstrides(s, out []int) []int {
	st := make([]int, len(out))
	stride := 1
	for i := len(out) - 1; i >= 0; i-- {
		j := i - (len(out) - len(s))
		if j < 0 {
			continue
		}
		if s[j] != 1 {
			st[i] = stride
		}
		stride *= s[j]
	}
	return st
}

// eachBroadcast calls fn(k, ia, ib) for every output index k with the
// matching indices into a and b.
func eachBroadcast(out, as, bs []int, fn func(k, ia, ib int)) {
	sa, sb := bstrides(as, out), bstrides(bs, out)
	idx := make([]int, len(out))
	ia, ib := 0, 0
	total := tensor.Size(out)
	for k := 0; k < total; k++ {
		fn(k, ia, ib)
		for d := len(out) - 1; d >= 0; d-- {
			idx[d]++
			ia += sa[d]
			ib += sb[d]
			if idx[d] < out[d] {
				break
			}
			ia -= sa[d] * out[d]
			ib -= sb[d] * out[d]
			idx[d] = 0
		}
	}
}

// Forward applies the operation.
func (l *Binary) Forward(in []*tensor.T) *tensor.T {
	a, b := l.operands(in)
	s, err := Broadcast(a.Shape, b.Shape)
	if err != nil {
		panic("nn: " + err.Error())
	}
	y := tensor.Empty(s...) // every element is written
	if tensor.SameShape(a.Shape, b.Shape) {
		l.apply(y.Data, a.Data, b.Data)
		return y
	}
	ad, bd, yd := a.Data, b.Data, y.Data
	eachBroadcast(s, a.Shape, b.Shape, func(k, ia, ib int) {
		yd[k] = l.op(ad[ia], bd[ib])
	})
	return y
}

func (l *Binary) op(a, b float32) float32 {
	switch l.Op {
	case OpAdd:
		return a + b
	case OpSub:
		return a - b
	case OpMul:
		return a * b
	default:
		return a / b
	}
}

func (l *Binary) apply(y, a, b []float32) {
	switch l.Op {
	case OpAdd:
		for i := range y {
			y[i] = a[i] + b[i]
		}
	case OpSub:
		for i := range y {
			y[i] = a[i] - b[i]
		}
	case OpMul:
		for i := range y {
			y[i] = a[i] * b[i]
		}
	default:
		for i := range y {
			y[i] = a[i] / b[i]
		}
	}
}

// Backward returns the gradients of the non-constant operands, summed over
// their broadcast dimensions.
func (l *Binary) Backward(in []*tensor.T, out, g *tensor.T) []*tensor.T {
	a, b := l.operands(in)
	ga, gb := tensor.New(a.Shape...), tensor.New(b.Shape...)
	ad, bd, gd := a.Data, b.Data, g.Data
	eachBroadcast(out.Shape, a.Shape, b.Shape, func(k, ia, ib int) {
		gk := gd[k]
		switch l.Op {
		case OpAdd:
			ga.Data[ia] += gk
			gb.Data[ib] += gk
		case OpSub:
			ga.Data[ia] += gk
			gb.Data[ib] -= gk
		case OpMul:
			ga.Data[ia] += gk * bd[ib]
			gb.Data[ib] += gk * ad[ia]
		default:
			ga.Data[ia] += gk / bd[ib]
			gb.Data[ib] -= gk * ad[ia] / (bd[ib] * bd[ib])
		}
	})
	switch {
	case l.Const == nil:
		return []*tensor.T{ga, gb}
	case l.ConstFirst:
		return []*tensor.T{gb}
	default:
		return []*tensor.T{ga}
	}
}
