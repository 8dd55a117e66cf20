package lrp

import (
	"fmt"
	"slices"
	"strings"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// Rules for the layers of transformers that are not affine: Softmax, the
// product of two activations (MatMul), LayerNorm and GELU. They follow
// AttnLRP (Achtibat et al., ICML 2024, and its implementation LXT) and
// CP-LRP (Ali et al., ICML 2022):
//
//   - softmax (AttnLRP, Prop. 3.1): R_in = x ⊙ (R − s ⊙ Σ_j R_j) over the
//     softmax axis, s the softmax output;
//   - uniform (AttnLRP): the ε rule for a product of two activations, each
//     factor taking half: with S = R / stab(A·B),
//     R_A = ½ A ⊙ (S·Bᵀ), R_B = ½ B ⊙ (Aᵀ·S);
//   - identity on GELU: R_in = R; on LayerNorm: the ε rule with 1/σ held
//     constant, R_in = x ⊙ Jᵀ (R / stab(y)) with J the Jacobian of
//     x ↦ γ ⊙ (x − mean(x))/σ (the identity rule on the normalization, the
//     ε rule on the centring and the scale);
//   - block on Softmax (CP-LRP): no relevance flows into the attention
//     scores;
//   - values on MatMul (CP-LRP): the attention weights (the operand computed
//     by a Softmax, through reshapes and transposes) are held constant and
//     all relevance flows into the other operand, R_V = V ⊙ (Aᵀ·S).
//
// A transformer layer no rule-map entry selects takes AttnLRP's rule
// (softmax, uniform, identity), as LXT does.

// LayerRule is a rule for a layer that is not affine. It is a Rule so that
// rule maps hold it like any other; its Relevance is not used.
type LayerRule interface {
	Rule
	// Accepts reports whether the rule applies to layers like l.
	Accepts(l nn.Layer) bool
	// LayerRelevance maps the relevance r of node n's output y to its
	// inputs in (nil entries receive none); g is the graph n belongs to.
	LayerRelevance(g *nn.Graph, n *nn.Node, in []*tensor.T, y, r *tensor.T) []*tensor.T
}

type layerRule struct {
	spec
	accepts []string // layer types
	fn      func(g *nn.Graph, n *nn.Node, in []*tensor.T, y, r *tensor.T) []*tensor.T
	blind   []string // layer types on which fn reads neither in nor y (shapes only)
}

// readsValues reports whether the rule reads the values of its layer's
// inputs and output on layers like l (else only their shapes).
func (l *layerRule) readsValues(layer nn.Layer) bool {
	return !slices.Contains(l.blind, layer.Type())
}

// Relevance is not used: a LayerRule is applied by LayerRelevance. It
// returns r.
func (l *layerRule) Relevance(_ nn.Affine, _, _, r *tensor.T, _ *ParamCache) *tensor.T { return r }

// Accepts implements LayerRule.
func (l *layerRule) Accepts(layer nn.Layer) bool { return slices.Contains(l.accepts, layer.Type()) }

// LayerRelevance implements LayerRule.
func (l *layerRule) LayerRelevance(g *nn.Graph, n *nn.Node, in []*tensor.T, y, r *tensor.T) []*tensor.T {
	return l.fn(g, n, in, y, r)
}

// SoftmaxRule returns AttnLRP's softmax rule.
func SoftmaxRule() LayerRule {
	return &layerRule{spec("softmax"), []string{"Softmax"}, softmaxRelevance, nil}
}

// UniformRule returns AttnLRP's uniform ε rule for MatMul.
func UniformRule() LayerRule {
	return &layerRule{spec("uniform"), []string{"MatMul"}, uniformRelevance, nil}
}

// IdentityRule returns the identity rule for GELU and LayerNorm.
func IdentityRule() LayerRule {
	return &layerRule{spec("identity"), []string{"GELU", "LayerNorm"}, identityRelevance, []string{"GELU"}}
}

// BlockRule returns CP-LRP's rule for Softmax: no relevance passes.
func BlockRule() LayerRule {
	return &layerRule{spec("block"), []string{"Softmax"}, func(_ *nn.Graph, n *nn.Node, _ []*tensor.T, _, _ *tensor.T) []*tensor.T {
		return make([]*tensor.T, len(n.Inputs))
	}, []string{"Softmax"}}
}

// ValuesRule returns CP-LRP's rule for MatMul: the attention weights are
// constant and the other operand takes all relevance.
func ValuesRule() LayerRule {
	return &layerRule{spec("values"), []string{"MatMul"}, valuesRelevance, nil}
}

func init() {
	for name, mk := range map[string]struct {
		doc string
		f   func() LayerRule
	}{
		"softmax":  {"AttnLRP's softmax rule x ⊙ (R − s ⊙ ΣR) (Softmax)", SoftmaxRule},
		"uniform":  {"AttnLRP's uniform ε rule, half the relevance to each factor (MatMul)", UniformRule},
		"identity": {"identity rule: relevance passes GELU, LayerNorm with 1/σ constant (GELU, LayerNorm)", IdentityRule},
		"block":    {"CP-LRP: no relevance through the attention weights (Softmax)", BlockRule},
		"values":   {"CP-LRP: all relevance to the operand that is not the attention weights (MatMul)", ValuesRule},
	} {
		f := mk.f
		ruleMakers[name] = ruleMaker{0, nil, mk.doc, func(RuleSpec, BoundLoader) (Rule, error) { return f(), nil }}
	}
	layerTypes["softmax"] = []string{"Softmax"}
	layerTypes["matmul"] = []string{"MatMul"}
	layerTypes["layernorm"] = []string{"LayerNorm"}
	layerTypes["gelu"] = []string{"GELU"}

	RegisterComposite(Composite{Name: "attnlrp", Takes: []string{"epsilon", "gamma"},
		Doc:   "AttnLRP (Achtibat et al. 2024, LXT's rules): ε (1e-6) on convolutions and linear layers, or γ with --gamma; softmax rule, uniform rule on MatMul, identity on LayerNorm and GELU",
		Build: func(g *nn.Graph, p Params) (*RuleMap, error) { return transformerMap("attnlrp", p, false, false) }})
	RegisterComposite(Composite{Name: "cp-lrp", Takes: []string{"epsilon", "gamma"},
		Doc:   "CP-LRP as LXT's torchvision-ViT example: γ (0.25) on convolutions and linear layers (or ε with --epsilon), LRP-0 on the attention projections in_proj/out_proj (which Zennit does not hook there), no relevance through the attention weights, identity on LayerNorm and GELU",
		Build: func(g *nn.Graph, p Params) (*RuleMap, error) { return transformerMap("cp-lrp", p, true, true) }})
}

// transformerMap builds the rule map of the attnlrp and cp-lrp composites:
// γ on convolutions and linear layers if gamma is given (or by default,
// gammaDefault), ε otherwise.
func transformerMap(name string, p Params, cp, gammaDefault bool) (*RuleMap, error) {
	if p.Epsilon != nil && p.Gamma != nil {
		return nil, fmt.Errorf("composite %s takes either ε (epsilon) or γ (gamma) for its linear layers, not both", name)
	}
	rule := "epsilon(" + fmtFloat(float32(orDefault(p.Epsilon, 1e-6))) + ")"
	if p.Gamma != nil || gammaDefault && p.Epsilon == nil {
		rule = "gamma(" + fmtFloat(float32(orDefault(p.Gamma, 0.25))) + ")"
	}
	attn := "softmax:softmax;matmul:uniform"
	var parts []string
	if cp {
		attn = "softmax:block;matmul:values"
		// torchvision's MultiheadAttention calls F.linear with these
		// weights; Zennit hooks modules, so LXT's example leaves them
		// to the gradient, which is LRP-0.
		if p.Epsilon == nil {
			parts = append(parts, "*.in_proj:zero", "*.out_proj:zero")
		}
	}
	parts = append(parts, "conv:"+rule, "linear:"+rule, attn, "layernorm:identity", "gelu:identity")
	return specMap(strings.Join(parts, ";"), p, false)
}

// DefaultCompositeFor returns the composite used on g when none is given:
// attnlrp for a transformer (a graph with a Softmax or a MatMul of two
// activations before its output), DefaultComposite otherwise.
func DefaultCompositeFor(g *nn.Graph) string {
	for _, n := range g.Nodes[:max(0, g.Output-1)] {
		switch n.Layer.(type) {
		case *nn.Softmax, nn.MatMul:
			return "attnlrp"
		}
	}
	return DefaultComposite
}

// transformerDefaults gives every transformer layer without a rule
// AttnLRP's rule for it.
func transformerDefaults(g *nn.Graph, rules []Rule) {
	defaults := []LayerRule{SoftmaxRule(), UniformRule(), IdentityRule()} // stateless; their layer types are disjoint
	for _, n := range g.Nodes {
		if rules[n.Index] != nil {
			continue
		}
		for _, r := range defaults {
			if r.Accepts(n.Layer) {
				rules[n.Index] = r
				break
			}
		}
	}
}

// appliesTo reports whether rule r may be given to layer l: affine rules
// to affine layers, layer rules to the layers they accept.
func appliesTo(r Rule, l nn.Layer) bool {
	_, affine := l.(nn.Affine)
	if lr, ok := r.(LayerRule); ok {
		return !affine && lr.Accepts(l)
	}
	return affine
}

// fitsType returns an error for an entry whose type selector names layers
// its rule cannot apply to ("softmax:epsilon(0.1)", "linear:uniform").
func fitsType(e Entry) error {
	if e.Selector.Kind != "type" || e.Selector.Pattern == "*" {
		return nil
	}
	lr, isLayerRule := e.Rule.(LayerRule)
	for _, t := range layerTypes[e.Selector.Pattern] {
		switch t {
		case "Conv", "Linear", "AvgPool", "GlobalAvgPool", "AdaptiveAvgPool":
			if !isLayerRule {
				return nil
			}
		default:
			if isLayerRule && lr.Accepts(typeOnly(t)) {
				return nil
			}
			if !isLayerRule && !slices.Contains([]string{"Softmax", "MatMul", "LayerNorm", "GELU"}, t) {
				return nil // other layers ignore rules, as before
			}
		}
	}
	return fmt.Errorf("rule map entry %s:%s: rule %s does not apply to %s layers", e.Selector, e.Rule, e.Rule, e.Selector.Pattern)
}

// typeOnly is a layer that only has a type, for Accepts.
type typeOnly string

func (t typeOnly) Type() string                                         { return string(t) }
func (typeOnly) OutputShape([][]int) ([]int, error)                     { return nil, nil }
func (typeOnly) Forward([]*tensor.T) *tensor.T                          { return nil }
func (typeOnly) Backward([]*tensor.T, *tensor.T, *tensor.T) []*tensor.T { return nil }

// eps-stabilized ratio r / stab(y) with the default stabilizer.
func ratioDefault(r, y *tensor.T) *tensor.T { return ratio(r, y, Stabilizer) }

func softmaxRelevance(_ *nn.Graph, n *nn.Node, in []*tensor.T, y, r *tensor.T) []*tensor.T {
	// x ⊙ (R − s ΣR) directly: through the gradient of R/s it would lose
	// precision where s is small.
	l := n.Layer.(*nn.Softmax)
	x := in[0]
	outer, size, inner := l.Layout(x.Shape)
	out := tensor.Empty(x.Shape...)
	nn.ParallelFor(outer*inner, max(1, 1<<12/max(size, 1)), func(lo, hi int) {
		for row := lo; row < hi; row++ {
			base := row/inner*size*inner + row%inner
			var total float64
			for i := 0; i < size; i++ {
				total += float64(r.Data[base+i*inner])
			}
			for i := 0; i < size; i++ {
				j := base + i*inner
				out.Data[j] = float32(float64(x.Data[j]) * (float64(r.Data[j]) - float64(y.Data[j])*total))
			}
		}
	})
	return []*tensor.T{out}
}

func uniformRelevance(_ *nn.Graph, n *nn.Node, in []*tensor.T, y, r *tensor.T) []*tensor.T {
	ratio := ratioDefault(r, y)
	gs := n.Layer.Backward(in, y, ratio)
	tensor.Recycle(ratio)
	for k := range gs {
		mulScaleInto(gs[k], in[k], 0.5)
	}
	return gs
}

func valuesRelevance(g *nn.Graph, n *nn.Node, in []*tensor.T, y, r *tensor.T) []*tensor.T {
	attn := [2]bool{fromSoftmax(g, n.Inputs[0]), fromSoftmax(g, n.Inputs[1])}
	if attn[0] == attn[1] {
		// Not an attention product: no weights to hold constant.
		return uniformRelevance(g, n, in, y, r)
	}
	ratio := ratioDefault(r, y)
	gs := n.Layer.Backward(in, y, ratio)
	tensor.Recycle(ratio)
	for k := range gs {
		if attn[k] {
			gs[k] = nil
			continue
		}
		mulInto(gs[k], in[k])
	}
	return gs
}

// fromSoftmax reports whether value v is computed by a Softmax, through
// layers that only move values (reshapes, transposes, Dropout).
func fromSoftmax(g *nn.Graph, v int) bool {
	for v > 0 {
		n := g.Nodes[v-1]
		switch n.Layer.(type) {
		case *nn.Softmax:
			return true
		case *nn.Reshape, *nn.Transpose, *nn.Flatten, nn.Identity:
			v = n.Inputs[0]
		default:
			return false
		}
	}
	return false
}

func identityRelevance(_ *nn.Graph, n *nn.Node, in []*tensor.T, y, r *tensor.T) []*tensor.T {
	ln, ok := n.Layer.(*nn.LayerNorm)
	if !ok {
		return []*tensor.T{r.Clone()}
	}
	// g̃ = γ ⊙ R/stab(y) / σ, gradient of the centring: g̃ − mean(g̃).
	x := in[0]
	s := ratioDefault(r, y)
	d := ln.Gamma.Len()
	_, inv := ln.Stats(x)
	out := tensor.Empty(x.Shape...)
	nn.ParallelFor(len(inv), max(1, 1<<12/max(d, 1)), func(lo, hi int) {
		for row := lo; row < hi; row++ {
			var mean float64
			for i := 0; i < d; i++ {
				mean += float64(s.Data[row*d+i]) * float64(ln.Gamma.Data[i]) * inv[row]
			}
			mean /= float64(d)
			for i := 0; i < d; i++ {
				gt := float64(s.Data[row*d+i])*float64(ln.Gamma.Data[i])*inv[row] - mean
				out.Data[row*d+i] = float32(gt * float64(x.Data[row*d+i]))
			}
		}
	})
	tensor.Recycle(s)
	return []*tensor.T{out}
}
