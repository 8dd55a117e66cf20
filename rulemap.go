package lrp

import (
	"fmt"
	"path"
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
	for _, n := range g.Nodes {
		if _, ok := n.Layer.(nn.Affine); !ok {
			continue
		}
		for i, e := range m.Entries {
			if e.Selector.Matches(n) {
				rules[n.Index] = e.Rule
				used[i] = true
				break
			}
		}
	}
	if m.Strict {
		for i, e := range m.Entries {
			if !used[i] && e.Selector.Kind != "type" && !matchesAny(e.Selector, g) {
				return nil, fmt.Errorf("rule map entry %s:%s matches no convolution, linear or average-pooling layer of the model", e.Selector, e.Rule)
			}
		}
	}
	return rules, nil
}

func matchesAny(s Selector, g *nn.Graph) bool {
	for _, n := range g.Nodes {
		if _, ok := n.Layer.(nn.Affine); ok && s.Matches(n) {
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
