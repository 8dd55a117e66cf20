package lrp

import (
	"fmt"
	"slices"
	"strings"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// Params holds the parameters users set on composites and presets; nil
// takes each composite's default.
type Params struct {
	Epsilon *float64 // ε (composites: 1e-6 on dense layers; presets: 0.25)
	Gamma   *float64 // γ (0.25)
	// Gamma2 and Gamma3 are decreasing-gamma's second and third γ (0.1, 0).
	Gamma2, Gamma3 *float64
	// Low and High bound the input for the box rule: one value, or one
	// sample's C×H×W bounds.
	Low, High *tensor.T
}

// Composite builds a rule map for a model from parameters.
type Composite struct {
	Name string
	Doc  string
	// Takes names the Params fields the composite uses: "epsilon",
	// "gamma", "gamma2", "gamma3".
	Takes []string
	// Build returns the rule map for g.
	Build func(g *nn.Graph, p Params) (*RuleMap, error)
}

var composites = map[string]Composite{}

// RegisterComposite adds a composite to the registry; the CLI's list of
// composites is built from it.
func RegisterComposite(c Composite) {
	if _, dup := composites[c.Name]; dup {
		panic("lrp: composite " + c.Name + " registered twice")
	}
	build := c.Build
	c.Build = func(g *nn.Graph, p Params) (*RuleMap, error) {
		if err := c.CheckParams(p); err != nil {
			return nil, err
		}
		return build(g, p)
	}
	composites[c.Name] = c
}

// paramSymbols are the Params fields' names with their symbols.
var paramSymbols = []struct{ name, symbol string }{
	{"epsilon", "ε"}, {"gamma", "γ"}, {"gamma2", "γ₂"}, {"gamma3", "γ₃"},
}

// CheckParams returns an error if p sets a parameter the composite does
// not take (see Takes), or sets one to a negative or non-finite value,
// naming the composite and the parameters it takes. The Build of a
// registered composite calls it first.
func (c Composite) CheckParams(p Params) error {
	vals := map[string]*float64{"epsilon": p.Epsilon, "gamma": p.Gamma, "gamma2": p.Gamma2, "gamma3": p.Gamma3}
	var takes []string
	for _, ps := range paramSymbols {
		if slices.Contains(c.Takes, ps.name) {
			takes = append(takes, ps.symbol+" ("+ps.name+")")
		}
	}
	if len(takes) == 0 {
		takes = []string{"no parameters"}
	}
	for _, ps := range paramSymbols {
		v := vals[ps.name]
		if v == nil {
			continue
		}
		if !slices.Contains(c.Takes, ps.name) {
			return fmt.Errorf("composite %s has no %s (%s); it takes: %s", c.Name, ps.symbol, ps.name, strings.Join(takes, ", "))
		}
		if !finite32(*v) || *v < 0 {
			return fmt.Errorf("composite %s: %s (%s) must be a finite number ≥ 0, got %g", c.Name, ps.symbol, ps.name, *v)
		}
	}
	return nil
}

// CompositeNames lists the registered composites and presets, sorted.
func CompositeNames() []string { return sortedKeys(composites) }

// LookupComposite returns the composite of the given name.
func LookupComposite(name string) (Composite, error) {
	c, ok := composites[name]
	if !ok {
		return Composite{}, fmt.Errorf("unknown composite %q (known: %s)", name, strings.Join(CompositeNames(), ", "))
	}
	return c, nil
}

func orDefault(v *float64, def float64) float64 {
	if v == nil {
		return def
	}
	return *v
}

// Float returns a pointer to v, for Params fields.
func Float(v float64) *float64 { return &v }

// firstLayer returns the index of the first node whose type is one of types.
func firstLayer(g *nn.Graph, types ...string) int {
	for _, n := range g.Nodes {
		for _, t := range types {
			if n.Type() == t {
				return n.Index
			}
		}
	}
	return -1
}

// specMap builds a non-strict rule map from spec text in which the box
// bounds are written as low=@low,high=@high.
func specMap(text string, p Params, thesis bool) (*RuleMap, error) {
	entries, err := ParseSpec(text)
	if err != nil {
		return nil, err
	}
	if thesis {
		ThesisConvention(entries)
	}
	load := func(name string) (*tensor.T, error) {
		switch {
		case name == "@low" && p.Low != nil:
			return p.Low, nil
		case name == "@high" && p.High != nil:
			return p.High, nil
		}
		return nil, fmt.Errorf("the box rule needs low and high bounds (Params.Low and Params.High)")
	}
	return ruleMapFromSpec(entries, load, false)
}

// zennitComposite follows Zennit's composites of the same name: a rule for
// convolutions, ε on linear layers, LRP-0 on average pooling, and
// optionally a special rule on the first convolution (box) or the first
// convolution or linear layer (flat).
func zennitComposite(name, doc, conv, first string, firstTypes ...string) Composite {
	takes := []string{"epsilon"}
	if strings.Contains(conv, "GAMMA") {
		takes = append(takes, "gamma")
	}
	return Composite{Name: name, Doc: doc, Takes: takes, Build: func(g *nn.Graph, p Params) (*RuleMap, error) {
		eps := orDefault(p.Epsilon, 1e-6)
		var parts []string
		if first != "" {
			if i := firstLayer(g, firstTypes...); i >= 0 {
				parts = append(parts, fmt.Sprintf("%d:%s", i, first))
			}
		}
		body := strings.ReplaceAll(conv, "GAMMA", fmtFloat(float32(orDefault(p.Gamma, 0.25))))
		parts = append(parts, "conv:"+body, fmt.Sprintf("linear:epsilon(%s)", fmtFloat(float32(eps))), "avgpool:zero")
		return specMap(strings.Join(parts, ";"), p, false)
	}}
}

func init() {
	RegisterComposite(zennitComposite("epsilon-gamma-box",
		"box rule on the first convolution (--low, --high), γ (0.25) on convolutions, ε (1e-6) on dense layers",
		"gamma(GAMMA)", "zbox(low=@low,high=@high)", "Conv"))
	RegisterComposite(zennitComposite("epsilon-plus",
		"z⁺ on convolutions, ε (1e-6) on dense layers", "zplus", ""))
	RegisterComposite(zennitComposite("epsilon-plus-flat",
		"flat on the first convolution or dense layer, z⁺ on convolutions, ε (1e-6) on dense layers",
		"zplus", "flat", "Conv", "Linear"))
	RegisterComposite(zennitComposite("epsilon-alpha2-beta1",
		"α2β1 on convolutions, ε (1e-6) on dense layers", "alphabeta(2,1)", ""))
	RegisterComposite(zennitComposite("epsilon-alpha2-beta1-flat",
		"flat on the first convolution or dense layer, α2β1 on convolutions, ε (1e-6) on dense layers",
		"alphabeta(2,1)", "flat", "Conv", "Linear"))
	RegisterComposite(Composite{Name: "lrp-tutorial", Takes: []string{"gamma", "epsilon"},
		Doc: "thesis preset for VGG16: box on layer 0, γ (0.25) on 1-16, ε (0.25) on 17-30, LRP-0 from 31, thesis conventions",
		Build: func(g *nn.Graph, p Params) (*RuleMap, error) {
			return specMap(fmt.Sprintf("0:zbox(low=@low,high=@high);1-16:gamma(%s);17-30:epsilon(%s);31-:zero",
				fmtFloat(float32(orDefault(p.Gamma, 0.25))), fmtFloat(float32(orDefault(p.Epsilon, 0.25)))), p, true)
		}})
	RegisterComposite(Composite{Name: "decreasing-gamma", Takes: []string{"gamma", "gamma2", "gamma3"},
		Doc: "thesis preset for VGG16: box on layer 0, γ₁ (0.25) on 1-17, γ₂ (0.1) on 18-24, γ₃ (0) on 25-31, thesis conventions",
		Build: func(g *nn.Graph, p Params) (*RuleMap, error) {
			g2, g3 := orDefault(p.Gamma2, 0.1), orDefault(p.Gamma3, 0)
			return specMap(fmt.Sprintf("0:zbox(low=@low,high=@high);1-17:gamma(%s);18-24:gamma(%s);25-31:gamma(%s)",
				fmtFloat(float32(orDefault(p.Gamma, 0.25))), fmtFloat(float32(g2)), fmtFloat(float32(g3))), p, true)
		}})
}

// DefaultComposite is the composite that commands use when they are given
// no rule map: Zennit's epsilon-gamma-box (box rule on the input layer, γ on
// the other convolutions, ε on the dense layers), the first one lrp demo
// shows.
const DefaultComposite = "epsilon-gamma-box"
