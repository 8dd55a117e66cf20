package onnx

import (
	"fmt"
	"math"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/onnx/internal/onnxpb"
	"github.com/xai-go/lrp/tensor"
)

// The operators of Vision Transformers as torch.onnx.export writes them
// (torchvision's VisionTransformer at opsets 13-17), and the fusions that
// turn the decomposed LayerNorm, the Erf-based GELU and MatMul + bias back
// into one layer each. This file's init runs after ops.go's and fold.go's
// (files are initialized in name order), which create the tables.

func init() {
	builders["LayerNormalization"] = buildLayerNorm
	builders["Gelu"] = buildGelu
	builders["MatMul"] = buildMatMulAny
	builders["Transpose"] = buildTranspose
	builders["Gather"] = buildGather
	builders["Slice"] = buildSlice
	builders["Expand"] = buildExpand
	folders["Equal"] = foldEqual
	folders["Where"] = foldWhere
}

func buildLayerNorm(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
	x, err := im.dynInput(n, 0)
	if err != nil {
		return nil, nil, err
	}
	shape := im.shapes[0][x]
	rank := len(shape)
	a := attrInt(n, "axis", -1)
	if a < -int64(rank) || a >= int64(rank) {
		return nil, nil, fmt.Errorf("axis %d out of range for rank %d", a, rank)
	}
	if a < 0 {
		a += int64(rank)
	}
	if a == 0 {
		// The mean and variance are taken over the whole batch.
		if err := im.coupled("LayerNormalization with axis 0"); err != nil {
			return nil, nil, err
		}
	}
	if st := attrInt(n, "stash_type", 1); st != 1 {
		return nil, nil, fmt.Errorf("stash_type %d: only 1 (float) is supported", st)
	}
	norm := shape[a:]
	var ps [2]*tensor.T
	for i := range ps {
		v, err := im.constInput(n, i+1)
		if err != nil {
			return nil, nil, err
		}
		if v == nil {
			if i == 0 {
				return nil, nil, fmt.Errorf("missing scale")
			}
			continue
		}
		if ps[i], err = floatConst(v, "parameter"); err != nil {
			return nil, nil, err
		}
		// Scale and bias have the normalized dimensions' shape (leading
		// 1s allowed); broadcasting along them is not supported.
		ok := ps[i].Dims() <= len(norm) && ps[i].Len() == tensor.Size(norm)
		for k := 1; ok && k <= ps[i].Dims(); k++ {
			ok = ps[i].Shape[ps[i].Dims()-k] == norm[len(norm)-k]
		}
		if !ok {
			return nil, nil, fmt.Errorf("parameter %d of shape %v does not fit the normalized dimensions %s of input %s (broadcasting is not supported)", i+1, v.shape, tensor.ShapeString(norm), tensor.ShapeString(shape))
		}
	}
	return &nn.LayerNorm{Gamma: ps[0], Beta: ps[1], Eps: attrFloat(n, "epsilon", 1e-5), Dims: rank - int(a)}, []int{x}, nil
}

// buildLayerNormStats builds LayerNormalization's Mean (k = 1) or
// InvStdDev (k = 2) output from the main layer, which was just added.
func buildLayerNormStats(im *importer, n *onnxpb.Node, k int, inputs []int) (nn.Layer, error) {
	if k != 1 && k != 2 {
		return nil, fmt.Errorf("output %d is not defined", k)
	}
	l := im.g.Nodes[len(im.g.Nodes)-1].Layer.(*nn.LayerNorm)
	return &nn.LayerNormStats{LayerNorm: *l, InvStdDev: k == 2}, nil
}

func buildGelu(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
	return unary(func(n *onnxpb.Node) (nn.Layer, error) {
		if a := attrString(n, "approximate", "none"); a != "none" {
			return nil, fmt.Errorf("approximate %q is not supported (only the exact GELU)", a)
		}
		return nn.GELU{}, nil
	})(im, n)
}

// buildMatMulAny maps the product of two activations to a MatMul layer and
// x·B (+ bias, after fusion) with a constant matrix B to a Linear layer.
func buildMatMulAny(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
	if len(n.Inputs) >= 2 {
		a, aDyn := im.dyn[n.Inputs[0]]
		b, bDyn := im.dyn[n.Inputs[1]]
		if aDyn && bDyn {
			return nn.MatMul{}, []int{a, b}, nil
		}
	}
	l, in, err := buildMatMul(im, n)
	if err != nil || len(n.Inputs) < 3 {
		return l, in, err
	}
	bv, err := im.constInput(n, 2)
	if err != nil {
		return nil, nil, err
	}
	b, err := floatConst(bv, "bias")
	if err != nil {
		return nil, nil, err
	}
	lin, ok := l.(*nn.Linear)
	if !ok {
		return nil, nil, fmt.Errorf("a fused bias needs a constant matrix, not a stack of matrices")
	}
	if b.Len() != lin.W.Shape[0] {
		return nil, nil, fmt.Errorf("bias of shape %s does not fit %d outputs", tensor.ShapeString(b.Shape), lin.W.Shape[0])
	}
	lin.B = b.Reshape(b.Len())
	return lin, in, nil
}

func buildTranspose(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
	x, err := im.dynInput(n, 0)
	if err != nil {
		return nil, nil, err
	}
	rank := len(im.shapes[0][x])
	perm := make([]int, rank)
	if p, ok := attrInts(n, "perm"); ok {
		if len(p) != rank {
			return nil, nil, fmt.Errorf("perm %v does not fit rank %d", p, rank)
		}
		for i, v := range p {
			perm[i] = int(v)
		}
	} else {
		for i := range perm {
			perm[i] = rank - 1 - i
		}
	}
	return &nn.Transpose{Perm: perm}, []int{x}, nil
}

// constInts returns input i as constant integers that do not depend on the
// batch size, or nil if the input is absent.
func (im *importer) constInts(n *onnxpb.Node, i int, what string) ([]int, error) {
	v, err := im.constInput(n, i)
	if err != nil || v == nil {
		return nil, err
	}
	if !v.isInt() {
		return nil, fmt.Errorf("%s must be integers", what)
	}
	out := make([]int, len(v.ints))
	for k, s := range v.ints {
		if !s.isConst() {
			return nil, fmt.Errorf("%s depend on the batch size, which is not supported", what)
		}
		out[k] = int(max(min(s.c, math.MaxInt32), math.MinInt32))
	}
	return out, nil
}

func buildGather(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
	x, err := im.dynInput(n, 0)
	if err != nil {
		return nil, nil, err
	}
	idx, err := im.constInts(n, 1, "indices")
	if err != nil {
		return nil, nil, err
	}
	if idx == nil {
		return nil, nil, fmt.Errorf("missing indices")
	}
	v := im.consts[n.Inputs[1]]
	if len(v.shape) > 1 {
		return nil, nil, fmt.Errorf("indices of shape %v: only a scalar or a 1-D list is supported", v.shape)
	}
	axis := int(attrInt(n, "axis", 0))
	if axis == 0 || axis == -len(im.shapes[0][x]) {
		// The output's samples are chosen by position in the batch.
		if err := im.coupled("Gather along dimension 0"); err != nil {
			return nil, nil, err
		}
	}
	return &nn.Gather{Axis: axis, Indices: idx, Scalar: len(v.shape) == 0}, []int{x}, nil
}

func buildSlice(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
	x, err := im.dynInput(n, 0)
	if err != nil {
		return nil, nil, err
	}
	rank := len(im.shapes[0][x])
	l := &nn.Slice{}
	if im.opset < 10 {
		for name, dst := range map[string]*[]int{"starts": &l.Starts, "ends": &l.Ends, "axes": &l.Axes} {
			v, _ := attrInts(n, name)
			for _, s := range v {
				*dst = append(*dst, int(max(min(s, math.MaxInt32), math.MinInt32)))
			}
		}
	} else {
		for i, dst := range []*[]int{&l.Starts, &l.Ends, &l.Axes, &l.Steps} {
			if *dst, err = im.constInts(n, i+1, []string{"starts", "ends", "axes", "steps"}[i]); err != nil {
				return nil, nil, err
			}
		}
	}
	if l.Axes == nil {
		for i := range l.Starts {
			l.Axes = append(l.Axes, i)
		}
	}
	if l.Steps == nil {
		for range l.Starts {
			l.Steps = append(l.Steps, 1)
		}
	}
	for _, a := range l.Axes {
		if a == 0 || a == -rank {
			return nil, nil, fmt.Errorf("slicing the batch dimension is not supported")
		}
	}
	return l, []int{x}, nil
}

// buildExpand maps Expand of a constant to a shape that may depend on the
// batch size (a ViT's class token) to a BatchConst layer reading the graph
// input for its batch size.
func buildExpand(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
	if _, dyn := im.dyn[n.Inputs[0]]; dyn {
		return nil, nil, fmt.Errorf("expanding a computed value is not supported (only constants)")
	}
	dv, err := im.constInput(n, 0)
	if err != nil {
		return nil, nil, err
	}
	c, err := floatConst(dv, "input")
	if err != nil {
		return nil, nil, err
	}
	sv, err := im.constInput(n, 1)
	if err != nil {
		return nil, nil, err
	}
	if sv == nil || !sv.isInt() {
		return nil, nil, fmt.Errorf("shape must be a constant integer tensor")
	}
	l := &nn.BatchConst{Const: c}
	for _, s := range sv.ints {
		if s.n < 0 || s.c < -1<<24 || s.c > 1<<24 || s.n > 1<<24 {
			return nil, nil, fmt.Errorf("shape %v is not supported", sv.ints)
		}
		l.Scale = append(l.Scale, int(s.n))
		l.Shape = append(l.Shape, int(s.c))
	}
	return l, []int{0}, nil
}

// foldEqual compares integer constants (shape arithmetic) element-wise; the
// result is 1 where they are equal, 0 elsewhere.
func foldEqual(im *importer, n *onnxpb.Node) (*value, error) {
	if len(n.Inputs) != 2 {
		return nil, fmt.Errorf("needs 2 inputs")
	}
	a, b := im.consts[n.Inputs[0]], im.consts[n.Inputs[1]]
	na, nb := tensor.Size(a.shape), tensor.Size(b.shape)
	if na != nb && na != 1 && nb != 1 {
		return nil, fmt.Errorf("only same-shape or scalar operands are supported")
	}
	shape := a.shape
	if nb > na {
		shape = b.shape
	}
	out := &value{shape: append([]int(nil), shape...), ints: make([]sym, max(na, nb))}
	for i := range out.ints {
		ia, ib := min(i, na-1), min(i, nb-1)
		var eq bool
		switch {
		case a.isInt() && b.isInt():
			eq = a.ints[ia] == b.ints[ib]
		case !a.isInt() && !b.isInt():
			eq = a.f[ia] == b.f[ib]
		default:
			return nil, fmt.Errorf("mixed integer and float operands")
		}
		if eq {
			out.ints[i] = sym{c: 1}
		}
	}
	return out, nil
}

// foldWhere selects between two constants element-wise.
func foldWhere(im *importer, n *onnxpb.Node) (*value, error) {
	if len(n.Inputs) != 3 {
		return nil, fmt.Errorf("needs 3 inputs")
	}
	cond, a, b := im.consts[n.Inputs[0]], im.consts[n.Inputs[1]], im.consts[n.Inputs[2]]
	size := max(tensor.Size(cond.shape), tensor.Size(a.shape), tensor.Size(b.shape))
	shape := cond.shape
	for _, v := range []*value{a, b} {
		if tensor.Size(v.shape) == size {
			shape = v.shape
		}
	}
	for _, v := range []*value{cond, a, b} {
		if k := tensor.Size(v.shape); k != size && k != 1 {
			return nil, fmt.Errorf("only same-shape or scalar operands are supported")
		}
	}
	if a.isInt() != b.isInt() {
		return nil, fmt.Errorf("mixed integer and float operands")
	}
	ct := cond.tensor()
	if cond.isInt() {
		ct = tensor.New(len(cond.ints))
		for i, s := range cond.ints {
			if !s.isConst() {
				return nil, fmt.Errorf("condition depends on the batch size")
			}
			ct.Data[i] = float32(s.c)
		}
	}
	at := func(v *value, i int) int { return min(i, tensor.Size(v.shape)-1) }
	out := &value{shape: append([]int(nil), shape...)}
	for i := 0; i < size; i++ {
		src := b
		if ct.Data[at(cond, i)] != 0 {
			src = a
		}
		if a.isInt() {
			out.ints = append(out.ints, src.ints[at(src, i)])
		} else {
			out.f = append(out.f, src.f[at(src, i)])
		}
	}
	if !a.isInt() && out.f == nil {
		out.f = []float32{}
	}
	return out, nil
}
