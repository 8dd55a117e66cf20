package sweep

import (
	"fmt"
	"regexp"
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
			return fmt.Errorf("sweep: the rules template uses {%s}, which no --grid defines", n)
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
