package sweep

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/xai-go/lrp"
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// Template turns a grid point into a rule map: either a named composite or
// preset whose parameters (gamma, epsilon, gamma2, gamma3) take the
// point's values, or a rule-map spec with {name} placeholders, e.g.
// "0:zbox(low=-2.1179,high=2.64);1-16:gamma({gamma});17-30:epsilon({epsilon});31-:zero".
type Template struct {
	Composite string
	Rules     string
	// Low and High are the box-rule bounds passed to composites.
	Low, High *tensor.T
	// Load reads bound files named in Rules.
	Load lrp.BoundLoader
}

var placeholder = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// Check returns an error if a grid axis is not a parameter of the template
// or, for a rules template, a placeholder has no axis.
func (t Template) Check(axes []Axis) error {
	switch {
	case (t.Composite == "") == (t.Rules == ""):
		return fmt.Errorf("sweep: give either a preset/composite or a rules template")
	case t.Composite != "":
		c, err := lrp.LookupComposite(t.Composite)
		if err != nil {
			return err
		}
		for _, a := range axes {
			ok := false
			for _, k := range c.Takes {
				ok = ok || k == a.Name
			}
			if !ok {
				return fmt.Errorf("sweep: grid parameter %q is not a parameter of %s (it takes %s)", a.Name, c.Name, strings.Join(c.Takes, ", "))
			}
		}
	default:
		names := map[string]bool{}
		for _, m := range placeholder.FindAllStringSubmatch(t.Rules, -1) {
			names[m[1]] = true
		}
		for _, a := range axes {
			if !names[a.Name] {
				return fmt.Errorf("sweep: grid parameter %q does not appear as {%s} in the rules template", a.Name, a.Name)
			}
			delete(names, a.Name)
		}
		for n := range names {
			return fmt.Errorf("sweep: the rules template uses {%s}, which no grid axis defines", n)
		}
	}
	return nil
}

// RuleMap returns the rule map of grid point p for graph g.
func (t Template) RuleMap(g *nn.Graph, p Point) (*lrp.RuleMap, error) {
	if t.Composite != "" {
		c, err := lrp.LookupComposite(t.Composite)
		if err != nil {
			return nil, err
		}
		params := lrp.Params{Low: t.Low, High: t.High}
		for name, v := range p.Values {
			switch name {
			case "gamma":
				params.Gamma = lrp.Float(v)
			case "epsilon":
				params.Epsilon = lrp.Float(v)
			case "gamma2":
				params.Gamma2 = lrp.Float(v)
			case "gamma3":
				params.Gamma3 = lrp.Float(v)
			}
		}
		return c.Build(g, params)
	}
	spec := placeholder.ReplaceAllStringFunc(t.Rules, func(s string) string {
		return strconv.FormatFloat(p.Values[s[1:len(s)-1]], 'g', -1, 64)
	})
	return lrp.ParseRuleMap(spec, t.Load)
}

// GridWarnings returns warnings about a grid that is valid but wasteful on
// graph g: an axis that repeats a value (as float32, the precision of the
// rules), so that grid points repeat; and an axis whose values change no
// layer's rule, so that every point along it computes the same thing (the
// thesis preset lrp-tutorial's ε applies to layers 17-30, which a small
// model does not have). A template or grid that Check refuses gives no
// warnings: Run reports the error.
func GridWarnings(g *nn.Graph, t Template, axes []Axis) []string {
	var out []string
	for _, a := range axes {
		seen := map[float32]bool{}
		for _, v := range a.Values {
			if seen[float32(v)] {
				out = append(out, fmt.Sprintf("grid axis %s repeats the value %g: its grid points are computed twice", a.Name, v))
				break
			}
			seen[float32(v)] = true
		}
	}
	if t.Check(axes) != nil || len(axes) == 0 {
		return out
	}
	base := Point{Values: map[string]float64{}}
	for _, a := range axes {
		base.Values[a.Name] = a.Values[0]
	}
	baseMap, baseRules, err := assigned(g, t, base)
	if err != nil {
		return out
	}
	source := "the rules template"
	if t.Composite != "" {
		source = t.Composite
	}
	for _, a := range axes {
		if len(seenValues(a)) < 2 {
			continue
		}
		changes := false
		var entries []string // entries the axis changes
		for _, v := range a.Values[1:] {
			p := Point{Values: map[string]float64{}}
			for k, x := range base.Values {
				p.Values[k] = x
			}
			p.Values[a.Name] = v
			m, rules, err := assigned(g, t, p)
			if err != nil {
				return out
			}
			for i := range rules {
				changes = changes || fmt.Sprint(rules[i]) != fmt.Sprint(baseRules[i])
			}
			for i, e := range m.Entries {
				if i < len(baseMap.Entries) && e.Rule.String() != baseMap.Entries[i].Rule.String() {
					s := baseMap.Entries[i].Selector.String() + ":" + baseMap.Entries[i].Rule.String()
					if !slices.Contains(entries, s) {
						entries = append(entries, s)
					}
				}
			}
		}
		if changes {
			continue
		}
		msg := fmt.Sprintf("grid axis %s changes no layer's rule on this model: all its points are the same", a.Name)
		if len(entries) > 0 {
			msg += fmt.Sprintf(" (%s sets it in %s, which gives no layer its rule; the model's convolution, linear and average-pooling layers are %s)",
				source, strings.Join(entries, ", "), affineRange(g))
		}
		out = append(out, msg)
	}
	return out
}

// assigned builds the rule map of point p and assigns it to g.
func assigned(g *nn.Graph, t Template, p Point) (*lrp.RuleMap, []lrp.Rule, error) {
	m, err := t.RuleMap(g, p)
	if err != nil {
		return nil, nil, err
	}
	rules, err := m.Assign(g)
	return m, rules, err
}

// seenValues returns the distinct float32 values of an axis.
func seenValues(a Axis) map[float32]bool {
	s := map[float32]bool{}
	for _, v := range a.Values {
		s[float32(v)] = true
	}
	return s
}

// affineRange formats the layer indices that rules apply to, "0 to 9".
func affineRange(g *nn.Graph) string {
	lo, hi := -1, -1
	for _, n := range g.Nodes {
		if _, ok := n.Layer.(nn.Affine); ok {
			if lo < 0 {
				lo = n.LayerIndex()
			}
			hi = max(hi, n.LayerIndex())
		}
	}
	if lo < 0 {
		return "none"
	}
	return fmt.Sprintf("%d to %d", lo, hi)
}
