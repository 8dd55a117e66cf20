package nn

import (
	"fmt"

	"github.com/xai-go/lrp/tensor"
)

// Flatten reshapes N×d1×…×dk to a matrix: dimensions before Axis form the
// rows, the rest the columns (ONNX Flatten, torch.flatten(x, Axis)).
type Flatten struct{ Axis int }

// Type returns "Flatten".
func (*Flatten) Type() string { return "Flatten" }

// OutputShape returns the matrix shape.
func (l *Flatten) OutputShape(in [][]int) ([]int, error) {
	if err := wantInputs("Flatten", in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	a := l.Axis
	if a < 0 {
		a += len(s)
	}
	if a < 0 || a > len(s) {
		return nil, shapeErr("Flatten", "axis %d out of range for shape %s", l.Axis, tensor.ShapeString(s))
	}
	return []int{tensor.Size(s[:a]), tensor.Size(s[a:])}, nil
}

// Forward returns a reshaped copy of x.
func (l *Flatten) Forward(in []*tensor.T) *tensor.T {
	s, _ := l.OutputShape([][]int{in[0].Shape})
	return in[0].Clone().Reshape(s...)
}

// Backward reshapes g to the input shape.
func (l *Flatten) Backward(in []*tensor.T, _, g *tensor.T) []*tensor.T {
	return []*tensor.T{g.Clone().Reshape(in[0].Shape...)}
}

// Reshape gives the input a new shape, as ONNX Reshape: a 0 in Shape copies
// the input's dimension at the same position and one −1 is inferred from
// the size.
type Reshape struct{ Shape []int }

// Type returns "Reshape".
func (*Reshape) Type() string { return "Reshape" }

// OutputShape resolves 0 and −1 in Shape against the input shape.
func (l *Reshape) OutputShape(in [][]int) ([]int, error) {
	if err := wantInputs("Reshape", in, 1); err != nil {
		return nil, err
	}
	return ResolveReshape(in[0], l.Shape)
}

// ResolveReshape resolves ONNX Reshape's target: 0 copies the input
// dimension at the same index and one −1 takes the remaining size.
func ResolveReshape(in, target []int) ([]int, error) {
	out := make([]int, len(target))
	infer := -1
	known := 1
	for i, d := range target {
		switch {
		case d == 0:
			if i >= len(in) {
				return nil, fmt.Errorf("Reshape: target %v copies dimension %d of %s, which has none", target, i, tensor.ShapeString(in))
			}
			out[i] = in[i]
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("Reshape: target %v has more than one -1", target)
			}
			infer = i
			continue
		case d < -1:
			return nil, fmt.Errorf("Reshape: invalid dimension %d in target %v", d, target)
		default:
			out[i] = d
		}
		known *= out[i]
	}
	size := tensor.Size(in)
	if infer >= 0 {
		if known == 0 || size%known != 0 {
			return nil, fmt.Errorf("Reshape: cannot reshape %s to %v", tensor.ShapeString(in), target)
		}
		out[infer] = size / known
	} else if known != size {
		return nil, fmt.Errorf("Reshape: cannot reshape %s (%d elements) to %v", tensor.ShapeString(in), size, target)
	}
	return out, nil
}

// Forward returns x with the new shape, sharing x's data (the graph does
// not recycle memory that two values share): a transformer reshapes every
// head's queries, keys and values, and copies would double what an
// explanation keeps.
func (l *Reshape) Forward(in []*tensor.T) *tensor.T {
	s, err := l.OutputShape([][]int{in[0].Shape})
	if err != nil {
		panic("nn: " + err.Error())
	}
	return tensor.FromData(in[0].Data, s...)
}

// Backward reshapes g to the input shape.
func (l *Reshape) Backward(in []*tensor.T, _, g *tensor.T) []*tensor.T {
	return []*tensor.T{g.Clone().Reshape(in[0].Shape...)}
}

// Concat joins its inputs along dimension Axis (torch.cat).
type Concat struct{ Axis int }

// Type returns "Concat".
func (*Concat) Type() string { return "Concat" }

func (l *Concat) axis(rank int) int {
	if l.Axis < 0 {
		return l.Axis + rank
	}
	return l.Axis
}

// OutputShape checks that the inputs agree outside Axis.
func (l *Concat) OutputShape(in [][]int) ([]int, error) {
	if len(in) == 0 {
		return nil, shapeErr("Concat", "needs at least one input")
	}
	a := l.axis(len(in[0]))
	if a < 0 || a >= len(in[0]) {
		return nil, shapeErr("Concat", "axis %d out of range for shape %s", l.Axis, tensor.ShapeString(in[0]))
	}
	out := append([]int(nil), in[0]...)
	for _, s := range in[1:] {
		if len(s) != len(out) {
			return nil, shapeErr("Concat", "inputs %s and %s differ in rank", tensor.ShapeString(in[0]), tensor.ShapeString(s))
		}
		for i := range s {
			if i != a && s[i] != out[i] {
				return nil, shapeErr("Concat", "inputs %s and %s differ outside axis %d", tensor.ShapeString(in[0]), tensor.ShapeString(s), a)
			}
		}
		out[a] += s[a]
	}
	return out, nil
}

// Forward joins the inputs.
func (l *Concat) Forward(in []*tensor.T) *tensor.T {
	shapes := make([][]int, len(in))
	for i, t := range in {
		shapes[i] = t.Shape
	}
	s, err := l.OutputShape(shapes)
	if err != nil {
		panic("nn: " + err.Error())
	}
	a := l.axis(len(s))
	outer, inner := tensor.Size(s[:a]), tensor.Size(s[a+1:])
	y := tensor.New(s...)
	off := 0
	for _, t := range in {
		blk := t.Shape[a] * inner
		for o := 0; o < outer; o++ {
			copy(y.Data[o*s[a]*inner+off:], t.Data[o*blk:(o+1)*blk])
		}
		off += blk
	}
	return y
}

// Backward splits g into the inputs' parts.
func (l *Concat) Backward(in []*tensor.T, out, g *tensor.T) []*tensor.T {
	s := out.Shape
	a := l.axis(len(s))
	outer, inner := tensor.Size(s[:a]), tensor.Size(s[a+1:])
	gs := make([]*tensor.T, len(in))
	off := 0
	for i, t := range in {
		gi := tensor.New(t.Shape...)
		blk := t.Shape[a] * inner
		for o := 0; o < outer; o++ {
			copy(gi.Data[o*blk:(o+1)*blk], g.Data[o*s[a]*inner+off:])
		}
		off += blk
		gs[i] = gi
	}
	return gs
}

// Pad pads the last two dimensions of an N×C×H×W input (ONNX Pad on
// spatial dimensions): with Value in constant mode (the default), by
// mirroring without repeating the border in reflect mode, by repeating the
// border in edge mode.
type Pad struct {
	Pads  [4]int // top, left, bottom, right
	Value float32
	Mode  PadMode
}

// PadMode says how Pad fills the padding.
type PadMode int

// Pad modes, as ONNX's Pad mode attribute.
const (
	PadConstant PadMode = iota // Value
	PadReflect                 // x[-i] = x[i], x[n-1+i] = x[n-1-i]
	PadEdge                    // x[-i] = x[0], x[n-1+i] = x[n-1]
)

// source returns the input index that output index o (in padded
// coordinates, begin padding p, input size n) reads, or −1 for a constant.
func (m PadMode) source(o, p, n int) int {
	i := o - p
	switch m {
	case PadReflect:
		if n == 1 {
			return 0
		}
		period := 2 * (n - 1)
		i = ((i % period) + period) % period
		if i >= n {
			i = period - i
		}
		return i
	case PadEdge:
		return min(max(i, 0), n-1)
	}
	if i < 0 || i >= n {
		return -1
	}
	return i
}

// Type returns "Pad".
func (*Pad) Type() string { return "Pad" }

// OutputShape returns N×C×(H+top+bottom)×(W+left+right).
func (l *Pad) OutputShape(in [][]int) ([]int, error) {
	if err := wantInputs("Pad", in, 1); err != nil {
		return nil, err
	}
	if err := want4D("Pad", in[0]); err != nil {
		return nil, err
	}
	s := in[0]
	for _, p := range l.Pads {
		if p < 0 {
			return nil, shapeErr("Pad", "negative padding %v is not supported", l.Pads)
		}
	}
	if l.Mode == PadReflect && (max(l.Pads[0], l.Pads[2]) >= s[2] || max(l.Pads[1], l.Pads[3]) >= s[3]) {
		return nil, shapeErr("Pad", "reflect padding %v needs pads smaller than the input %s", l.Pads, tensor.ShapeString(s))
	}
	if l.Mode != PadConstant && (s[2] == 0 || s[3] == 0) {
		return nil, shapeErr("Pad", "cannot pad an empty input %s by reflection or repetition", tensor.ShapeString(s))
	}
	return []int{s[0], s[1], s[2] + l.Pads[0] + l.Pads[2], s[3] + l.Pads[1] + l.Pads[3]}, nil
}

// sources returns, for the reflect and edge modes, the input row of every
// output row and the input column of every output column (the same for
// every plane, so computed once).
func (l *Pad) sources(h, w, oh, ow int) (rows, cols []int) {
	rows, cols = make([]int, oh), make([]int, ow)
	for i := range rows {
		rows[i] = l.Mode.source(i, l.Pads[0], h)
	}
	for j := range cols {
		cols[j] = l.Mode.source(j, l.Pads[1], w)
	}
	return rows, cols
}

// Forward pads x.
func (l *Pad) Forward(in []*tensor.T) *tensor.T {
	x := in[0]
	s, _ := l.OutputShape([][]int{x.Shape})
	y := tensor.New(s...)
	h, w, oh, ow := x.Shape[2], x.Shape[3], s[2], s[3]
	if l.Mode != PadConstant {
		rows, cols := l.sources(h, w, oh, ow)
		for nc := 0; nc < s[0]*s[1]; nc++ {
			for i, si := range rows {
				for j, sj := range cols {
					y.Data[(nc*oh+i)*ow+j] = x.Data[(nc*h+si)*w+sj]
				}
			}
		}
		return y
	}
	if l.Value != 0 {
		for i := range y.Data {
			y.Data[i] = l.Value
		}
	}
	for nc := 0; nc < s[0]*s[1]; nc++ {
		for i := 0; i < h; i++ {
			copy(y.Data[nc*oh*ow+(i+l.Pads[0])*ow+l.Pads[1]:], x.Data[nc*h*w+i*w:nc*h*w+(i+1)*w])
		}
	}
	return y
}

// Backward crops g to the input.
func (l *Pad) Backward(in []*tensor.T, out, g *tensor.T) []*tensor.T {
	x := in[0]
	gx := tensor.New(x.Shape...)
	h, w, oh, ow := x.Shape[2], x.Shape[3], out.Shape[2], out.Shape[3]
	if l.Mode != PadConstant {
		// Every output element adds its gradient to the input it copies.
		rows, cols := l.sources(h, w, oh, ow)
		for nc := 0; nc < x.Shape[0]*x.Shape[1]; nc++ {
			for i, si := range rows {
				for j, sj := range cols {
					gx.Data[(nc*h+si)*w+sj] += g.Data[(nc*oh+i)*ow+j]
				}
			}
		}
		return []*tensor.T{gx}
	}
	for nc := 0; nc < x.Shape[0]*x.Shape[1]; nc++ {
		for i := 0; i < h; i++ {
			copy(gx.Data[nc*h*w+i*w:nc*h*w+(i+1)*w], g.Data[nc*oh*ow+(i+l.Pads[0])*ow+l.Pads[1]:])
		}
	}
	return []*tensor.T{gx}
}
