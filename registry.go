package lrp

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/xai-go/lrp/tensor"
)

// BoundLoader loads a box-rule bound given as a file name in a spec.
type BoundLoader func(name string) (*tensor.T, error)

// ruleMaker builds a rule from its parsed spec.
type ruleMaker struct {
	args  int      // number of positional numbers
	keys  []string // accepted key=value arguments
	doc   string
	build func(r RuleSpec, load BoundLoader) (Rule, error)
}

var ruleMakers = map[string]ruleMaker{
	"zero": {0, nil, "LRP-0: ε rule with the default stabilizer 1e-6", func(r RuleSpec, _ BoundLoader) (Rule, error) {
		return &Epsilon{spec: spec(r.String()), Eps: Stabilizer, ZeroBias: r.Flags["zero_bias"], Additive: r.Flags["thesis"]}, nil
	}},
	"epsilon": {1, nil, "LRP-ε: z + ε·sign(z) (thesis flag: z + ε)", func(r RuleSpec, _ BoundLoader) (Rule, error) {
		if r.Args[0] < 0 {
			return nil, fmt.Errorf("epsilon must be non-negative, got %g", r.Args[0])
		}
		return &Epsilon{spec: spec(r.String()), Eps: float32(r.Args[0]), ZeroBias: r.Flags["zero_bias"], Additive: r.Flags["thesis"]}, nil
	}},
	"gamma": {1, nil, "LRP-γ, generalized (thesis flag: classic w + γw⁺)", func(r RuleSpec, _ BoundLoader) (Rule, error) {
		if r.Args[0] < 0 {
			return nil, fmt.Errorf("gamma must be non-negative, got %g", r.Args[0])
		}
		return &Gamma{spec: spec(r.String()), Gamma: float32(r.Args[0]), ZeroBias: r.Flags["zero_bias"], Classic: r.Flags["thesis"]}, nil
	}},
	"zplus": {0, nil, "z⁺: α-β with α=1, β=0", func(r RuleSpec, _ BoundLoader) (Rule, error) {
		return &AlphaBeta{spec: spec(r.String()), Alpha: 1, ZeroBias: r.Flags["zero_bias"]}, nil
	}},
	"alphabeta": {2, nil, "α-β with α − β = 1", func(r RuleSpec, _ BoundLoader) (Rule, error) {
		a, b := r.Args[0], r.Args[1]
		if a < 0 || b < 0 || abs(a-b-1) > 1e-9 {
			return nil, fmt.Errorf("alphabeta needs α, β ≥ 0 with α − β = 1, got α=%g β=%g", a, b)
		}
		return &AlphaBeta{spec: spec(r.String()), Alpha: float32(a), Beta: float32(b), ZeroBias: r.Flags["zero_bias"]}, nil
	}},
	"zbox": {0, []string{"low", "high"}, "z^B box rule for inputs in [low, high] (numbers or .npy files)", func(r RuleSpec, load BoundLoader) (Rule, error) {
		var bounds [2]*tensor.T
		for i, k := range []string{"low", "high"} {
			v, ok := r.KV[k]
			if !ok {
				return nil, fmt.Errorf("zbox needs %s=", k)
			}
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				if !finite32(f) {
					return nil, fmt.Errorf("zbox %s=%s is not a finite float32 number", k, v)
				}
				bounds[i] = tensor.FromData([]float32{float32(f)}, 1)
				continue
			}
			if load == nil {
				return nil, fmt.Errorf("zbox %s=%q is neither a number nor a loadable file", k, v)
			}
			t, err := load(v)
			if err != nil {
				return nil, fmt.Errorf("zbox %s: %w", k, err)
			}
			bounds[i] = t
		}
		if err := CheckBounds(bounds[0], bounds[1]); err != nil {
			return nil, fmt.Errorf("zbox: %w", err)
		}
		return &ZBox{spec: spec(r.String()), Low: bounds[0], High: bounds[1], ZeroBias: r.Flags["zero_bias"]}, nil
	}},
	"flat": {0, nil, "flat: uniform over the receptive field", func(r RuleSpec, _ BoundLoader) (Rule, error) {
		return &Flat{spec: spec(r.String())}, nil
	}},
	"wsquare": {0, nil, "w²: squared weights (and biases)", func(r RuleSpec, _ BoundLoader) (Rule, error) {
		return &WSquare{spec: spec(r.String()), ZeroBias: r.Flags["zero_bias"]}, nil
	}},
	"pass": {0, nil, "pass relevance unchanged", func(r RuleSpec, _ BoundLoader) (Rule, error) {
		return &Pass{spec: spec(r.String())}, nil
	}},
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// RuleNames lists the rules a spec may name.
func RuleNames() []string { return sortedKeys(ruleMakers) }

// NewRule builds a rule from its spec, e.g. "gamma(0.25)" or
// "epsilon(0.25,zero_bias)". Bounds given as file names are read with load
// (may be nil if none are).
func NewRule(r RuleSpec, load BoundLoader) (Rule, error) {
	m, ok := ruleMakers[r.Name]
	if !ok {
		return nil, fmt.Errorf("unknown rule %q (known: %s)", r.Name, strings.Join(RuleNames(), ", "))
	}
	if len(r.Args) < m.args {
		// A word where a number belongs ("gamma(abc)") was parsed as a flag.
		for _, f := range sortedKeys(r.Flags) {
			if f != "zero_bias" && f != "thesis" {
				return nil, fmt.Errorf("%s: %q is not a number", r.Name, f)
			}
		}
	}
	if len(r.Args) != m.args {
		return nil, fmt.Errorf("rule %s takes %d number(s), got %d", r.Name, m.args, len(r.Args))
	}
	for _, a := range r.Args {
		if !finite32(a) {
			return nil, fmt.Errorf("%s: %g is not a finite float32 number", r.Name, a)
		}
	}
	for k := range r.KV {
		ok := false
		for _, want := range m.keys {
			ok = ok || k == want
		}
		if !ok {
			return nil, fmt.Errorf("rule %s takes no argument %q", r.Name, k)
		}
	}
	for f := range r.Flags {
		switch {
		case f == "zero_bias" && r.Name != "flat" && r.Name != "pass":
		case f == "thesis" && (r.Name == "zero" || r.Name == "epsilon" || r.Name == "gamma"):
		default:
			return nil, fmt.Errorf("rule %s takes no flag %q", r.Name, f)
		}
	}
	return m.build(r, load)
}

// CheckBounds returns an error unless the box-rule bounds low and high
// are finite and low < high element-wise. Each is one value or an array;
// two arrays must have the same number of elements (a single value is
// compared with every element of the other). The error names the first
// offending element.
func CheckBounds(low, high *tensor.T) error {
	if low == nil || high == nil {
		return fmt.Errorf("box bounds: low and high are both needed")
	}
	for _, b := range []struct {
		name string
		t    *tensor.T
	}{{"low", low}, {"high", high}} {
		if b.t.Len() == 0 {
			return fmt.Errorf("box bound %s is empty", b.name)
		}
		if i := tensor.FirstNonFinite(b.t.Data); i >= 0 {
			return fmt.Errorf("box bound %s: element %d is %g", b.name, i, b.t.Data[i])
		}
	}
	nl, nh := low.Len(), high.Len()
	if nl != 1 && nh != 1 && nl != nh {
		return fmt.Errorf("box bounds of shapes %s (low) and %s (high) do not fit each other", tensor.ShapeString(low.Shape), tensor.ShapeString(high.Shape))
	}
	for i := range max(nl, nh) {
		l, h := low.Data[min(i, nl-1)], high.Data[min(i, nh-1)]
		if !(l < h) {
			if nl == 1 && nh == 1 {
				return fmt.Errorf("box bounds: low (%g) must be below high (%g)", l, h)
			}
			return fmt.Errorf("box bounds: low (%g) must be below high (%g), but element %d is not", l, h, i)
		}
	}
	return nil
}
