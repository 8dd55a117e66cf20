package lrp

import (
	"fmt"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// Explainer computes LRP relevance for a model under a rule map.
//
// Relevance starts at the logits as one-hot(target) × logit (a Softmax at
// the end of the graph is skipped: relevance starts at its input) and is
// propagated backwards node by node:
//
//   - affine layers (Conv, Linear, average pooling) use their rule; an
//     affine layer no rule selects passes the gradient (as Zennit does);
//   - ReLU, Clip, Dropout, Identity and merged BatchNorms pass relevance
//     unchanged;
//   - Add and Sub of two computed values split relevance in proportion to
//     their inputs' contributions, R_a = a·R/stab(a ± b); adding a constant
//     keeps x·R/stab(x + c) at the input, scaling by a constant passes R;
//   - max pooling, flattening, reshaping, padding, concatenation and
//     transposition route relevance as their gradient does (max pooling:
//     winner takes all).
//   - the transformer layers Softmax, MatMul (of two activations),
//     LayerNorm and GELU use their LayerRule (see transformer.go); one no
//     rule selects takes AttnLRP's; slicing, gathering and the class token
//     route relevance as their gradient does (the class token, a
//     parameter, absorbs what reaches it).
//
// BatchNorm layers are merged into the preceding convolution first
// (MergeBatchNorm). An Explainer is safe for concurrent use.
type Explainer struct {
	Graph *nn.Graph // the canonized graph
	Rules []Rule    // per node; nil where no rule applies
	out   int       // value whose relevance starts the pass (the logits)
	// thesis is set when the rules follow the thesis code's convention.
	thesis bool
	cache  *ParamCache
	// drop says, per value, whether the lean forward pass drops it.
	drop []bool
}

// NewExplainer canonizes g and assigns the rules of m.
func NewExplainer(g *nn.Graph, m *RuleMap) (*Explainer, error) {
	return NewSharedExplainer(g, m, &ParamCache{})
}

// NewSharedExplainer is NewExplainer with a parameter cache shared with
// other explainers: explainers of the same canonized graph (MergeBatchNorm
// once, then build every explainer from its result) then compute each
// modified parameter once, as a sweep over rule parameters needs.
func NewSharedExplainer(g *nn.Graph, m *RuleMap, cache *ParamCache) (*Explainer, error) {
	cg, err := MergeBatchNorm(g)
	if err != nil {
		return nil, err
	}
	rules, err := m.Assign(cg)
	if err != nil {
		return nil, err
	}
	transformerDefaults(cg, rules)
	e := &Explainer{Graph: cg, Rules: rules, out: cg.Output, thesis: thesisMode(rules), cache: cache}
	e.drop = e.leanDrops()
	if e.thesis {
		for i, r := range rules {
			if _, ok := r.(thesisRule); r != nil && !ok {
				return nil, fmt.Errorf("lrp: layer %d %q: rule %s has no thesis-code form; with thesis rules only zero, epsilon, gamma and zbox may be used", i, cg.Nodes[i].Name, r)
			}
		}
		if err := checkThesisMix(cg, rules); err != nil {
			return nil, err
		}
	}
	e.out = cg.LogitsValue()
	// Ranks of the values, for the forms that span the batch dimension
	// (known when the input shape is declared, as those forms need).
	var shapes [][]int
	if cg.InputShape != nil {
		in := append([]int(nil), cg.InputShape...)
		for i, d := range in {
			in[i] = max(d, 1)
		}
		shapes, _ = cg.Shapes(in)
	}
	rank := func(v int) int {
		if v < len(shapes) {
			return len(shapes[v])
		}
		return -1
	}
	for _, n := range cg.Nodes[:e.out] {
		switch l := n.Layer.(type) {
		case *nn.MatMulConst:
			// Its Backward is a gradient, not a relevance rule.
			return nil, fmt.Errorf("lrp: layer %d %q: no relevance rule for MatMul with a stack of matrices", n.Index, n.Name)
		case *nn.BatchNormTraining:
			return nil, fmt.Errorf("lrp: layer %d %q: no relevance rule for BatchNormalization in training mode (batch statistics)", n.Index, n.Name)
		case *nn.MaxPoolIndices:
			return nil, fmt.Errorf("lrp: layer %d %q: no relevance flows through MaxPool's indices", n.Index, n.Name)
		case *nn.LayerNormStats:
			return nil, fmt.Errorf("lrp: layer %d %q: no relevance flows through LayerNormalization's mean or 1/σ", n.Index, n.Name)
		case *nn.LayerNorm:
			if r := rank(n.Inputs[0]); r > 0 && l.Dims >= r {
				return nil, fmt.Errorf("lrp: layer %d %q: no relevance rule for LayerNorm over the whole batch (axis 0 mixes the samples)", n.Index, n.Name)
			}
		case *nn.Gather:
			if r := rank(n.Inputs[0]); l.Axis == 0 || r > 0 && l.Axis == -r {
				return nil, fmt.Errorf("lrp: layer %d %q: no relevance rule for Gather along the batch dimension", n.Index, n.Name)
			}
		case *nn.Binary:
			if l.Const == nil && (l.Op == nn.OpMul || l.Op == nn.OpDiv) {
				return nil, fmt.Errorf("lrp: layer %d %q: no relevance rule for %s of two computed values", n.Index, n.Name, l.Op)
			}
		}
	}
	return e, nil
}

// Result holds an explanation of a batch.
type Result struct {
	// Logits are the model outputs explained (before a final Softmax).
	Logits *tensor.T
	// Targets are the explained classes, one per sample.
	Targets []int
	// Relevance is the relevance at the input, shaped like it.
	Relevance *tensor.T
	// Values holds the relevance at every value of the graph (index as
	// nn.Graph values: 0 is the input, i+1 the output of node i), if asked.
	Values []*tensor.T
}

// Options controls an explanation.
type Options struct {
	// Targets are the classes to explain per sample; nil means the
	// predicted (arg-max) class.
	Targets []int
	// KeepLayers keeps the relevance of every layer in Result.Values.
	KeepLayers bool
	// Values, if set, are the values of Graph.Forward(x) for this input,
	// computed once and shared by several explanations of the same batch.
	Values []*tensor.T
}

// Explain computes the relevance of x (N×…) for the given targets.
func (e *Explainer) Explain(x *tensor.T, opt Options) (*Result, error) {
	if err := e.Graph.CheckInput(x.Shape); err != nil {
		return nil, fmt.Errorf("lrp: %w", err)
	}
	if err := tensor.CheckFinite(x); err != nil {
		return nil, fmt.Errorf("lrp: input %w", err)
	}
	for i, r := range e.Rules {
		if zb, ok := r.(*ZBox); ok {
			n := e.Graph.Nodes[i]
			shapes, _ := e.Graph.Shapes(x.Shape)
			if err := zb.Check(shapes[n.Inputs[0]]); err != nil {
				return nil, fmt.Errorf("lrp: layer %d %q: %w", n.Index, n.Name, err)
			}
		}
	}
	vals := opt.Values
	own := vals == nil // values computed here are recycled as they die
	if own {
		vals = e.forwardLean(x)
	} else if len(vals) != e.Graph.NumValues() || vals[0] != x {
		return nil, fmt.Errorf("lrp: Options.Values do not come from this graph's forward pass of x")
	}
	logits := vals[e.out]
	targets, err := resolveTargets(logits, opt.Targets)
	if err != nil {
		return nil, err
	}
	if e.thesis {
		return &Result{Logits: logits, Targets: targets, Relevance: e.explainThesis(vals, targets, own)}, nil
	}
	rel := make([]*tensor.T, len(vals))
	rel[e.out] = oneHot(logits, targets, true)
	var shapes [][]int // of every value, computed when first needed
	for i := e.out - 1; i >= 0; i-- {
		n := e.Graph.Nodes[i]
		r := rel[n.Output()]
		if r == nil {
			continue
		}
		pass := passesRelevance(n.Layer)
		readsIn, readsOut := e.reads(n)
		in := make([]*tensor.T, len(n.Inputs))
		for k, v := range n.Inputs {
			switch {
			case pass:
				// Element-wise: in holds nil.
			case readsIn:
				in[k] = e.value(vals, v)
			case vals[v] != nil:
				in[k] = vals[v]
			default:
				in[k] = e.shapeOnly(&shapes, x, v)
			}
		}
		y := vals[n.Output()]
		if y == nil && readsOut {
			y = e.value(vals, n.Output())
		} else if y == nil && !pass && e.Rules[i] == nil {
			// A layer's own Backward (Concat) may read y's shape; rules
			// take a nil y as "not kept".
			y = e.shapeOnly(&shapes, x, n.Output())
		}
		out := n.Output()
		// done lets a rule recycle y and r as soon as it has used them.
		done := func(t *tensor.T) {
			switch {
			case t == rel[out] && !opt.KeepLayers && i > 0:
				release(rel, out, rel, vals)
			case t == vals[out] && own && out != e.out:
				release(vals, out, rel, vals)
			}
		}
		rin, err := e.propagate(n, in, y, r, opt.KeepLayers, done)
		if err != nil {
			return nil, err
		}
		for k, v := range n.Inputs {
			if rin[k] == nil {
				continue
			}
			if rel[v] == nil {
				rel[v] = rin[k]
			} else {
				addTo(rel[v], rin[k])
			}
		}
		if !opt.KeepLayers && i > 0 {
			release(rel, n.Output(), rel, vals)
		}
		if own && n.Output() != e.out {
			// No node before n reads its output: it is dead.
			release(vals, n.Output(), rel, vals)
		}
	}
	res := &Result{Logits: logits, Targets: targets, Relevance: rel[0]}
	if res.Relevance == nil {
		res.Relevance = tensor.New(x.Shape...)
	}
	if opt.KeepLayers {
		res.Values = rel
	}
	return res, nil
}

// forwardLean runs the graph like Graph.Forward but drops the values the
// relevance pass can do without (see leanDrops) once no later node of the
// forward pass reads them. With VGG16 this keeps about half the
// activations.
func (e *Explainer) forwardLean(x *tensor.T) []*tensor.T {
	return e.Graph.ForwardDropping(x, len(e.Graph.Nodes), func(v int) bool { return e.drop[v] })
}

// leanDrops returns, per value, whether forwardLean drops it: every value
// the relevance pass reads neither as a node's input nor as its output
// (reads), and every value it does read that a cheap layer (recomputable)
// computes from a value forwardLean keeps: value recomputes it when the
// relevance pass needs it. A node that reads only the shapes of its inputs
// or output (a reshape, a transpose, a slice) gets them from shapeOnly.
// With VGG16 this drops the ReLU outputs (recomputed from the kept
// convolution outputs) or, where the rule does not read them, the
// convolution outputs (the ReLU then rectifies in place); with ViT-B/16
// the query, key and value slices, the transposes around the heads and the
// GELU outputs (recomputed from the kept linear outputs).
func (e *Explainer) leanDrops() []bool {
	g := e.Graph
	needed := make([]bool, g.NumValues())
	for _, n := range g.Nodes {
		in, out := e.reads(n)
		needed[n.Output()] = needed[n.Output()] || out
		for _, v := range n.Inputs {
			needed[v] = needed[v] || in
		}
	}
	// avail: kept, or recomputable from kept values through a chain of
	// cheap layers.
	drop, avail := make([]bool, g.NumValues()), make([]bool, g.NumValues())
	avail[0] = true
	for v := 1; v < len(drop); v++ {
		n := g.Nodes[v-1]
		cheap := recomputable(n.Layer) && len(n.Inputs) == 1 && avail[n.Inputs[0]]
		if v != e.out && v != g.Output {
			drop[v] = !needed[v] || cheap
		}
		avail[v] = !drop[v] || cheap
	}
	return drop
}

// reads reports whether the relevance pass reads the values of node n's
// inputs and of its output (else at most their shapes). The thesis form
// reads every input (ReLU's gradient its input) and every output but those
// of the element-wise layers that pass relevance.
func (e *Explainer) reads(n *nn.Node) (inputs, output bool) {
	pass := passesRelevance(n.Layer)
	if e.thesis {
		return true, !pass
	}
	if pass {
		return false, false
	}
	switch r := e.Rules[n.Index].(type) {
	case *layerRule:
		v := r.readsValues(n.Layer)
		return v, v
	case nil:
	case LayerRule:
		return true, true
	default:
		return true, needsOutput(r)
	}
	switch l := n.Layer.(type) {
	case *nn.Binary:
		// Scaling by a constant passes relevance (binaryRelevance).
		v := l.Op != nn.OpMul && l.Op != nn.OpDiv
		return v, v
	case *nn.Reshape, *nn.Flatten, *nn.Transpose, *nn.Slice, *nn.Concat, *nn.Gather:
		// Their Backward reads shapes only.
		return false, false
	}
	return true, true
}

// recomputable reports whether l's output is cheap to recompute from its
// one input (element-wise or a copy), so that forwardLean need not keep it.
func recomputable(l nn.Layer) bool {
	switch l := l.(type) {
	case nn.ReLU, *nn.Clip, nn.Identity, nn.GELU, *nn.Reshape, *nn.Flatten, *nn.Transpose, *nn.Slice, *nn.Gather:
		return true
	case *nn.Binary:
		return l.Const != nil // x op constant: one element-wise pass
	}
	return false
}

// shapeOnly returns a tensor with value v's shape and no data, for nodes
// that read only shapes (reads); *shapes caches the shapes for input x.
func (e *Explainer) shapeOnly(shapes *[][]int, x *tensor.T, v int) *tensor.T {
	if *shapes == nil {
		s, err := e.Graph.Shapes(x.Shape)
		if err != nil {
			panic("lrp: " + err.Error()) // x passed CheckInput
		}
		*shapes = s
	}
	return &tensor.T{Shape: (*shapes)[v]}
}

// needsOutput reports whether rule r reads the output y of its layer
// (Rule.Relevance): the built-in rules that do not are given nil. A
// missing rule (nil) stands for the layer's own relevance pass, which may.
func needsOutput(r Rule) bool {
	switch r.(type) {
	case *ZBox, *AlphaBeta, *Flat, *WSquare, *Pass:
		return false
	}
	return true
}

// value returns vals[v], recomputing it (and, recursively, its dropped
// inputs) if forwardLean dropped it.
func (e *Explainer) value(vals []*tensor.T, v int) *tensor.T {
	if vals[v] != nil {
		return vals[v]
	}
	n := e.Graph.Nodes[v-1]
	if nn.IsAlias(n) {
		vals[v] = e.value(vals, n.Inputs[0])
		return vals[v]
	}
	in := make([]*tensor.T, len(n.Inputs))
	for k, u := range n.Inputs {
		in[k] = e.value(vals, u)
	}
	vals[v] = n.Layer.Forward(in)
	return vals[v]
}

// passesRelevance reports whether relevance passes through l unchanged,
// so that neither its input's values nor its output's are needed.
func passesRelevance(l nn.Layer) bool {
	switch l.(type) {
	case nn.ReLU, *nn.Clip, nn.Identity:
		return true
	}
	return false
}

// propagate maps the relevance r of n's output to its inputs; keep says
// that r must stay unchanged (Options.KeepLayers); a built-in rule hands y
// and r to done once it no longer needs them.
func (e *Explainer) propagate(n *nn.Node, in []*tensor.T, y, r *tensor.T, keep bool, done func(*tensor.T)) ([]*tensor.T, error) {
	if lr, ok := e.Rules[n.Index].(LayerRule); ok {
		return lr.LayerRelevance(e.Graph, n, in, y, r), nil
	}
	if rule := e.Rules[n.Index]; rule != nil {
		aff := n.Layer.(nn.Affine)
		if _, isPass := rule.(*Pass); isPass && !tensor.SameShape(in[0].Shape, r.Shape) {
			return nil, fmt.Errorf("lrp: layer %d %q: rule pass needs equal input and output shapes", n.Index, n.Name)
		}
		if cr, ok := rule.(consumer); ok {
			return []*tensor.T{cr.relevance(aff, in[0], y, r, e.cache, done)}, nil
		}
		return []*tensor.T{rule.Relevance(aff, in[0], y, r, e.cache)}, nil
	}
	switch l := n.Layer.(type) {
	case nn.ReLU, *nn.Clip, nn.Identity:
		// Element-wise: the input has r's shape (and in holds nil).
		if !keep {
			// r is read by no other node: hand it on.
			return []*tensor.T{r}, nil
		}
		return []*tensor.T{r.Clone()}, nil
	case *nn.Binary:
		return binaryRelevance(l, in, y, r), nil
	}
	return n.Layer.Backward(in, y, r), nil
}

// release empties ts[i] and recycles its memory unless another tensor of
// a or b shares it (a layer's Backward may return a view).
func release(ts []*tensor.T, i int, a, b []*tensor.T) {
	t := ts[i]
	ts[i] = nil
	if t == nil || t.Len() == 0 {
		return
	}
	for _, list := range [][]*tensor.T{a, b} {
		for _, u := range list {
			if tensor.SharesMemory(t, u) {
				return
			}
		}
	}
	tensor.Recycle(t)
}

// binaryRelevance splits relevance over the operands of Add and Sub in
// proportion to their contributions; scaling by a constant passes it.
func binaryRelevance(l *nn.Binary, in []*tensor.T, y, r *tensor.T) []*tensor.T {
	if l.Op == nn.OpMul || l.Op == nn.OpDiv { // constant scaling (checked in NewExplainer)
		return []*tensor.T{r.Clone()}
	}
	s := div(r, stab(y.Clone(), Stabilizer))
	if l.Const != nil {
		return []*tensor.T{mulBroadcast(in[0], s, 1)}
	}
	sign := float32(1)
	if l.Op == nn.OpSub {
		sign = -1
	}
	return []*tensor.T{mulBroadcast(in[0], s, 1), mulBroadcast(in[1], s, sign)}
}

// mulBroadcast returns scale·a⊙s reduced to a's shape (a may broadcast).
func mulBroadcast(a, s *tensor.T, scale float32) *tensor.T {
	if tensor.SameShape(a.Shape, s.Shape) {
		return mulAdd(nil, a, s, scale)
	}
	// a ⊙ s summed over the broadcast dimensions: the gradient of the
	// broadcast, weighted by a.
	ea := (&nn.Binary{Op: nn.OpMul}).Forward([]*tensor.T{a, s})
	g := (&nn.Binary{Op: nn.OpAdd}).Backward([]*tensor.T{a, s}, ea, ea)[0]
	for i := range g.Data {
		g.Data[i] *= scale
	}
	return g
}

func resolveTargets(logits *tensor.T, targets []int) ([]int, error) {
	n, classes := logits.Shape[0], logits.Len()/logits.Shape[0]
	if targets == nil {
		out := make([]int, n)
		for i := range out {
			row := logits.Data[i*classes : (i+1)*classes]
			for c, v := range row {
				if v > row[out[i]] {
					out[i] = c
				}
			}
		}
		return out, nil
	}
	if len(targets) == 1 && n > 1 {
		t := make([]int, n)
		for i := range t {
			t[i] = targets[0]
		}
		targets = t
	}
	if len(targets) != n {
		return nil, fmt.Errorf("lrp: %d targets for %d inputs", len(targets), n)
	}
	for _, t := range targets {
		if t < 0 || t >= classes {
			return nil, fmt.Errorf("lrp: target class %d out of range: the model has %d classes (0 to %d)", t, classes, classes-1)
		}
	}
	return targets, nil
}

// oneHot returns one-hot(targets), times the logits if scaled.
func oneHot(logits *tensor.T, targets []int, scaled bool) *tensor.T {
	r := tensor.New(logits.Shape...)
	classes := logits.Len() / logits.Shape[0]
	for i, t := range targets {
		v := float32(1)
		if scaled {
			v = logits.Data[i*classes+t]
		}
		r.Data[i*classes+t] = v
	}
	return r
}
