package lrp

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/xai-go/lrp/nn"
)

// Entry is one entry of a rule map: the layers it selects and their rule.
type Entry struct {
	Selector Selector
	Rule     Rule
}

// RuleMap assigns rules to layers: the first entry whose selector matches
// an affine layer (convolution, linear, average pooling) gives its rule.
// Other layers propagate relevance by fixed rules (see Explainer).
type RuleMap struct {
	Entries []Entry
	// Strict makes Assign fail if an index or name selector matches no
	// affine layer (user-written maps); composites are not strict.
	Strict bool
}

// ParseRuleMap parses a spec string (see ParseSpec) into a strict rule map.
// Bounds of the box rule given as file names are read with load.
func ParseRuleMap(s string, load BoundLoader) (*RuleMap, error) {
	entries, err := ParseSpec(s)
	if err != nil {
		return nil, err
	}
	return ruleMapFromSpec(entries, load, true)
}

func ruleMapFromSpec(entries []SpecEntry, load BoundLoader, strict bool) (*RuleMap, error) {
	m := &RuleMap{Strict: strict}
	for _, e := range entries {
		r, err := NewRule(e.Rule, load)
		if err != nil {
			return nil, fmt.Errorf("rule map entry %s:%s: %w", e.Selector, e.Rule, err)
		}
		m.Entries = append(m.Entries, Entry{e.Selector, r})
	}
	return m, nil
}

// String returns the map in spec syntax.
func (m *RuleMap) String() string {
	parts := make([]string, len(m.Entries))
	for i, e := range m.Entries {
		parts[i] = e.Selector.String() + ":" + e.Rule.String()
	}
	return strings.Join(parts, ";")
}

// Matches reports whether the selector selects node n.
func (s Selector) Matches(n *nn.Node) bool {
	switch s.Kind {
	case "index":
		i := n.LayerIndex()
		return i >= s.Lo && (s.Hi < 0 || i <= s.Hi)
	case "type":
		if s.Pattern == "*" {
			return true
		}
		for _, t := range layerTypes[s.Pattern] {
			if n.Type() == t {
				return true
			}
		}
		return false
	}
	ok, _ := path.Match(s.Pattern, n.Name)
	return ok
}

// Assign returns the rule of every node of g (nil where none applies, and
// for layers that are not affine).
func (m *RuleMap) Assign(g *nn.Graph) ([]Rule, error) {
	rules := make([]Rule, len(g.Nodes))
	used := make([]bool, len(m.Entries))
	for _, e := range m.Entries {
		if err := fitsType(e); err != nil {
			return nil, err
		}
	}
	for _, n := range g.Nodes {
		for i, e := range m.Entries {
			if appliesTo(e.Rule, n.Layer) && e.Selector.Matches(n) {
				rules[n.Index] = e.Rule
				used[i] = true
				break
			}
		}
	}
	if m.Strict {
		for i, e := range m.Entries {
			if !used[i] && e.Selector.Kind != "type" && !matchesAnyFor(e.Selector, e.Rule, g) {
				return nil, fmt.Errorf("rule map entry %s:%s matches no convolution, linear or average-pooling layer of the model", e.Selector, e.Rule)
			}
		}
	}
	return rules, nil
}

// Warnings returns a warning for every entry of m that has no effect on
// g: an entry whose layers all took their rule from earlier entries
// (shadowed), and an index or name entry that selects no convolution,
// linear or average-pooling layer at all (in a map that is not Strict:
// Assign refuses those of a strict map). Type entries that select nothing
// ("avgpool" on a model without average pooling) are normal in composites
// and give no warning.
func (m *RuleMap) Warnings(g *nn.Graph) []string {
	var out []string
	var affine []*nn.Node
	lo, hi := -1, -1
	for _, n := range g.Nodes {
		if _, ok := n.Layer.(nn.Affine); ok {
			affine = append(affine, n)
			if lo < 0 {
				lo = n.LayerIndex()
			}
			hi = max(hi, n.LayerIndex())
		}
	}
	owner := make([]int, len(affine)) // entry that gives each layer its rule, -1 if none
	for k := range owner {
		owner[k] = -1
	}
	for i, e := range m.Entries {
		var matched, shadowedBy []int
		for k, n := range affine {
			if !e.Selector.Matches(n) {
				continue
			}
			matched = append(matched, n.LayerIndex())
			if owner[k] < 0 {
				owner[k] = i
			} else if !slices.Contains(shadowedBy, owner[k]) {
				shadowedBy = append(shadowedBy, owner[k])
			}
		}
		entry := e.Selector.String() + ":" + e.Rule.String()
		switch {
		case len(matched) == 0 && e.Selector.Kind != "type" && !m.Strict:
			where := "the model has none"
			if lo >= 0 {
				where = fmt.Sprintf("the model has them at layers %d to %d", lo, hi)
			}
			out = append(out, fmt.Sprintf("rule map entry %s selects no convolution, linear or average-pooling layer (%s)", entry, where))
		case len(matched) > 0 && len(shadowedBy) > 0 && !slices.Contains(owner, i):
			earlier := make([]string, len(shadowedBy))
			for j, k := range shadowedBy {
				earlier[j] = m.Entries[k].Selector.String() + ":" + m.Entries[k].Rule.String()
			}
			layers := "layer " + intList(matched) + " takes its rule"
			if len(matched) > 1 {
				layers = "layers " + intList(matched) + " take their rules"
			}
			out = append(out, fmt.Sprintf("rule map entry %s has no effect: %s from the earlier entry %s",
				entry, layers, strings.Join(earlier, ", ")))
		}
	}
	return out
}

// intList formats layer indices as "3" or "3, 5, 7".
func intList(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// matchesAnyFor reports whether s selects any layer of g that rule r
// applies to.
func matchesAnyFor(s Selector, r Rule, g *nn.Graph) bool {
	for _, n := range g.Nodes {
		if appliesTo(r, n.Layer) && s.Matches(n) {
			return true
		}
	}
	return false
}

// RuleMapFromSpec builds a strict rule map from parsed spec entries.
func RuleMapFromSpec(entries []SpecEntry, load BoundLoader) (*RuleMap, error) {
	return ruleMapFromSpec(entries, load, true)
}

// ThesisConvention switches the zero, epsilon and gamma rules of entries
// to the conventions of the thesis code (flag "thesis"): ε added to z
// unsigned, γ applied as w + γ·max(0, w) to every input.
func ThesisConvention(entries []SpecEntry) {
	for i := range entries {
		switch entries[i].Rule.Name {
		case "zero", "epsilon", "gamma":
			if entries[i].Rule.Flags == nil {
				entries[i].Rule.Flags = map[string]bool{}
			}
			entries[i].Rule.Flags["thesis"] = true
		}
	}
}
