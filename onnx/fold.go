package onnx

import (
	"fmt"
	"slices"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/onnx/internal/onnxpb"
	"github.com/xai-go/lrp/tensor"
)

// folder evaluates a node whose inputs are all constant at load time.
type folder func(im *importer, n *onnxpb.Node) (*value, error)

var folders map[string]folder

func init() {
	folders = map[string]folder{
		"Constant":        foldConstant,
		"Identity":        func(im *importer, n *onnxpb.Node) (*value, error) { return im.consts[n.Inputs[0]], nil },
		"Cast":            foldCast,
		"Shape":           foldShape,
		"Gather":          foldGather,
		"Unsqueeze":       foldSqueezeLike,
		"Squeeze":         foldSqueezeLike,
		"Concat":          foldConcat,
		"Reshape":         foldReshape,
		"Slice":           foldSlice,
		"Transpose":       foldTranspose,
		"ConstantOfShape": foldConstantOfShape,
		"Add":             foldArith,
		"Sub":             foldArith,
		"Mul":             foldArith,
		"Div":             foldArith,
	}
}

func foldConstant(_ *importer, n *onnxpb.Node) (*value, error) {
	if len(n.Attributes) != 1 {
		return nil, fmt.Errorf("needs exactly one attribute")
	}
	a := n.Attributes[0]
	switch a.Name {
	case "value":
		if a.T == nil {
			return nil, fmt.Errorf("attribute value holds no tensor")
		}
		return tensorValue(a.T)
	case "value_float":
		return &value{f: []float32{a.F}}, nil
	case "value_floats":
		return &value{shape: []int{len(a.Floats)}, f: append([]float32{}, a.Floats...)}, nil
	case "value_int":
		return &value{ints: []sym{{c: a.I}}}, nil
	case "value_ints":
		v := &value{shape: []int{len(a.Ints)}, ints: make([]sym, len(a.Ints))}
		for i, x := range a.Ints {
			v.ints[i] = sym{c: x}
		}
		return v, nil
	}
	return nil, fmt.Errorf("attribute %s is not supported", a.Name)
}

func foldCast(im *importer, n *onnxpb.Node) (*value, error) {
	v := im.consts[n.Inputs[0]]
	to := onnxpb.DataType(attrInt(n, "to", 0))
	if a := n.Attr("to"); a != nil && len(a.S) > 0 {
		// Cast-1 (opsets 1 to 5) names the type as a string.
		switch string(a.S) {
		case "FLOAT":
			to = onnxpb.Float
		case "DOUBLE":
			to = onnxpb.Double
		case "FLOAT16":
			to = onnxpb.Float16
		case "INT64":
			to = onnxpb.Int64
		case "INT32":
			to = onnxpb.Int32
		default:
			return nil, fmt.Errorf("cast to %s is not supported", a.S)
		}
	}
	switch to {
	case onnxpb.Int64, onnxpb.Int32:
		if v.isInt() {
			return v, nil
		}
		out := &value{shape: v.shape, ints: make([]sym, len(v.f))}
		for i, x := range v.f {
			out.ints[i] = sym{c: int64(x)}
		}
		return out, nil
	case onnxpb.Float, onnxpb.Double, onnxpb.Float16:
		if !v.isInt() {
			return v, nil
		}
		for _, s := range v.ints {
			if !s.isConst() {
				return nil, fmt.Errorf("cast of a batch-dependent shape to float is not supported")
			}
		}
		return &value{shape: v.shape, f: v.tensor().Data}, nil
	}
	return nil, fmt.Errorf("cast to %v is not supported", to)
}

func foldShape(im *importer, n *onnxpb.Node) (*value, error) {
	v := im.consts[n.Inputs[0]]
	out := &value{shape: []int{len(v.shape)}, ints: make([]sym, len(v.shape))}
	for i, d := range v.shape {
		out.ints[i] = sym{c: int64(d)}
	}
	return out, nil
}

func axisIndex(axis int64, rank int) (int, error) {
	if axis < 0 {
		axis += int64(rank)
	}
	if axis < 0 || axis >= int64(rank) {
		return 0, fmt.Errorf("axis out of range for rank %d", rank)
	}
	return int(axis), nil
}

// foldGather supports gathering along axis 0 of a 1-D integer tensor, the
// form shape arithmetic uses, and of float constants along axis 0.
func foldGather(im *importer, n *onnxpb.Node) (*value, error) {
	data, idx := im.consts[n.Inputs[0]], im.consts[n.Inputs[1]]
	if len(n.Inputs) != 2 || !idx.isInt() {
		return nil, fmt.Errorf("indices must be integers")
	}
	if attrInt(n, "axis", 0) != 0 || len(data.shape) != 1 {
		return nil, fmt.Errorf("only gathering from a 1-D constant along axis 0 is supported")
	}
	out := &value{shape: append([]int(nil), idx.shape...)}
	for _, s := range idx.ints {
		i, err := axisIndex(s.c, data.shape[0])
		if err != nil || !s.isConst() {
			return nil, fmt.Errorf("index %d out of range for %d elements", s.c, data.shape[0])
		}
		if data.isInt() {
			out.ints = append(out.ints, data.ints[i])
		} else {
			out.f = append(out.f, data.f[i])
		}
	}
	if !data.isInt() && out.f == nil {
		out.f = []float32{}
	}
	return out, nil
}

// axes reads Squeeze/Unsqueeze axes from the attribute (opset < 13) or
// the constant second input.
func (im *importer) axes(n *onnxpb.Node) ([]int64, error) {
	if im.opset < 13 {
		a, _ := attrInts(n, "axes")
		return a, nil
	}
	v, err := im.constInput(n, 1)
	if err != nil || v == nil {
		return nil, err
	}
	if !v.isInt() {
		return nil, fmt.Errorf("axes must be integers")
	}
	out := make([]int64, len(v.ints))
	for i, s := range v.ints {
		out[i] = s.c
	}
	return out, nil
}

func squeezeSyms(in []sym, axes []int64) ([]sym, error) {
	drop := make([]bool, len(in))
	for _, a := range axes {
		i, err := axisIndex(a, len(in))
		if err != nil {
			return nil, err
		}
		if in[i] != (sym{c: 1}) {
			return nil, fmt.Errorf("cannot squeeze dimension %d, which is not 1", i)
		}
		drop[i] = true
	}
	var out []sym
	for i, s := range in {
		if len(axes) == 0 && s == (sym{c: 1}) || drop[i] {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

func unsqueezeSyms(in []sym, axes []int64) ([]sym, error) {
	rank := len(in) + len(axes)
	ins := make([]bool, rank)
	for _, a := range axes {
		i, err := axisIndex(a, rank)
		if err != nil {
			return nil, err
		}
		if ins[i] {
			return nil, fmt.Errorf("repeated axis %d", a)
		}
		ins[i] = true
	}
	out := make([]sym, 0, rank)
	k := 0
	for i := 0; i < rank; i++ {
		if ins[i] {
			out = append(out, sym{c: 1})
		} else {
			out = append(out, in[k])
			k++
		}
	}
	return out, nil
}

func shapeSyms(s []int) []sym {
	out := make([]sym, len(s))
	for i, d := range s {
		out[i] = sym{c: int64(d)}
	}
	return out
}

func symsShape(s []sym) []int {
	out := make([]int, len(s))
	for i, d := range s {
		out[i] = int(d.c)
	}
	return out
}

func foldSqueezeLike(im *importer, n *onnxpb.Node) (*value, error) {
	v := im.consts[n.Inputs[0]]
	axes, err := im.axes(n)
	if err != nil {
		return nil, err
	}
	var s []sym
	if n.OpType == "Squeeze" {
		s, err = squeezeSyms(shapeSyms(v.shape), axes)
	} else {
		s, err = unsqueezeSyms(shapeSyms(v.shape), axes)
	}
	if err != nil {
		return nil, err
	}
	return &value{shape: symsShape(s), f: v.f, ints: v.ints}, nil
}

func foldConcat(im *importer, n *onnxpb.Node) (*value, error) {
	if len(n.Inputs) == 0 {
		return nil, fmt.Errorf("no inputs")
	}
	first := im.consts[n.Inputs[0]]
	if len(first.shape) != 1 || attrInt(n, "axis", 0) != 0 && attrInt(n, "axis", 0) != -1 {
		return nil, fmt.Errorf("only concatenation of 1-D constants is supported")
	}
	out := &value{}
	for _, name := range n.Inputs {
		v := im.consts[name]
		if len(v.shape) != 1 || v.isInt() != first.isInt() {
			return nil, fmt.Errorf("only concatenation of 1-D constants of one type is supported")
		}
		out.ints = append(out.ints, v.ints...)
		out.f = append(out.f, v.f...)
	}
	out.shape = []int{len(out.ints) + len(out.f)}
	if !first.isInt() && out.f == nil {
		out.f = []float32{}
	}
	return out, nil
}

func foldReshape(im *importer, n *onnxpb.Node) (*value, error) {
	v, sv := im.consts[n.Inputs[0]], im.consts[n.Inputs[1]]
	if !sv.isInt() {
		return nil, fmt.Errorf("shape must be integers")
	}
	target := make([]int, len(sv.ints))
	for i, s := range sv.ints {
		if !s.isConst() {
			return nil, fmt.Errorf("batch-dependent reshape of a constant is not supported")
		}
		target[i] = int(s.c)
	}
	shape, err := nn.ResolveReshape(v.shape, target)
	if err != nil {
		return nil, err
	}
	return &value{shape: shape, f: v.f, ints: v.ints}, nil
}

// foldSlice slices a 1-D constant (shape arithmetic).
func foldSlice(im *importer, n *onnxpb.Node) (*value, error) {
	v := im.consts[n.Inputs[0]]
	if len(v.shape) != 1 {
		return nil, fmt.Errorf("only slicing of 1-D constants is supported")
	}
	var starts, ends, axes, steps []int64
	if im.opset < 10 {
		starts, _ = attrInts(n, "starts")
		ends, _ = attrInts(n, "ends")
		axes, _ = attrInts(n, "axes")
	} else {
		get := func(i int) ([]int64, error) {
			c, err := im.constInput(n, i)
			if err != nil || c == nil {
				return nil, err
			}
			out := make([]int64, len(c.ints))
			for k, s := range c.ints {
				out[k] = s.c
			}
			return out, nil
		}
		var err error
		if starts, err = get(1); err != nil {
			return nil, err
		}
		if ends, err = get(2); err != nil {
			return nil, err
		}
		if axes, err = get(3); err != nil {
			return nil, err
		}
		if steps, err = get(4); err != nil {
			return nil, err
		}
	}
	if len(starts) != 1 || len(ends) != 1 || (len(axes) == 1 && axes[0] != 0 && axes[0] != -1) || len(steps) > 1 || (len(steps) == 1 && steps[0] != 1) {
		return nil, fmt.Errorf("only a unit-step slice of a 1-D constant is supported")
	}
	size := int64(v.shape[0])
	clamp := func(x int64) int64 {
		if x < 0 {
			x += size
		}
		return min(max(x, 0), size)
	}
	s, e := clamp(starts[0]), clamp(ends[0])
	if e < s {
		e = s
	}
	out := &value{shape: []int{int(e - s)}}
	if v.isInt() {
		out.ints = slices.Clone(v.ints[s:e])
	} else {
		out.f = slices.Clone(v.f[s:e])
		if out.f == nil {
			out.f = []float32{}
		}
	}
	return out, nil
}

func foldTranspose(im *importer, n *onnxpb.Node) (*value, error) {
	v := im.consts[n.Inputs[0]]
	perm, ok := attrInts(n, "perm")
	if len(v.shape) != 2 || v.isInt() || (ok && !slices.Equal(perm, []int64{1, 0})) {
		return nil, fmt.Errorf("only transposing a float matrix is supported")
	}
	t := transpose(v.tensor())
	return &value{shape: t.Shape, f: t.Data}, nil
}

func foldConstantOfShape(im *importer, n *onnxpb.Node) (*value, error) {
	sv := im.consts[n.Inputs[0]]
	if !sv.isInt() {
		return nil, fmt.Errorf("shape must be integers")
	}
	shape := make([]int, len(sv.ints))
	for i, s := range sv.ints {
		if !s.isConst() || s.c < 0 || s.c > 1<<24 {
			return nil, fmt.Errorf("shape %v is not supported", sv.ints)
		}
		shape[i] = int(s.c)
	}
	if tensor.Size(shape) > 1<<24 {
		return nil, fmt.Errorf("shape %v is too large", shape)
	}
	fill := &value{f: []float32{0}}
	if a := n.Attr("value"); a != nil && a.T != nil {
		var err error
		if fill, err = tensorValue(a.T); err != nil {
			return nil, err
		}
	}
	out := &value{shape: shape}
	size := tensor.Size(shape)
	if fill.isInt() {
		out.ints = make([]sym, size)
		for i := range out.ints {
			out.ints[i] = fill.ints[0]
		}
	} else {
		out.f = make([]float32, size)
		for i := range out.f {
			out.f[i] = fill.f[0]
		}
	}
	return out, nil
}

// foldArith applies Add, Sub, Mul or Div to constants of the same shape or
// a scalar; integer operands may depend on the batch size affinely.
func foldArith(im *importer, n *onnxpb.Node) (*value, error) {
	if len(n.Inputs) != 2 {
		return nil, fmt.Errorf("needs 2 inputs")
	}
	a, b := im.consts[n.Inputs[0]], im.consts[n.Inputs[1]]
	if a.isInt() != b.isInt() {
		return nil, fmt.Errorf("mixed integer and float operands")
	}
	size := max(tensor.Size(a.shape), tensor.Size(b.shape))
	shape := a.shape
	if tensor.Size(b.shape) > tensor.Size(a.shape) {
		shape = b.shape
	}
	at := func(i, n int) int {
		if n == 1 {
			return 0
		}
		return i
	}
	na, nb := tensor.Size(a.shape), tensor.Size(b.shape)
	if (na != size && na != 1) || (nb != size && nb != 1) {
		return nil, fmt.Errorf("only same-shape or scalar operands are supported")
	}
	out := &value{shape: append([]int(nil), shape...)}
	if !a.isInt() {
		out.f = make([]float32, size)
		for i := range out.f {
			x, y := a.f[at(i, na)], b.f[at(i, nb)]
			switch n.OpType {
			case "Add":
				out.f[i] = x + y
			case "Sub":
				out.f[i] = x - y
			case "Mul":
				out.f[i] = x * y
			default:
				out.f[i] = x / y
			}
		}
		return out, nil
	}
	out.ints = make([]sym, size)
	for i := range out.ints {
		x, y := a.ints[at(i, na)], b.ints[at(i, nb)]
		var r sym
		switch {
		case n.OpType == "Add":
			r = sym{x.n + y.n, x.c + y.c}
		case n.OpType == "Sub":
			r = sym{x.n - y.n, x.c - y.c}
		case n.OpType == "Mul" && y.isConst():
			r = sym{x.n * y.c, x.c * y.c}
		case n.OpType == "Mul" && x.isConst():
			r = sym{y.n * x.c, y.c * x.c}
		case n.OpType == "Div" && x.isConst() && y.isConst() && y.c != 0:
			r = sym{c: x.c / y.c}
		case n.OpType == "Div" && y.isConst() && y.c != 0 && x.n%y.c == 0 && x.c%y.c == 0:
			r = sym{x.n / y.c, x.c / y.c}
		default:
			return nil, fmt.Errorf("integer %s of batch-dependent values is not supported", n.OpType)
		}
		out.ints[i] = r
	}
	return out, nil
}
