package lrp

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"unicode"
)

// SpecError is a syntax error in a rule-map spec string, at byte offset Pos.
type SpecError struct {
	Spec string
	Pos  int
	Msg  string
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("rule spec %q: at position %d: %s", e.Spec, e.Pos, e.Msg)
}

// Selector chooses the layers an entry of a rule map applies to.
type Selector struct {
	// Kind is "index", "type" or "name".
	Kind string
	// Lo and Hi bound an index range (inclusive); Hi < 0 means open.
	Lo, Hi int
	// Pattern is a layer type ("conv", "linear", "avgpool", "*") or a name
	// glob in path.Match syntax.
	Pattern string
}

func (s Selector) String() string {
	switch s.Kind {
	case "index":
		switch {
		case s.Lo == s.Hi:
			return strconv.Itoa(s.Lo)
		case s.Hi < 0:
			return fmt.Sprintf("%d-", s.Lo)
		}
		return fmt.Sprintf("%d-%d", s.Lo, s.Hi)
	case "type":
		return "type=" + s.Pattern
	}
	return "name=" + s.Pattern
}

// RuleSpec is a rule by name with its arguments, as written in a spec:
// positional numbers, key=value pairs and bare flags.
type RuleSpec struct {
	Name  string
	Args  []float64
	KV    map[string]string
	Flags map[string]bool
}

func (r RuleSpec) String() string {
	var parts []string
	for _, a := range r.Args {
		parts = append(parts, strconv.FormatFloat(a, 'g', -1, 64))
	}
	for _, k := range sortedKeys(r.KV) {
		parts = append(parts, k+"="+r.KV[k])
	}
	for _, k := range sortedKeys(r.Flags) {
		parts = append(parts, k)
	}
	if len(parts) == 0 {
		return r.Name
	}
	return r.Name + "(" + strings.Join(parts, ",") + ")"
}

// SpecEntry is one "selector:rule" entry of a spec.
type SpecEntry struct {
	Selector Selector
	Rule     RuleSpec
}

// layerTypes maps the type names accepted in selectors to nn layer types.
var layerTypes = map[string][]string{
	"conv":      {"Conv"},
	"linear":    {"Linear"},
	"dense":     {"Linear"},
	"avgpool":   {"AvgPool", "GlobalAvgPool", "AdaptiveAvgPool"},
	"maxpool":   {"MaxPool"},
	"relu":      {"ReLU"},
	"batchnorm": {"BatchNorm"},
	"add":       {"Add"},
	"concat":    {"Concat"},
	"*":         nil,
}

// ParseSpec parses a rule-map spec string such as
//
//	0:zbox(low=-2.1179,high=2.64);1-16:gamma(0.25);17-30:epsilon(0.25);31-:zero
//
// Entries are separated by ';'. A selector is a layer index "3", a range
// "1-16" or "31-", a layer type ("conv", "linear", "avgpool", "maxpool",
// "*", or "type=NAME"), or a layer-name glob ("features.1*", or
// "name=GLOB"). A rule is a name with optional arguments in parentheses:
// numbers, key=value pairs and flags, e.g. "epsilon(0.25,zero_bias)".
func ParseSpec(spec string) ([]SpecEntry, error) {
	var entries []SpecEntry
	pos := 0
	for _, part := range strings.Split(spec, ";") {
		start := pos
		pos += len(part) + 1
		lead := len(part) - len(strings.TrimLeftFunc(part, unicode.IsSpace))
		p := strings.TrimSpace(part)
		if p == "" {
			continue
		}
		colon := strings.IndexByte(p, ':')
		if colon < 0 {
			return nil, &SpecError{spec, start + lead, fmt.Sprintf("entry %q needs the form SELECTOR:RULE", p)}
		}
		sel, err := parseSelector(strings.TrimSpace(p[:colon]))
		if err != nil {
			return nil, &SpecError{spec, start + lead, err.Error()}
		}
		rs := p[colon+1:]
		rstart := start + lead + colon + 1
		rule, off, err := parseRule(rs)
		if err != nil {
			return nil, &SpecError{spec, rstart + off, err.Error()}
		}
		entries = append(entries, SpecEntry{sel, rule})
	}
	if len(entries) == 0 {
		return nil, &SpecError{spec, 0, "no entries"}
	}
	return entries, nil
}

func parseSelector(s string) (Selector, error) {
	switch {
	case s == "":
		return Selector{}, fmt.Errorf("empty selector")
	case strings.HasPrefix(s, "type="):
		t := strings.TrimPrefix(s, "type=")
		if _, ok := layerTypes[strings.ToLower(t)]; !ok {
			return Selector{}, fmt.Errorf("unknown layer type %q (known: %s)", t, strings.Join(sortedKeys(layerTypes), ", "))
		}
		return Selector{Kind: "type", Pattern: strings.ToLower(t)}, nil
	case strings.HasPrefix(s, "name="):
		return nameSelector(strings.TrimPrefix(s, "name="))
	case s[0] >= '0' && s[0] <= '9':
		lo, hi, err := parseRange(s)
		if err != nil {
			return Selector{}, err
		}
		return Selector{Kind: "index", Lo: lo, Hi: hi}, nil
	}
	if _, ok := layerTypes[strings.ToLower(s)]; ok {
		return Selector{Kind: "type", Pattern: strings.ToLower(s)}, nil
	}
	return nameSelector(s)
}

func nameSelector(glob string) (Selector, error) {
	if glob == "" {
		return Selector{}, fmt.Errorf("empty name pattern")
	}
	if _, err := path.Match(glob, ""); err != nil {
		return Selector{}, fmt.Errorf("bad name pattern %q: %v", glob, err)
	}
	return Selector{Kind: "name", Pattern: glob}, nil
}

func parseRange(s string) (lo, hi int, err error) {
	a, b, isRange := strings.Cut(s, "-")
	if lo, err = strconv.Atoi(a); err != nil || lo < 0 {
		return 0, 0, fmt.Errorf("bad layer index %q", a)
	}
	if !isRange {
		return lo, lo, nil
	}
	if b == "" {
		return lo, -1, nil
	}
	if hi, err = strconv.Atoi(b); err != nil || hi < lo {
		return 0, 0, fmt.Errorf("bad layer range %q", s)
	}
	return lo, hi, nil
}

// parseRule parses "name" or "name(arg,...)"; on error it returns the
// offset of the problem within s.
func parseRule(s string) (RuleSpec, int, error) {
	lead := len(s) - len(strings.TrimLeftFunc(s, unicode.IsSpace))
	s = strings.TrimSpace(s)
	r := RuleSpec{KV: map[string]string{}, Flags: map[string]bool{}}
	open := strings.IndexByte(s, '(')
	if open < 0 {
		r.Name = s
	} else {
		r.Name = strings.TrimSpace(s[:open])
		if !strings.HasSuffix(s, ")") {
			return r, lead + len(s), fmt.Errorf("missing ')'")
		}
		off := open + 1
		for _, arg := range strings.Split(s[open+1:len(s)-1], ",") {
			a := strings.TrimSpace(arg)
			switch {
			case a == "":
				return r, lead + off, fmt.Errorf("empty argument")
			case strings.ContainsAny(a, "()"):
				return r, lead + off, fmt.Errorf("unexpected parenthesis in %q", a)
			case strings.Contains(a, "="):
				k, v, _ := strings.Cut(a, "=")
				k, v = strings.TrimSpace(k), strings.TrimSpace(v)
				if k == "" || v == "" {
					return r, lead + off, fmt.Errorf("bad key=value %q", a)
				}
				if _, dup := r.KV[k]; dup {
					return r, lead + off, fmt.Errorf("argument %q given twice", k)
				}
				r.KV[k] = v
			default:
				if f, err := strconv.ParseFloat(a, 64); err == nil {
					r.Args = append(r.Args, f)
				} else if isIdent(a) {
					r.Flags[a] = true
				} else {
					return r, lead + off, fmt.Errorf("bad argument %q", a)
				}
			}
			off += len(arg) + 1
		}
	}
	if !isIdent(r.Name) {
		return r, lead, fmt.Errorf("bad rule name %q", r.Name)
	}
	return r, 0, nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c == '-' || unicode.IsLetter(c) || unicode.IsDigit(c)) {
			return false
		}
	}
	return true
}
