package onnx

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/onnx/internal/onnxpb"
	"github.com/xai-go/lrp/tensor"
)

// MaxFileSize caps the size of an ONNX file that Load reads (2 GiB, the
// protobuf limit).
const MaxFileSize = 2 << 30

// Opset range the importer accepts for the default (ai.onnx) domain.
const (
	MinOpset = 1
	MaxOpset = 21
)

// Load reads an ONNX file and returns its graph.
func Load(path string) (*nn.Graph, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("onnx: %s: file of %d bytes is larger than the 2 GiB protobuf limit", path, st.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	g, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// Decode converts the bytes of an ONNX model into a graph.
func Decode(b []byte) (*nn.Graph, error) {
	m, err := onnxpb.DecodeModel(b)
	if err != nil {
		return nil, fmt.Errorf("onnx: not an ONNX model, or a malformed one: %w", err)
	}
	return convert(m)
}

// probes are the batch sizes at which shapes are evaluated; every shape is
// affine in the batch size, so two probes determine it.
var probes = [2]int{1, 2}

// sym is an integer n·N + c, affine in the batch size N.
type sym struct{ n, c int64 }

func (s sym) isConst() bool      { return s.n == 0 }
func (s sym) at(batch int) int64 { return s.n*int64(batch) + s.c }

// value is a folded constant: float data or symbolic integers.
type value struct {
	shape []int
	f     []float32 // float constants
	ints  []sym     // integer constants (shapes, indices)
}

func (v *value) isInt() bool { return v.f == nil }

func (v *value) tensor() *tensor.T {
	if v.f != nil {
		return tensor.FromData(v.f, v.shape...)
	}
	t := tensor.New(v.shape...)
	for i, s := range v.ints {
		t.Data[i] = float32(s.c)
	}
	return t
}

type importer struct {
	opset        int64
	g            *nn.Graph
	dyn          map[string]int    // value name → nn value id
	consts       map[string]*value // folded constants
	shapes       [2][][]int        // per probe, nn value id → shape
	poisoned     map[string]bool   // outputs of nodes that failed
	errs         []error
	unknown      map[string][]string // unsupported operator → node names
	unknownOrder []string
	batch        int             // declared batch size, or −1
	fixed        bool            // the batch dimension is fixed to batch
	needFixed    bool            // a node mixing samples was met with a free batch
	read         map[string]bool // names some node or the graph output reads
	paths        []string        // candidate layer name per ONNX node
	used         map[string]int
	weights      []string
}

func convert(m *onnxpb.Model) (*nn.Graph, error) {
	if m.Graph == nil {
		return nil, errors.New("onnx: not an ONNX model: it has no graph")
	}
	opset, ok := m.OpsetVersion("")
	if !ok {
		opset = 1
	}
	if opset < MinOpset || opset > MaxOpset {
		return nil, fmt.Errorf("onnx: opset %d is not supported (supported: %d to %d)", opset, MinOpset, MaxOpset)
	}
	if len(m.Graph.Unsupported) > 0 {
		return nil, fmt.Errorf("onnx: graph uses unsupported fields: %s", strings.Join(m.Graph.Unsupported, ", "))
	}
	g, needFixed, batch, err := convertWith(m, opset, false)
	if needFixed && batch > 0 {
		// A layer mixes the samples of a batch: import again with the
		// declared batch size fixed, so that the graph refuses others.
		g, _, _, err = convertWith(m, opset, true)
	}
	return g, err
}

// convertWith imports m; with fixed the batch dimension is the declared
// one instead of free. needFixed reports that a node was refused because
// it mixes samples (see importer.coupled), batch the declared batch size.
func convertWith(m *onnxpb.Model, opset int64, fixed bool) (g *nn.Graph, needFixed bool, batch int, err error) {
	im := &importer{opset: opset, g: &nn.Graph{}, dyn: map[string]int{}, consts: map[string]*value{}, poisoned: map[string]bool{}, fixed: fixed}
	g, err = im.convert(m)
	return g, im.needFixed, im.batch, err
}

func (im *importer) convert(m *onnxpb.Model) (*nn.Graph, error) {
	im.batch = -1
	if err := im.initializers(m.Graph); err != nil {
		return nil, err
	}
	im.read = map[string]bool{}
	for _, n := range m.Graph.Nodes {
		for _, in := range n.Inputs {
			im.read[in] = true
		}
	}
	for _, o := range m.Graph.Outputs {
		im.read[o.Name] = true
	}
	if err := im.input(m.Graph); err != nil {
		return nil, err
	}
	m.Graph.Nodes = im.fuse(m.Graph.Nodes, m.Graph.Outputs)
	im.nameNodes(m.Graph)
	for i, n := range m.Graph.Nodes {
		im.node(i, n)
	}
	if err := im.err(); err != nil {
		return nil, err
	}
	return im.finish(m.Graph)
}

func (im *importer) initializers(gr *onnxpb.Graph) error {
	for _, t := range gr.Initializers {
		v, err := tensorValue(t)
		if err != nil {
			return fmt.Errorf("onnx: initializer %q: %w", t.Name, err)
		}
		im.consts[t.Name] = v
	}
	return nil
}

func tensorValue(t *onnxpb.Tensor) (*value, error) {
	shape := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		shape[i] = int(d)
	}
	switch t.DataType {
	case onnxpb.Int64, onnxpb.Int32, onnxpb.Int16, onnxpb.Int8, onnxpb.Uint8, onnxpb.Bool:
		if t.DataType == onnxpb.Int64 || t.DataType == onnxpb.Int32 {
			is, err := t.Int64s()
			if err != nil {
				return nil, err
			}
			v := &value{shape: shape, ints: make([]sym, len(is))}
			for i, x := range is {
				v.ints[i] = sym{c: x}
			}
			return v, nil
		}
	}
	f, err := t.Float32s()
	if err != nil {
		return nil, err
	}
	if f == nil {
		f = []float32{}
	}
	return &value{shape: shape, f: f}, nil
}

func (im *importer) input(gr *onnxpb.Graph) error {
	var inputs []*onnxpb.ValueInfo
	for _, in := range gr.Inputs {
		if _, isConst := im.consts[in.Name]; !isConst {
			inputs = append(inputs, in)
		}
	}
	if len(inputs) != 1 {
		names := make([]string, len(inputs))
		for i, in := range inputs {
			names[i] = in.Name
		}
		return fmt.Errorf("onnx: the graph must have exactly one input that is not an initializer, found %d %q", len(inputs), names)
	}
	in := inputs[0]
	if in.Type == nil || !in.Type.HasShape || len(in.Type.Dims) == 0 {
		return fmt.Errorf("onnx: graph input %q has no declared shape", in.Name)
	}
	if in.Type.ElemType != onnxpb.Float {
		return fmt.Errorf("onnx: graph input %q has element type %v; only FLOAT inputs are supported", in.Name, in.Type.ElemType)
	}
	shape := make([]int, len(in.Type.Dims))
	im.batch = -1
	for i, d := range in.Type.Dims {
		switch {
		case i == 0:
			shape[0] = -1 // the batch dimension is free unless fixed
			if d.HasValue && d.Value > 0 && d.Value <= 1<<20 {
				im.batch = int(d.Value)
			}
			if im.fixed {
				shape[0] = im.batch
			}
		case d.HasValue && d.Value > 0 && d.Value <= 1<<20:
			shape[i] = int(d.Value)
		default:
			return fmt.Errorf("onnx: graph input %q dimension %d is %s; only the batch dimension may be free (export with a fixed image size)", in.Name, i, d)
		}
	}
	im.g.InputName, im.g.InputShape = in.Name, shape
	im.dyn[in.Name] = 0
	for p, n := range probes {
		s := append([]int(nil), shape...)
		if !im.fixed {
			s[0] = n
		}
		im.shapes[p] = [][]int{s}
	}
	return nil
}

func (im *importer) finish(gr *onnxpb.Graph) (*nn.Graph, error) {
	if len(gr.Outputs) != 1 {
		return nil, fmt.Errorf("onnx: the graph must have exactly one output, found %d", len(gr.Outputs))
	}
	name := gr.Outputs[0].Name
	id, ok := im.dyn[name]
	if !ok {
		return nil, fmt.Errorf("onnx: graph output %q is constant or not computed by any node", name)
	}
	if id == 0 {
		id = im.g.Add("output", nn.Identity{}, 0)
	}
	im.g.OutputName = name
	im.g.Output = id
	// Drop nodes after the output: they cannot contribute to it.
	im.g.Nodes = im.g.Nodes[:id]
	if err := im.g.Validate(); err != nil {
		return nil, err
	}
	return im.g, nil
}

// extraOutputs build the layer of a node's output k ≥ 1 (MaxPool's
// Indices, LayerNormalization's Mean and InvStdDev) from the node and the
// value ids of its main layer's inputs.
var extraOutputs = map[string]func(im *importer, n *onnxpb.Node, k int, inputs []int) (nn.Layer, error){
	"MaxPool":            buildMaxPoolIndices,
	"BatchNormalization": buildBatchNormOutput,
	"LayerNormalization": buildLayerNormStats,
}

// extraOutput adds the layer computing output k of node n, which some node
// or the graph output reads, as a node of its own.
func (im *importer) extraOutput(index int, n *onnxpb.Node, k int, inputs []int) error {
	layer, err := extraOutputs[n.OpType](im, n, k, inputs)
	if err != nil {
		return err
	}
	shapes, err := im.probeShapes(layer, inputs)
	if err != nil {
		return err
	}
	id := im.g.Add(im.uniqueName(im.paths[index]+"."+n.Outputs[k]), layer, inputs...)
	for p := range probes {
		im.shapes[p] = append(im.shapes[p], shapes[p])
	}
	im.dyn[n.Outputs[k]] = id
	return nil
}

// probeShapes returns the output shape of layer on inputs at each probe
// batch size.
func (im *importer) probeShapes(layer nn.Layer, inputs []int) ([2][]int, error) {
	var shapes [2][]int
	for p := range probes {
		in := make([][]int, len(inputs))
		for i, v := range inputs {
			in[i] = im.shapes[p][v]
		}
		var err error
		if shapes[p], err = layer.OutputShape(in); err != nil {
			return shapes, err
		}
	}
	return shapes, nil
}

// coupled returns nil if the batch is fixed, and otherwise an error saying
// that what (a node's form) mixes the samples of a batch: the importer then
// imports the model again with its declared batch size fixed, or, if it
// declares none, the error stands.
func (im *importer) coupled(what string) error {
	if im.fixed {
		return nil
	}
	im.needFixed = true
	return fmt.Errorf("%s mixes the samples of a batch (or depends on a sample's position in it), so it is supported only when the graph input declares a fixed batch size, which this one does not", what)
}

// sym shape of a dynamic value, from the two probes.
func (im *importer) symShape(id int) []sym {
	a, b := im.shapes[0][id], im.shapes[1][id]
	out := make([]sym, len(a))
	for i := range a {
		n := int64(b[i]-a[i]) / int64(probes[1]-probes[0])
		out[i] = sym{n: n, c: int64(a[i]) - n*int64(probes[0])}
	}
	return out
}

// nodeErr records an error for node n and poisons its outputs.
func (im *importer) nodeErr(n *onnxpb.Node, err error) {
	im.errs = append(im.errs, fmt.Errorf("node %q (%s): %w", n.Name, n.OpType, err))
	for _, o := range n.Outputs {
		im.poisoned[o] = true
	}
}

func (im *importer) node(index int, n *onnxpb.Node) {
	for _, in := range n.Inputs {
		if im.poisoned[in] {
			for _, o := range n.Outputs {
				im.poisoned[o] = true
			}
			// Downstream of a failed node only unknown operators are
			// reported, so that one file lists all of them.
			if !im.known(n.OpType) {
				im.unsupported(n)
			}
			return
		}
	}
	if n.Domain != "" && n.Domain != "ai.onnx" {
		im.nodeErr(n, fmt.Errorf("operator domain %q is not supported", n.Domain))
		return
	}
	for _, a := range n.Attributes {
		if len(a.Unsupported) > 0 {
			im.nodeErr(n, fmt.Errorf("attribute %q uses unsupported fields %v", a.Name, a.Unsupported))
			return
		}
	}
	if len(n.Outputs) == 0 {
		im.nodeErr(n, errors.New("node has no outputs"))
		return
	}
	allConst := true
	for _, in := range n.Inputs {
		if in == "" {
			continue
		}
		_, isConst := im.consts[in]
		_, isDyn := im.dyn[in]
		if !isConst && !isDyn {
			im.nodeErr(n, fmt.Errorf("input %q is not computed before this node", in))
			return
		}
		if !isConst {
			allConst = false
		}
	}
	if n.OpType == "Shape" && len(n.Inputs) == 1 {
		if id, ok := im.dyn[n.Inputs[0]]; ok {
			s := im.symShape(id)
			im.setConst(n, &value{shape: []int{len(s)}, ints: s})
			return
		}
	}
	if allConst {
		if fold, ok := folders[n.OpType]; ok {
			v, err := fold(im, n)
			if err != nil {
				im.nodeErr(n, err)
				return
			}
			im.setConst(n, v)
			return
		}
	}
	build, ok := builders[n.OpType]
	if !ok {
		if _, foldable := folders[n.OpType]; foldable {
			im.nodeErr(n, fmt.Errorf("operator is supported only on constant inputs"))
		} else {
			im.unsupported(n)
		}
		return
	}
	layer, inputs, err := build(im, n)
	if err != nil {
		im.nodeErr(n, err)
		return
	}
	if layer == nil { // pass-through (e.g. Identity of a dynamic value)
		im.dyn[n.Outputs[0]] = inputs[0]
		return
	}
	shapes, err := im.probeShapes(layer, inputs)
	if err != nil {
		im.nodeErr(n, err)
		return
	}
	id := im.g.Add(im.uniqueName(im.paths[index]), layer, inputs...)
	for p := range probes {
		im.shapes[p] = append(im.shapes[p], shapes[p])
	}
	im.dyn[n.Outputs[0]] = id
	for k, extra := range n.Outputs[1:] {
		if extra != "" && im.read[extra] && extraOutputs[n.OpType] != nil {
			if err := im.extraOutput(index, n, k+1, inputs); err != nil {
				im.nodeErr(n, err)
				return
			}
			continue
		}
		if extra != "" {
			// Optional extra outputs (Dropout's mask, MaxPool's indices)
			// are refused only if something reads them.
			im.poisoned[extra] = true
		}
	}
}

func (im *importer) setConst(n *onnxpb.Node, v *value) {
	im.consts[n.Outputs[0]] = v
}

// constInput returns input i of n as a constant, or nil if it is absent.
func (im *importer) constInput(n *onnxpb.Node, i int) (*value, error) {
	if i >= len(n.Inputs) || n.Inputs[i] == "" {
		return nil, nil
	}
	v, ok := im.consts[n.Inputs[i]]
	if !ok {
		return nil, fmt.Errorf("input %d (%q) must be a constant (an initializer or computed from constants)", i, n.Inputs[i])
	}
	return v, nil
}

// dynInput returns the value id of input i of n, which must not be constant.
func (im *importer) dynInput(n *onnxpb.Node, i int) (int, error) {
	if i >= len(n.Inputs) || n.Inputs[i] == "" {
		return 0, fmt.Errorf("missing input %d", i)
	}
	id, ok := im.dyn[n.Inputs[i]]
	if !ok {
		return 0, fmt.Errorf("input %d (%q) must be computed from the image, not a constant", i, n.Inputs[i])
	}
	return id, nil
}

// nameNodes gives every node a unique, user-facing layer name.
func (im *importer) nameNodes(gr *onnxpb.Graph) {
	im.paths = make([]string, len(gr.Nodes))
	scoped := make([]string, len(gr.Nodes))
	for i, n := range gr.Nodes {
		scoped[i] = modulePath(n.Name)
	}
	isPrefix := func(p string) bool {
		for _, q := range scoped {
			if strings.HasPrefix(q, p+".") {
				return true
			}
		}
		return false
	}
	for i, n := range gr.Nodes {
		name := ""
		if w := weightName(n, im.consts); w != "" {
			name = w
		} else if strings.HasPrefix(n.Name, "/") {
			p := scoped[i]
			switch {
			case p == "":
				name = n.OpType
			case isPrefix(p):
				name = p + "." + n.OpType
			default:
				name = p
			}
		} else if n.Name != "" {
			name = n.Name
		} else {
			name = fmt.Sprintf("%s_%d", n.OpType, i)
		}
		im.paths[i] = name
	}
}

// uniqueName returns name, or name with a numeric suffix if a layer of
// that name exists already. Only nodes that become layers take names, so
// folded constants do not push layers to suffixed names.
func (im *importer) uniqueName(name string) string {
	if im.used == nil {
		im.used = map[string]int{}
	}
	k := im.used[name]
	im.used[name]++
	if k == 0 {
		return name
	}
	return fmt.Sprintf("%s_%d", name, k)
}

// modulePath turns torch's scoped node name "/layer1/layer1.0/conv1/Conv"
// into the module path "layer1.0.conv1". Each scope part names a module
// from its last non-numeric atom on ("features.1", then "conv", then
// "conv.0"), so a part's leading atoms may repeat the path's tail: only the
// atoms after the overlap are appended.
func modulePath(name string) string {
	if !strings.HasPrefix(name, "/") {
		return ""
	}
	parts := strings.Split(strings.TrimPrefix(name, "/"), "/")
	var path []string
	for _, p := range parts[:len(parts)-1] {
		atoms := strings.Split(p, ".")
		k := 0
		if len(atoms) > 1 {
			for k = min(len(atoms)-1, len(path)); k > 0; k-- {
				if slices.Equal(path[len(path)-k:], atoms[:k]) {
					break
				}
			}
		}
		path = append(path, atoms[k:]...)
	}
	return strings.Join(path, ".")
}

// weightName returns "features.0" for a node whose second input is the
// initializer "features.0.weight".
func weightName(n *onnxpb.Node, consts map[string]*value) string {
	if len(n.Inputs) < 2 {
		return ""
	}
	w := n.Inputs[1]
	if _, ok := consts[w]; !ok {
		return ""
	}
	if base, ok := strings.CutSuffix(w, ".weight"); ok && base != "" {
		return base
	}
	return ""
}

// Operators lists the ONNX operators the importer supports: layers, and
// those folded at load time when their inputs are constant.
func Operators() (layers, folded []string) {
	for k := range builders {
		layers = append(layers, k)
	}
	for k := range folders {
		if _, ok := builders[k]; !ok {
			folded = append(folded, k)
		}
	}
	slices.Sort(layers)
	slices.Sort(folded)
	return layers, folded
}

func (im *importer) known(op string) bool {
	_, b := builders[op]
	_, f := folders[op]
	return b || f
}

// unsupported records a node whose operator the importer does not know.
func (im *importer) unsupported(n *onnxpb.Node) {
	if im.unknown == nil {
		im.unknown = map[string][]string{}
	}
	if _, seen := im.unknown[n.OpType]; !seen {
		im.unknownOrder = append(im.unknownOrder, n.OpType)
	}
	im.unknown[n.OpType] = append(im.unknown[n.OpType], n.Name)
	for _, o := range n.Outputs {
		im.poisoned[o] = true
	}
}

// err returns every problem found, on one line: unsupported operators with
// the nodes that use them (the first three named), then other node errors.
func (im *importer) err() error {
	var parts []string
	for _, op := range im.unknownOrder {
		nodes := im.unknown[op]
		quoted := make([]string, 0, 3)
		for _, name := range nodes[:min(3, len(nodes))] {
			quoted = append(quoted, strconv.Quote(name))
		}
		more := ""
		if len(nodes) > 3 {
			more = fmt.Sprintf(" and %d more", len(nodes)-3)
		}
		parts = append(parts, fmt.Sprintf("unsupported operator %s (node %s%s)", op, strings.Join(quoted, ", "), more))
	}
	for _, e := range im.errs {
		parts = append(parts, e.Error())
	}
	if len(parts) == 0 {
		return nil
	}
	return errors.New("onnx: " + strings.Join(parts, "; "))
}
