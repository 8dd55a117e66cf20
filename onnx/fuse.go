package onnx

import (
	"math"
	"strings"

	"github.com/xai-go/lrp/onnx/internal/onnxpb"
)

// Fusions rewrite the node list before import, so that what PyTorch wrote
// as several operators becomes the one layer relevance rules address:
//
//   - LayerNorm decomposed (opset < 17): ReduceMean, Sub, Pow 2, ReduceMean,
//     Add ε, Sqrt, Div, then Mul γ and Add β → LayerNormalization;
//   - exact GELU: Div √2, Erf, Add 1, Mul x, Mul 0.5 → Gelu;
//   - MatMul by a constant matrix followed by Add of a constant vector
//     (nn.Linear on tokens) → MatMul with a bias input (one Linear layer).
//
// A pattern is fused only if none of its intermediate values is read
// outside it; the fused node takes the place of the pattern's last node.

type fuser struct {
	im       *importer
	nodes    []*onnxpb.Node
	producer map[string]int // value name → index of the node writing it
	readers  map[string]int // value name → number of reading nodes
	dropped  []bool
}

func (im *importer) fuse(nodes []*onnxpb.Node, outputs []*onnxpb.ValueInfo) []*onnxpb.Node {
	f := &fuser{im: im, nodes: nodes, producer: map[string]int{}, readers: map[string]int{}, dropped: make([]bool, len(nodes))}
	for i, n := range nodes {
		for _, o := range n.Outputs {
			f.producer[o] = i
		}
		for _, in := range n.Inputs {
			f.readers[in]++
		}
	}
	// A graph output is read from outside: such a value is never fused away.
	for _, o := range outputs {
		f.readers[o.Name]++
	}
	for i, n := range nodes {
		switch n.OpType {
		case "ReduceMean":
			f.layerNorm(i)
		case "Erf":
			f.gelu(i)
		case "MatMul":
			f.linear(i)
		}
	}
	out := make([]*onnxpb.Node, 0, len(nodes))
	for i, n := range f.nodes {
		if !f.dropped[i] {
			out = append(out, n)
		}
	}
	return out
}

// constant returns the value of name if it is an initializer or computed
// by Constant / Identity nodes from one, else nil.
func (f *fuser) constant(name string) *value {
	if v, ok := f.im.consts[name]; ok {
		return v
	}
	i, ok := f.producer[name]
	if !ok || f.dropped[i] {
		return nil
	}
	n := f.nodes[i]
	switch n.OpType {
	case "Constant":
		v, err := foldConstant(f.im, n)
		if err != nil {
			return nil
		}
		return v
	case "Identity":
		if len(n.Inputs) == 1 {
			return f.constant(n.Inputs[0])
		}
	}
	return nil
}

// scalar returns the value of a constant scalar (any shape of one element).
func (f *fuser) scalar(name string) (float64, bool) {
	v := f.constant(name)
	if v == nil {
		return 0, false
	}
	if v.isInt() {
		if len(v.ints) != 1 || !v.ints[0].isConst() {
			return 0, false
		}
		return float64(v.ints[0].c), true
	}
	if len(v.f) != 1 {
		return 0, false
	}
	return float64(v.f[0]), true
}

// only returns the single node reading value name (and its index), or nil
// if another number of nodes reads it or it is a graph output.
func (f *fuser) only(name string, op string) (int, *onnxpb.Node) {
	if f.readers[name] != 1 {
		return -1, nil
	}
	for i, n := range f.nodes {
		if f.dropped[i] || n.OpType != op {
			continue
		}
		for _, in := range n.Inputs {
			if in == name {
				return i, n
			}
		}
	}
	return -1, nil
}

// other returns the input of a two-input node that is not name.
func other(n *onnxpb.Node, name string) (string, bool) {
	if len(n.Inputs) != 2 {
		return "", false
	}
	switch name {
	case n.Inputs[0]:
		return n.Inputs[1], true
	case n.Inputs[1]:
		return n.Inputs[0], true
	}
	return "", false
}

func near(v, want float64) bool { return math.Abs(v-want) <= 1e-6*math.Abs(want) }

// scalarIs reports whether value name is the constant scalar want.
func (f *fuser) scalarIs(name string, want float64) bool {
	v, ok := f.scalar(name)
	return ok && v == want
}

// lastAxisMean reports whether n is a ReduceMean over the last axis only,
// keeping dimensions.
func (f *fuser) lastAxisMean(n *onnxpb.Node) bool {
	if n.OpType != "ReduceMean" || attrInt(n, "keepdims", 1) != 1 {
		return false
	}
	axes, ok := attrInts(n, "axes")
	if !ok && len(n.Inputs) > 1 {
		v := f.constant(n.Inputs[1])
		if v == nil || !v.isInt() {
			return false
		}
		for _, s := range v.ints {
			axes = append(axes, s.c)
		}
	}
	return len(axes) == 1 && axes[0] == -1
}

func (f *fuser) drop(idx ...int) {
	for _, i := range idx {
		f.dropped[i] = true
	}
}

// layerNorm fuses the decomposed LayerNorm starting at the ReduceMean
// nodes[i].
func (f *fuser) layerNorm(i int) {
	mean := f.nodes[i]
	if f.dropped[i] || len(mean.Inputs) == 0 || !f.lastAxisMean(mean) {
		return
	}
	x := mean.Inputs[0]
	iSub, sub := f.only(mean.Outputs[0], "Sub")
	if sub == nil || len(sub.Inputs) != 2 || sub.Inputs[0] != x || sub.Inputs[1] != mean.Outputs[0] {
		return
	}
	d := sub.Outputs[0]
	if f.readers[d] != 2 {
		return
	}
	var iPow, iDiv = -1, -1
	for k, n := range f.nodes {
		if f.dropped[k] || len(n.Inputs) != 2 || n.Inputs[0] != d {
			continue
		}
		switch n.OpType {
		case "Pow":
			iPow = k
		case "Div":
			iDiv = k
		}
	}
	if iPow < 0 || iDiv < 0 {
		return
	}
	if !f.scalarIs(f.nodes[iPow].Inputs[1], 2) {
		return
	}
	iVar, vr := f.only(f.nodes[iPow].Outputs[0], "ReduceMean")
	if vr == nil || !f.lastAxisMean(vr) {
		return
	}
	iAdd, add := f.only(vr.Outputs[0], "Add")
	if add == nil {
		return
	}
	epsName, _ := other(add, vr.Outputs[0])
	eps, ok := f.scalar(epsName)
	if !ok {
		return
	}
	iSqrt, sqrt := f.only(add.Outputs[0], "Sqrt")
	if sqrt == nil {
		return
	}
	div := f.nodes[iDiv]
	if div.Inputs[1] != sqrt.Outputs[0] || f.readers[sqrt.Outputs[0]] != 1 {
		return
	}
	iMul, mul := f.only(div.Outputs[0], "Mul")
	if mul == nil {
		return
	}
	gamma, _ := other(mul, div.Outputs[0])
	if f.constant(gamma) == nil {
		return
	}
	last, iLast := mul, iMul
	inputs := []string{x, gamma}
	if iBias, bias := f.only(mul.Outputs[0], "Add"); bias != nil {
		if beta, _ := other(bias, mul.Outputs[0]); f.constant(beta) != nil {
			last, iLast = bias, iBias
			inputs = append(inputs, beta)
		}
	}
	fused := &onnxpb.Node{
		OpType:  "LayerNormalization",
		Name:    last.Name,
		Inputs:  inputs,
		Outputs: []string{last.Outputs[0]},
		Attributes: []*onnxpb.Attribute{
			{Name: "axis", Type: onnxpb.AttrInt, I: -1},
			{Name: "epsilon", Type: onnxpb.AttrFloat, F: float32(eps)},
		},
	}
	f.drop(i, iSub, iPow, iVar, iAdd, iSqrt, iDiv, iMul)
	f.nodes[iLast], f.dropped[iLast] = fused, false
}

// gelu fuses x/√2 → Erf → +1 → ·x → ·0.5 around the Erf nodes[i].
func (f *fuser) gelu(i int) {
	erf := f.nodes[i]
	if f.dropped[i] || len(erf.Inputs) != 1 {
		return
	}
	pd, ok := f.producer[erf.Inputs[0]]
	if !ok || f.readers[erf.Inputs[0]] != 1 {
		return
	}
	div := f.nodes[pd]
	if len(div.Inputs) != 2 {
		return
	}
	x := div.Inputs[0]
	s, ok := f.scalar(div.Inputs[1])
	switch {
	case ok && div.OpType == "Div" && near(s, math.Sqrt2):
	case ok && div.OpType == "Mul" && near(s, 1/math.Sqrt2):
	default:
		return
	}
	iAdd, add := f.only(erf.Outputs[0], "Add")
	if add == nil {
		return
	}
	if one, _ := other(add, erf.Outputs[0]); !f.scalarIs(one, 1) {
		return
	}
	iMul, mul := f.only(add.Outputs[0], "Mul")
	if mul == nil {
		return
	}
	if xx, _ := other(mul, add.Outputs[0]); xx != x {
		return
	}
	iHalf, half := f.only(mul.Outputs[0], "Mul")
	if half == nil {
		return
	}
	if h, _ := other(half, mul.Outputs[0]); !f.scalarIs(h, 0.5) {
		return
	}
	f.drop(pd, i, iAdd, iMul)
	f.nodes[iHalf] = &onnxpb.Node{OpType: "Gelu", Name: half.Name, Inputs: []string{x}, Outputs: []string{half.Outputs[0]}}
}

// linear fuses MatMul(x, W) + b with constant W and b into one node.
func (f *fuser) linear(i int) {
	mm := f.nodes[i]
	if f.dropped[i] || len(mm.Inputs) != 2 {
		return
	}
	w := f.constant(mm.Inputs[1])
	if w == nil || len(w.shape) != 2 {
		return
	}
	iAdd, add := f.only(mm.Outputs[0], "Add")
	if add == nil {
		return
	}
	bName, _ := other(add, mm.Outputs[0])
	b := f.constant(bName)
	if b == nil || b.isInt() || len(b.f) != w.shape[1] {
		return
	}
	name := mm.Name
	for _, suffix := range []string{".bias", "_bias"} {
		if base, ok := strings.CutSuffix(bName, suffix); ok && base != "" {
			name = base
			break
		}
	}
	f.drop(i)
	f.nodes[iAdd] = &onnxpb.Node{OpType: "MatMul", Name: name, Inputs: []string{mm.Inputs[0], mm.Inputs[1], bName}, Outputs: []string{add.Outputs[0]}}
}
