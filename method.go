package lrp

import (
	"fmt"
	"strings"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// MethodOptions holds what attribution methods need besides the model.
// Each method reads the fields it documents and ignores the others, so one
// MethodOptions can build every method of a comparison.
type MethodOptions struct {
	// Rules is the rule map of "lrp". If nil, "lrp" builds the composite
	// DefaultComposite from Params.
	Rules *RuleMap
	// Params are the composite parameters of "lrp:NAME" and of the
	// default composite: ε, γ and the box rule's bounds (see
	// data.Preprocess.Bounds for the bounds of a preprocessing).
	Params Params
	// Cache, if set, is shared by the LRP explainers built with it (see
	// NewSharedExplainer); nil gives each its own.
	Cache *ParamCache
	// Seed seeds smoothgrad's noise and random's values.
	Seed uint64
	// Samples and Level are smoothgrad's n and noise level (defaults 20
	// and 0.1).
	Samples int
	Level   float64
	// Steps and Baseline are integrated-gradients' n and baseline
	// (defaults 32 and zeros).
	Steps    int
	Baseline *tensor.T
	// Window and Stride are occlusion's window and stride (default 8×8
	// each), Fill the value it occludes with (default 0).
	Window, Stride [2]int
	Fill           float32
}

// Method is an attribution method by name: New builds its Attributor for
// a model.
type Method struct {
	Name string // as NewAttributor and the command line take it
	Doc  string // one line for help texts
	// New builds the method's Attributor for g, reading the options it
	// needs.
	New func(g *nn.Graph, opt MethodOptions) (Attributor, error)
}

var methods = map[string]Method{}

// RegisterMethod adds an attribution method to the registry; the CLI's
// list of methods is built from it. It panics if the name is taken or
// contains ':', which separates "lrp" from a composite name.
func RegisterMethod(m Method) {
	if _, dup := methods[m.Name]; dup || strings.Contains(m.Name, ":") || m.New == nil {
		panic("lrp: method " + m.Name + " registered twice, with ':' in its name, or without New")
	}
	methods[m.Name] = m
}

// MethodNames lists the registered attribution methods, sorted.
func MethodNames() []string { return sortedKeys(methods) }

// LookupMethod returns the method of the given name.
func LookupMethod(name string) (Method, error) {
	m, ok := methods[name]
	if !ok {
		return Method{}, fmt.Errorf("unknown method %q (known: %s, or lrp:COMPOSITE)", name, strings.Join(MethodNames(), ", "))
	}
	return m, nil
}

// NewAttributor builds the attribution method of the given name for g.
// "lrp:NAME" is LRP with the composite NAME built from opt.Params (it
// ignores opt.Rules); "lrp" uses opt.Rules, or DefaultComposite if that is
// nil.
func NewAttributor(method string, g *nn.Graph, opt MethodOptions) (Attributor, error) {
	name, composite, hasComposite := strings.Cut(method, ":")
	if hasComposite {
		if name != "lrp" {
			return nil, fmt.Errorf("method %q: only lrp takes a composite (lrp:NAME)", method)
		}
		c, err := LookupComposite(composite)
		if err != nil {
			return nil, fmt.Errorf("method %q: %w", method, err)
		}
		if opt.Rules, err = c.Build(g, opt.Params); err != nil {
			return nil, fmt.Errorf("method %q: %w", method, err)
		}
	}
	m, err := LookupMethod(name)
	if err != nil {
		return nil, err
	}
	a, err := m.New(g, opt)
	if err != nil {
		return nil, fmt.Errorf("method %s: %w", method, err)
	}
	return a, nil
}

func init() {
	RegisterMethod(Method{Name: "lrp", Doc: "layer-wise relevance propagation with a rule map or composite (lrp:NAME); default composite " + DefaultComposite,
		New: func(g *nn.Graph, opt MethodOptions) (Attributor, error) {
			m := opt.Rules
			if m == nil {
				name := DefaultCompositeFor(g)
				c, err := LookupComposite(name)
				if err != nil {
					return nil, err
				}
				if m, err = c.Build(g, opt.Params); err != nil {
					return nil, fmt.Errorf("default composite %s: %w", name, err)
				}
			}
			cache := opt.Cache
			if cache == nil {
				cache = &ParamCache{}
			}
			return NewSharedExplainer(g, m, cache)
		}})
	RegisterMethod(Method{Name: "gradient", Doc: "∂logit/∂x (sensitivity)",
		New: func(g *nn.Graph, _ MethodOptions) (Attributor, error) { return &Gradient{Graph: g}, nil }})
	RegisterMethod(Method{Name: "gradxinput", Doc: "gradient × input",
		New: func(g *nn.Graph, _ MethodOptions) (Attributor, error) {
			return &Gradient{Graph: g, TimesInput: true}, nil
		}})
	RegisterMethod(Method{Name: "smoothgrad", Doc: "gradient averaged over noisy copies of the input (seeded)",
		New: func(g *nn.Graph, opt MethodOptions) (Attributor, error) {
			if opt.Samples < 0 || opt.Level < 0 {
				return nil, fmt.Errorf("smoothgrad samples %d and level %g must not be negative", opt.Samples, opt.Level)
			}
			return &SmoothGrad{Graph: g, Seed: opt.Seed, Samples: opt.Samples, Level: opt.Level}, nil
		}})
	RegisterMethod(Method{Name: "integrated-gradients", Doc: "gradient integrated from a baseline (zeros) to the input",
		New: func(g *nn.Graph, opt MethodOptions) (Attributor, error) {
			if opt.Steps < 0 {
				return nil, fmt.Errorf("integrated-gradients steps %d must not be negative", opt.Steps)
			}
			return &IntegratedGradients{Graph: g, Steps: opt.Steps, Baseline: opt.Baseline}, nil
		}})
	RegisterMethod(Method{Name: "occlusion", Doc: "drop of the logit when a sliding window (8×8) is occluded",
		New: func(g *nn.Graph, opt MethodOptions) (Attributor, error) {
			o := &Occlusion{Graph: g, Window: opt.Window, Stride: opt.Stride, Fill: opt.Fill}
			if o.Window == [2]int{} {
				o.Window = [2]int{8, 8}
			}
			if o.Stride == [2]int{} {
				o.Stride = o.Window
			}
			return o, nil
		}})
	RegisterMethod(Method{Name: "random", Doc: "uniform random relevance (seeded): the baseline to beat",
		New: func(g *nn.Graph, opt MethodOptions) (Attributor, error) {
			return &Random{Graph: g, Seed: opt.Seed}, nil
		}})
}
