package lrp

import (
	"fmt"
	"strings"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// The thesis code (rodrigobdz/lrp) computes LRP as the gradient of a
// modified network: each layer with a rule outputs z·(y/stab(z)) with the
// factor held constant, where y is the layer's own output and z its
// modified pre-activation, and relevance is x ⊙ ∂logit_t/∂x at the end
// (plus the box bounds' terms). Layers without a rule, ReLU and max
// pooling keep their ordinary gradient. Where every affine layer has a
// rule this equals propagating R = y ⊙ g; where one has none (e.g. the
// classifier in the decreasing-gamma preset) it does not, so the thesis
// convention is computed this way.

// thesisRule is implemented by rules that have a thesis-code form.
type thesisRule interface {
	// thesisGrad returns the input gradient of the modified layer for
	// output gradient g, and the relevance of the box bounds (or nil).
	thesisGrad(l nn.Affine, x, y, g *tensor.T, c *ParamCache) (gx, bounds *tensor.T)
}

// scaled returns g ⊙ y / stab(z), recycling z.
func scaled(g, y, z *tensor.T) *tensor.T {
	stab(z, Stabilizer)
	s := tensor.Empty(g.Shape...)
	for i := range s.Data {
		s.Data[i] = g.Data[i] * y.Data[i] / z.Data[i]
	}
	tensor.Recycle(z)
	return s
}

// jtcFree is jtc for a temporary s, which it recycles.
func jtcFree(l nn.Affine, w, s, x *tensor.T, c *ParamCache) *tensor.T {
	out := jtc(l, w, s, x, c)
	tensor.Recycle(s)
	return out
}

func (r *Epsilon) thesisGrad(l nn.Affine, x, y, g *tensor.T, c *ParamCache) (*tensor.T, *tensor.T) {
	w, b := c.params(l, "id", identity, r.ZeroBias)
	z := l.ForwardWith(x, w, b)
	if r.Additive {
		for i := range z.Data {
			z.Data[i] += r.Eps
		}
	}
	return jtcFree(l, w, scaled(g, y, z), x, c), nil
}

func (r *Gamma) thesisGrad(l nn.Affine, x, y, g *tensor.T, c *ParamCache) (*tensor.T, *tensor.T) {
	gm := r.Gamma
	wp, bp := c.params(l, "gamma"+fmtFloat(gm)+"+", func(v float32) float32 { return v + gm*max(v, 0) }, r.ZeroBias)
	z := l.ForwardWith(x, wp, bp)
	return jtcFree(l, wp, scaled(g, y, z), x, c), nil
}

func (r *ZBox) thesisGrad(l nn.Affine, x, y, g *tensor.T, c *ParamCache) (*tensor.T, *tensor.T) {
	w, b := c.params(l, "id", identity, r.ZeroBias)
	wp, bp := c.params(l, "pos", positive, r.ZeroBias)
	wn, bn := c.params(l, "neg", negative, r.ZeroBias)
	low, _ := bound(r.Low, x)
	high, _ := bound(r.High, x)
	z := l.ForwardWith(x, w, b)
	zl := l.ForwardWith(low, wp, bp)
	zh := l.ForwardWith(high, wn, bn)
	for i := range z.Data {
		z.Data[i] -= zl.Data[i] + zh.Data[i]
	}
	tensor.Recycle(zl)
	tensor.Recycle(zh)
	s := scaled(g, y, z)
	gp := jtc(l, wp, s, x, c)
	bounds := mulAdd(nil, low, gp, -1)
	tensor.Recycle(gp)
	gn := jtc(l, wn, s, x, c)
	mulAdd(bounds, high, gn, -1)
	tensor.Recycle(gn)
	return jtcFree(l, w, s, x, c), bounds
}

// thesisMode reports whether the rules use the thesis convention.
func thesisMode(rules []Rule) bool {
	for _, r := range rules {
		switch r := r.(type) {
		case *Epsilon:
			if r.Additive {
				return true
			}
		case *Gamma:
			if r.Classic {
				return true
			}
		}
	}
	return false
}

// checkThesisMix refuses rule assignments that mix the thesis convention
// with plain epsilon or gamma rules. The thesis form is a gradient of the
// whole modified network, so it cannot honour a signed-stabilizer ε or the
// generalized γ on some layers: computed that way a plain epsilon(ε) would
// silently become LRP-0. The error names every layer whose rule lacks the
// flag, grouped by rule.
func checkThesisMix(g *nn.Graph, rules []Rule) error {
	var order []string
	layers := map[string][]string{}
	for i, r := range rules {
		plain := false
		switch r := r.(type) {
		case *Epsilon:
			plain = !r.Additive
		case *Gamma:
			plain = !r.Classic
		}
		if !plain {
			continue
		}
		k := r.String()
		if _, ok := layers[k]; !ok {
			order = append(order, k)
		}
		layers[k] = append(layers[k], fmt.Sprintf("%d %q", i, g.Nodes[i].Name))
	}
	if len(order) == 0 {
		return nil
	}
	parts := make([]string, len(order))
	for i, k := range order {
		parts[i] = fmt.Sprintf("%s on layer %s", k, strings.Join(layers[k], ", "))
	}
	return fmt.Errorf("lrp: rule map mixes thesis-convention rules with plain ones (%s): the thesis form cannot apply them as written; add the thesis flag to every zero, epsilon and gamma rule or to none", strings.Join(parts, "; "))
}

// explainThesis runs the thesis code's gradient formulation. With own,
// vals come from forwardLean: dropped values are recomputed when needed,
// and values and gradients are recycled once dead.
func (e *Explainer) explainThesis(vals []*tensor.T, targets []int, own bool) *tensor.T {
	grad := make([]*tensor.T, len(vals))
	grad[e.out] = oneHot(vals[e.out], targets, false)
	var boundRel *tensor.T
	for i := e.out - 1; i >= 0; i-- {
		n := e.Graph.Nodes[i]
		g := grad[n.Output()]
		if g == nil {
			continue
		}
		in := make([]*tensor.T, len(n.Inputs))
		for k, v := range n.Inputs {
			in[k] = e.value(vals, v)
		}
		y := vals[n.Output()]
		if y == nil && !passesRelevance(n.Layer) {
			// ReLU, Clip and Identity do not read their output.
			y = e.value(vals, n.Output())
		}
		var gin []*tensor.T
		if r, ok := e.Rules[i].(thesisRule); ok {
			gx, b := r.thesisGrad(n.Layer.(nn.Affine), in[0], y, g, e.cache)
			gin = []*tensor.T{gx}
			if b != nil {
				if boundRel == nil {
					boundRel = b
				} else {
					addTo(boundRel, b)
				}
			}
		} else {
			gin = n.Layer.Backward(in, y, g)
		}
		for k, v := range n.Inputs {
			if gin[k] == nil {
				continue
			}
			if grad[v] == nil {
				grad[v] = gin[k]
			} else {
				addTo(grad[v], gin[k])
			}
		}
		release(grad, n.Output(), grad, vals)
		if own && n.Output() != e.out {
			release(vals, n.Output(), grad, vals)
		}
	}
	x := vals[0]
	if grad[0] == nil {
		grad[0] = tensor.New(x.Shape...)
	}
	r := mulAdd(nil, x, grad[0], 1)
	if boundRel != nil {
		addTo(r, boundRel)
	}
	return r
}
