package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/onnx/internal/onnxpb"
	"github.com/xai-go/lrp/tensor"
)

// builder turns a node with at least one image-dependent input into a
// layer and the value ids it reads. A nil layer means the node passes its
// first input through unchanged.
type builder func(im *importer, n *onnxpb.Node) (nn.Layer, []int, error)

var builders map[string]builder

func init() {
	builders = map[string]builder{
		"Conv":               buildConv,
		"Gemm":               buildGemm,
		"MatMul":             buildMatMul,
		"Relu":               unary(func(*onnxpb.Node) (nn.Layer, error) { return nn.ReLU{}, nil }),
		"Clip":               buildClip,
		"MaxPool":            buildMaxPool,
		"AveragePool":        buildAvgPool,
		"GlobalAveragePool":  unary(func(*onnxpb.Node) (nn.Layer, error) { return &nn.AdaptiveAvgPool2d{OutH: 1, OutW: 1}, nil }),
		"BatchNormalization": buildBatchNorm,
		"Flatten":            buildFlatten,
		"Reshape":            buildReshape,
		"Add":                buildBinary(nn.OpAdd),
		"Sub":                buildBinary(nn.OpSub),
		"Mul":                buildBinary(nn.OpMul),
		"Div":                buildBinary(nn.OpDiv),
		"Concat":             buildConcat,
		"Dropout":            buildPassThrough,
		"Identity":           buildPassThrough,
		"Softmax":            buildSoftmax,
		"Pad":                buildPad,
		"Squeeze":            buildSqueezeLike,
		"Unsqueeze":          buildSqueezeLike,
	}
}

func unary(f func(*onnxpb.Node) (nn.Layer, error)) builder {
	return func(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
		x, err := im.dynInput(n, 0)
		if err != nil {
			return nil, nil, err
		}
		l, err := f(n)
		return l, []int{x}, err
	}
}

func buildPassThrough(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
	x, err := im.dynInput(n, 0)
	if err != nil {
		return nil, nil, err
	}
	if n.OpType == "Dropout" {
		if err := im.dropoutInference(n); err != nil {
			return nil, nil, err
		}
		return nn.Identity{Kind: "Dropout"}, []int{x}, nil
	}
	return nil, []int{x}, nil
}

// dropoutInference returns an error unless Dropout node n runs in
// inference mode, where it is the identity: opsets below 7 say so with
// is_test = 1 (the default 0 is training), opsets 12 and later with an
// absent or constant false training_mode input.
func (im *importer) dropoutInference(n *onnxpb.Node) error {
	if im.opset < 7 {
		if attrInt(n, "is_test", 0) == 0 {
			return fmt.Errorf("Dropout in training mode (is_test 0) is not supported")
		}
		return nil
	}
	if len(n.Inputs) < 3 || n.Inputs[2] == "" {
		return nil
	}
	tm, err := im.constInput(n, 2)
	if err != nil {
		return fmt.Errorf("Dropout's training_mode %w", err)
	}
	t := tm.tensor()
	if t.Len() != 1 {
		return fmt.Errorf("Dropout's training_mode must be a scalar")
	}
	if t.Data[0] != 0 {
		return fmt.Errorf("Dropout in training mode (training_mode true) is not supported")
	}
	return nil
}

func floatConst(v *value, what string) (*tensor.T, error) {
	if v == nil {
		return nil, nil
	}
	if v.isInt() {
		return nil, fmt.Errorf("%s must be a float tensor", what)
	}
	return v.tensor(), nil
}

func buildConv(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
	x, err := im.dynInput(n, 0)
	if err != nil {
		return nil, nil, err
	}
	wv, err := im.constInput(n, 1)
	if err != nil {
		return nil, nil, err
	}
	if wv == nil {
		return nil, nil, fmt.Errorf("missing weight")
	}
	w, err := floatConst(wv, "weight")
	if err != nil {
		return nil, nil, err
	}
	if w.Dims() != 4 {
		return nil, nil, fmt.Errorf("weight of shape %s: only 2-D convolutions are supported", tensor.ShapeString(w.Shape))
	}
	bv, err := im.constInput(n, 2)
	if err != nil {
		return nil, nil, err
	}
	b, err := floatConst(bv, "bias")
	if err != nil {
		return nil, nil, err
	}
	if b != nil && (b.Dims() != 1 || b.Shape[0] != w.Shape[0]) {
		return nil, nil, fmt.Errorf("bias of shape %s does not fit weight %s", tensor.ShapeString(b.Shape), tensor.ShapeString(w.Shape))
	}
	if k, ok := attrInts(n, "kernel_shape"); ok && (len(k) != 2 || int(k[0]) != w.Shape[2] || int(k[1]) != w.Shape[3]) {
		return nil, nil, fmt.Errorf("kernel_shape %v does not fit weight %s", k, tensor.ShapeString(w.Shape))
	}
	l := &nn.Conv2d{W: w, B: b, Groups: int(attrInt(n, "group", 1))}
	if l.Groups < 1 || w.Shape[0]%l.Groups != 0 {
		return nil, nil, fmt.Errorf("group %d does not divide %d output channels", l.Groups, w.Shape[0])
	}
	if l.Stride, err = pair(n, "strides", 1); err != nil {
		return nil, nil, err
	}
	if l.Dilation, err = pair(n, "dilations", 1); err != nil {
		return nil, nil, err
	}
	if l.Pad, err = pads(n); err != nil {
		return nil, nil, err
	}
	samePads(n, &l.Pad, im.shapes[0][x], [2]int{w.Shape[2], w.Shape[3]}, l.Stride, l.Dilation)
	return l, []int{x}, nil
}

// buildGemm maps Y = α·op(A)·op(B) + β·C with constant B and C to a Linear
// layer with W = α·op(B)ᵀ and bias β·C (preceded by a transpose if transA).
func buildGemm(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
	x, err := im.dynInput(n, 0)
	if err != nil {
		return nil, nil, err
	}
	bv, err := im.constInput(n, 1)
	if err != nil {
		return nil, nil, err
	}
	if bv == nil || len(bv.shape) != 2 {
		return nil, nil, fmt.Errorf("input B must be a constant matrix")
	}
	B, err := floatConst(bv, "B")
	if err != nil {
		return nil, nil, err
	}
	alpha, beta := attrFloat(n, "alpha", 1), attrFloat(n, "beta", 1)
	// Layers do not modify their weights, so B is shared with the
	// constant unless it must be transposed or scaled.
	w := B
	if attrInt(n, "transB", 0) == 0 {
		w = transpose(B)
	}
	if alpha != 1 {
		if w == B {
			w = B.Clone()
		}
		for i := range w.Data {
			w.Data[i] *= alpha
		}
	}
	out := w.Shape[0]
	cv, err := im.constInput(n, 2)
	if err != nil {
		return nil, nil, err
	}
	var bias *tensor.T
	if cv != nil {
		c, err := floatConst(cv, "C")
		if err != nil {
			return nil, nil, err
		}
		bias = tensor.New(out)
		switch {
		case c.Len() == 1:
			for i := range bias.Data {
				bias.Data[i] = beta * c.Data[0]
			}
		case c.Len() == out && (c.Dims() == 1 || (c.Dims() == 2 && c.Shape[0] == 1)):
			for i := range bias.Data {
				bias.Data[i] = beta * c.Data[i]
			}
		default:
			return nil, nil, fmt.Errorf("bias C of shape %s: only a scalar or a row of %d is supported", tensor.ShapeString(c.Shape), out)
		}
	}
	lin := &nn.Linear{W: w, B: bias}
	if attrInt(n, "transA", 0) != 0 {
		x = im.addAux(n, "transpose", nn.Transpose2D{}, x)
	}
	lin.TokenRows = im.rowsAreTokens(x)
	return lin, []int{x}, nil
}

// addAux adds a helper layer in front of the node's own layer.
func (im *importer) addAux(n *onnxpb.Node, suffix string, l nn.Layer, inputs ...int) int {
	shapes, err := im.probeShapes(l, inputs)
	if err != nil {
		shapes = [2][]int{} // reported by the node's own layer
	}
	id := im.g.Add(im.uniqueName(n.Name+"."+suffix), l, inputs...)
	for p := range probes {
		im.shapes[p] = append(im.shapes[p], shapes[p])
	}
	return id
}

func transpose(m *tensor.T) *tensor.T {
	r, c := m.Shape[0], m.Shape[1]
	t := tensor.New(c, r)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			t.Data[j*r+i] = m.Data[i*c+j]
		}
	}
	return t
}

// buildMatMul maps x·B with a constant matrix B to a Linear layer.
func buildMatMul(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
	x, err := im.dynInput(n, 0)
	if err != nil {
		return nil, nil, err
	}
	bv, err := im.constInput(n, 1)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (MatMul of two computed values is not supported)", err)
	}
	B, err := floatConst(bv, "B")
	if err != nil {
		return nil, nil, err
	}
	xs := im.shapes[0][x]
	switch {
	case len(bv.shape) == 2:
		return &nn.Linear{W: transpose(B), TokenRows: len(xs) == 2 && im.rowsAreTokens(x)}, []int{x}, nil
	case len(bv.shape) < 2:
		return nil, nil, fmt.Errorf("constant operand of shape %v: only a matrix or a stack of matrices is supported", bv.shape)
	case len(bv.shape) > len(xs):
		return nil, nil, fmt.Errorf("constant operand of shape %v has a higher rank than the input %v, which would broadcast the input", bv.shape, xs)
	case len(bv.shape) == len(xs) && bv.shape[0] != 1:
		// Sample n would be multiplied by matrix n of B.
		if err := im.coupled(fmt.Sprintf("MatMul with a constant of shape %v, whose first dimension is not 1,", bv.shape)); err != nil {
			return nil, nil, err
		}
	}
	return &nn.MatMulConst{B: B}, []int{x}, nil
}

func buildClip(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
	x, err := im.dynInput(n, 0)
	if err != nil {
		return nil, nil, err
	}
	l := &nn.Clip{Min: float32(math.Inf(-1)), Max: float32(math.Inf(1))}
	if im.opset < 11 {
		l.Min = attrFloat(n, "min", l.Min)
		l.Max = attrFloat(n, "max", l.Max)
		return l, []int{x}, nil
	}
	for i, dst := range []*float32{&l.Min, &l.Max} {
		v, err := im.constInput(n, i+1)
		if err != nil {
			return nil, nil, err
		}
		if v == nil {
			continue
		}
		t := v.tensor()
		if t.Len() != 1 {
			return nil, nil, fmt.Errorf("bound %d must be a scalar, got shape %v", i+1, v.shape)
		}
		*dst = t.Data[0]
	}
	return l, []int{x}, nil
}

func poolGeom(n *onnxpb.Node, dilations bool) (nn.Pool2d, error) {
	var p nn.Pool2d
	var err error
	k, ok := attrInts(n, "kernel_shape")
	if !ok || len(k) != 2 {
		return p, fmt.Errorf("kernel_shape %v: only 2-D pooling is supported", k)
	}
	if p.Kernel, err = pair(n, "kernel_shape", 1); err != nil {
		return p, err
	}
	if p.Stride, err = pair(n, "strides", 1); err != nil {
		return p, err
	}
	if p.Pad, err = pads(n); err != nil {
		return p, err
	}
	p.Dilation = [2]int{1, 1}
	if dilations {
		if p.Dilation, err = pair(n, "dilations", 1); err != nil {
			return p, err
		}
	} else if _, ok := attrInts(n, "dilations"); ok {
		return p, fmt.Errorf("dilations are not supported for average pooling")
	}
	p.CeilMode = attrInt(n, "ceil_mode", 0) != 0
	return p, nil
}

// buildMaxPoolIndices builds MaxPool's Indices output (k = 1) for the
// main layer's inputs: the same windows, each maximum's index in the
// flattened input.
func buildMaxPoolIndices(im *importer, n *onnxpb.Node, k int, inputs []int) (nn.Layer, error) {
	if k != 1 {
		return nil, fmt.Errorf("output %d is not defined", k)
	}
	// The index counts the samples before this one in the batch.
	if err := im.coupled("MaxPool's Indices output"); err != nil {
		return nil, err
	}
	l := im.g.Nodes[len(im.g.Nodes)-1].Layer.(*nn.MaxPool2d)
	return &nn.MaxPoolIndices{MaxPool2d: *l, ColumnMajor: attrInt(n, "storage_order", 0) == 1}, nil
}

// buildMaxPool builds MaxPool's values; storage_order (0 or 1) only
// affects the Indices output.
func buildMaxPool(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
	if so := attrInt(n, "storage_order", 0); so != 0 && so != 1 {
		return nil, nil, fmt.Errorf("storage_order %d is not defined", so)
	}
	x, err := im.dynInput(n, 0)
	if err != nil {
		return nil, nil, err
	}
	p, err := poolGeom(n, true)
	if err != nil {
		return nil, nil, err
	}
	samePads(n, &p.Pad, im.shapes[0][x], p.Kernel, p.Stride, p.Dilation)
	return &nn.MaxPool2d{Pool2d: p}, []int{x}, nil
}

func buildAvgPool(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
	x, err := im.dynInput(n, 0)
	if err != nil {
		return nil, nil, err
	}
	p, err := poolGeom(n, false)
	if err != nil {
		return nil, nil, err
	}
	samePads(n, &p.Pad, im.shapes[0][x], p.Kernel, p.Stride, p.Dilation)
	return &nn.AvgPool2d{Pool2d: p, CountIncludePad: attrInt(n, "count_include_pad", 0) != 0}, []int{x}, nil
}

func buildBatchNorm(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
	x, err := im.dynInput(n, 0)
	if err != nil {
		return nil, nil, err
	}
	training := attrInt(n, "training_mode", 0) != 0
	if im.opset < 7 && attrInt(n, "is_test", 0) == 0 {
		return nil, nil, fmt.Errorf("is_test 0 (training mode) is not supported")
	}
	if im.opset < 9 && attrInt(n, "spatial", 1) == 0 {
		return nil, nil, fmt.Errorf("spatial 0 (per-element statistics) is not supported")
	}
	if len(n.Outputs) > 1 && !training {
		for _, o := range n.Outputs[1:] {
			if o != "" {
				return nil, nil, fmt.Errorf("training outputs (running mean/var) are not supported")
			}
		}
	}
	var ps [4]*tensor.T
	for i := range ps {
		v, err := im.constInput(n, i+1)
		if err != nil {
			return nil, nil, err
		}
		if v == nil {
			return nil, nil, fmt.Errorf("missing input %d", i+1)
		}
		if ps[i], err = floatConst(v, "parameter"); err != nil {
			return nil, nil, err
		}
		if ps[i].Dims() != 1 || ps[i].Len() != ps[0].Len() {
			return nil, nil, fmt.Errorf("parameter %d has shape %v, want (%d)", i+1, v.shape, ps[0].Len())
		}
	}
	if training {
		// Batch statistics: a sample's output depends on its batch.
		if err := im.coupled("BatchNormalization with training_mode 1"); err != nil {
			return nil, nil, err
		}
		return &nn.BatchNormTraining{Scale: ps[0].Data, Bias: ps[1].Data, Mean: ps[2].Data, Var: ps[3].Data,
			Eps: attrFloat(n, "epsilon", 1e-5), Momentum: attrFloat(n, "momentum", 0.9)}, []int{x}, nil
	}
	return nn.NewBatchNorm2d(ps[0], ps[1], ps[2], ps[3], attrFloat(n, "epsilon", 1e-5)), []int{x}, nil
}

// buildBatchNormOutput builds training-mode BatchNormalization's running
// mean (k = 1) or variance (k = 2) output.
func buildBatchNormOutput(im *importer, n *onnxpb.Node, k int, inputs []int) (nn.Layer, error) {
	l, ok := im.g.Nodes[len(im.g.Nodes)-1].Layer.(*nn.BatchNormTraining)
	if !ok || k > 2 {
		return nil, fmt.Errorf("output %d is defined only in training mode (opset 14 and later) for outputs 1 and 2", k)
	}
	c := *l
	c.Output = k
	return &c, nil
}

// buildFlatten accepts only a Flatten that keeps the batch dimension as
// the first dimension (axis 1): any other axis mixes samples into one row
// or splits a sample over rows, and the graph's first dimension would no
// longer be the batch.
func buildFlatten(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
	x, err := im.dynInput(n, 0)
	if err != nil {
		return nil, nil, err
	}
	axis := attrInt(n, "axis", 1)
	rank := int64(len(im.shapes[0][x]))
	a := axis
	if a < 0 {
		a += rank
	}
	if a < 0 || a > rank {
		return nil, nil, fmt.Errorf("Flatten axis %d is out of range for rank %d", axis, rank)
	}
	if a != 1 {
		if err := im.coupled(fmt.Sprintf("Flatten with axis %d", axis)); err != nil {
			return nil, nil, err
		}
	}
	return &nn.Flatten{Axis: int(a)}, []int{x}, nil
}

// reshapeTarget converts a symbolic target shape into Reshape's form with
// 0 meaning "copy the input's dimension" for batch-dependent entries.
func (im *importer) reshapeTarget(x int, target []sym) ([]int, error) {
	in := im.symShape(x)
	out := make([]int, len(target))
	// One batch-dependent dimension that is not copied from the input
	// (N·heads, N·tokens in attention) is inferred from the size, if no
	// other dimension is.
	inferred := slices.ContainsFunc(target, func(t sym) bool { return t == sym{c: -1} })
	for i, t := range target {
		switch {
		case !t.isConst():
			if i < len(in) && in[i] == t {
				out[i] = 0
				continue
			}
			if !inferred {
				inferred = true
				out[i] = -1
				continue
			}
			return nil, fmt.Errorf("target dimension %d depends on the batch size in a way that is not supported", i)
		case i == 0 && len(in) > 0 && in[0] == (sym{n: 1}) && (t.c == int64(im.batch) || im.batch < 0 && t.c == 1):
			// A batch size baked in at export (the declared one, or 1 in a
			// graph whose batch is symbolic): keep the batch free.
			out[i] = 0
		case t.c < -1 || t.c > math.MaxInt32:
			return nil, fmt.Errorf("target dimension %d = %d is invalid", i, t.c)
		default:
			out[i] = int(t.c)
		}
	}
	return out, nil
}

func buildReshape(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
	x, err := im.dynInput(n, 0)
	if err != nil {
		return nil, nil, err
	}
	var sv *value
	if im.opset < 5 {
		// Reshape-1: the target shape is the attribute "shape".
		a, ok := attrInts(n, "shape")
		if !ok {
			return nil, nil, fmt.Errorf("missing shape attribute")
		}
		sv = &value{shape: []int{len(a)}, ints: make([]sym, len(a))}
		for i, d := range a {
			sv.ints[i] = sym{c: d}
		}
	} else if sv, err = im.constInput(n, 1); err != nil {
		return nil, nil, err
	}
	if sv == nil {
		return nil, nil, fmt.Errorf("missing shape input")
	}
	if !sv.isInt() {
		return nil, nil, fmt.Errorf("shape input must be an integer tensor")
	}
	if attrInt(n, "allowzero", 0) != 0 {
		for _, s := range sv.ints {
			if s == (sym{}) {
				return nil, nil, fmt.Errorf("allowzero with a zero in the shape is not supported")
			}
		}
	}
	target, err := im.reshapeTarget(x, sv.ints)
	if err != nil {
		return nil, nil, err
	}
	return &nn.Reshape{Shape: target}, []int{x}, nil
}

// buildSqueezeLike maps Squeeze and Unsqueeze of an image-dependent value
// to a Reshape with the batch dimension kept free.
func buildSqueezeLike(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
	x, err := im.dynInput(n, 0)
	if err != nil {
		return nil, nil, err
	}
	axes, err := im.axes(n)
	if err != nil {
		return nil, nil, err
	}
	in := im.symShape(x)
	rank := len(in)
	if n.OpType == "Unsqueeze" {
		rank += len(axes)
	}
	for _, a := range axes {
		if a == 0 || a == int64(-rank) {
			// The batch dimension would no longer come first.
			if err := im.coupled(fmt.Sprintf("%s of dimension 0", n.OpType)); err != nil {
				return nil, nil, err
			}
		}
	}
	var out []sym
	if n.OpType == "Squeeze" {
		out, err = squeezeSyms(in, axes)
	} else {
		out, err = unsqueezeSyms(in, axes)
	}
	if err != nil {
		return nil, nil, err
	}
	target, err := im.reshapeTarget(x, out)
	if err != nil {
		return nil, nil, err
	}
	return &nn.Reshape{Shape: target}, []int{x}, nil
}

func buildBinary(op nn.BinaryOp) builder {
	return func(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
		if len(n.Inputs) != 2 {
			return nil, nil, fmt.Errorf("needs 2 inputs, has %d", len(n.Inputs))
		}
		a, aDyn := im.dyn[n.Inputs[0]]
		b, bDyn := im.dyn[n.Inputs[1]]
		legacy := im.opset < 7 && attrInt(n, "broadcast", 0) != 0
		switch {
		case legacy && !aDyn:
			return nil, nil, fmt.Errorf("legacy broadcast (opset %d) of a constant first operand is not supported", im.opset)
		case legacy && bDyn:
			return nil, nil, fmt.Errorf("legacy broadcast (opset %d) of two computed values is not supported", im.opset)
		case aDyn && bDyn:
			if im.opset < 7 && !slices.Equal(im.shapes[0][a], im.shapes[0][b]) {
				return nil, nil, fmt.Errorf("operands of shapes %v and %v: opset %d has no implicit broadcasting", im.shapes[0][a], im.shapes[0][b], im.opset)
			}
			return &nn.Binary{Op: op}, []int{a, b}, nil
		case aDyn:
			c, err := floatConst(im.consts[n.Inputs[1]], "constant operand")
			if err == nil && legacy {
				c, err = legacyBroadcast(c, len(im.shapes[0][a]), n)
			} else if err == nil && im.opset < 7 && !slices.Equal(c.Shape, im.shapes[0][a][1:]) && !slices.Equal(c.Shape, im.shapes[0][a]) {
				err = fmt.Errorf("constant operand of shape %v: opset %d has no implicit broadcasting", c.Shape, im.opset)
			}
			return &nn.Binary{Op: op, Const: c}, []int{a}, err
		default:
			c, err := floatConst(im.consts[n.Inputs[0]], "constant operand")
			return &nn.Binary{Op: op, Const: c, ConstFirst: true}, []int{b}, err
		}
	}
}

// legacyBroadcast reshapes the constant second operand c of an opset < 7
// binary operator with broadcast = 1 so that numpy broadcasting gives the
// old semantics: c's dimensions match those of the rank-r first operand
// starting at attribute axis (default: aligned to the end).
func legacyBroadcast(c *tensor.T, r int, n *onnxpb.Node) (*tensor.T, error) {
	k := c.Dims()
	if c.Len() == 1 {
		return c, nil
	}
	axis := int64(r - k)
	if a := n.Attr("axis"); a != nil {
		axis = a.I
		if axis < 0 {
			axis += int64(r)
		}
	}
	if axis < 0 || axis+int64(k) > int64(r) {
		return nil, fmt.Errorf("broadcast axis %d does not fit an operand of shape %v into rank %d", axis, c.Shape, r)
	}
	shape := append(append([]int(nil), c.Shape...), make([]int, r-int(axis)-k)...)
	for i := k; i < len(shape); i++ {
		shape[i] = 1
	}
	return c.Clone().Reshape(shape...), nil
}

func buildConcat(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
	ids := make([]int, len(n.Inputs))
	for i := range n.Inputs {
		id, err := im.dynInput(n, i)
		if err != nil {
			return nil, nil, err
		}
		ids[i] = id
	}
	return &nn.Concat{Axis: int(attrInt(n, "axis", 1))}, ids, nil
}

func buildSoftmax(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
	return unary(func(n *onnxpb.Node) (nn.Layer, error) {
		if im.opset < 13 {
			return &nn.Softmax{Axis: int(attrInt(n, "axis", 1)), Legacy: true}, nil
		}
		return &nn.Softmax{Axis: int(attrInt(n, "axis", -1))}, nil
	})(im, n)
}

func buildPad(im *importer, n *onnxpb.Node) (nn.Layer, []int, error) {
	x, err := im.dynInput(n, 0)
	if err != nil {
		return nil, nil, err
	}
	var mode nn.PadMode
	switch m := attrString(n, "mode", "constant"); m {
	case "constant":
	case "reflect":
		mode = nn.PadReflect
	case "edge":
		mode = nn.PadEdge
	default:
		return nil, nil, fmt.Errorf("mode %q is not supported (constant, reflect and edge are)", m)
	}
	var raw []int64
	value := float32(0)
	if im.opset < 11 {
		if im.opset < 2 {
			raw, _ = attrInts(n, "paddings")
		} else {
			raw, _ = attrInts(n, "pads")
		}
		value = attrFloat(n, "value", 0)
	} else {
		pv, err := im.constInput(n, 1)
		if err != nil {
			return nil, nil, err
		}
		if pv == nil || !pv.isInt() {
			return nil, nil, fmt.Errorf("pads must be a constant integer tensor")
		}
		for _, s := range pv.ints {
			raw = append(raw, s.c)
		}
		cv, err := im.constInput(n, 2)
		if err != nil {
			return nil, nil, err
		}
		if cv != nil {
			t := cv.tensor()
			if t.Len() != 1 {
				return nil, nil, fmt.Errorf("constant_value must be a scalar")
			}
			value = t.Data[0]
		}
		if len(n.Inputs) > 3 && n.Inputs[3] != "" {
			return nil, nil, fmt.Errorf("the axes input is not supported")
		}
	}
	if len(raw) != 8 || raw[0] != 0 || raw[1] != 0 || raw[4] != 0 || raw[5] != 0 {
		return nil, nil, fmt.Errorf("pads %v: only padding of the last two dimensions of a 4-D tensor is supported", raw)
	}
	p := [4]int{int(raw[2]), int(raw[3]), int(raw[6]), int(raw[7])}
	for _, v := range p {
		if v < 0 || v > 1<<16 {
			return nil, nil, fmt.Errorf("pads %v out of range", raw)
		}
	}
	return &nn.Pad{Pads: p, Value: value, Mode: mode}, []int{x}, nil
}

// rowsAreTokens reports whether the rows of the 2-D value x are not the
// samples of the batch: its first dimension grows with the batch size but
// is not the batch size (197·N tokens of a ViT's attention projection,
// flattened by a Reshape). A model whose batch size is fixed has the same
// rows at both probes and keeps the per-row product.
func (im *importer) rowsAreTokens(x int) bool {
	a, b := im.shapes[0][x], im.shapes[1][x]
	return len(a) == 2 && len(b) == 2 && a[0] != b[0] && (a[0] != probes[0] || b[0] != probes[1])
}
