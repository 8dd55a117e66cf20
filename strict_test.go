package lrp_test

import (
	"math"
	"strings"
	"testing"

	"github.com/xai-go/lrp"
	"github.com/xai-go/lrp/models"
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/onnx"
	"github.com/xai-go/lrp/tensor"
)

func loadONNX(t *testing.T, name string) *nn.Graph {
	t.Helper()
	g, err := onnx.Load("testdata/models/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// Rule arguments that are not numbers, non-finite, or box bounds that are
// not ordered are refused, and the error names the entry and the value.
func TestRuleArgumentErrors(t *testing.T) {
	low := tensor.FromData([]float32{0, 0, 0}, 3)
	high := tensor.FromData([]float32{1, 0, 1}, 3)
	load := func(name string) (*tensor.T, error) {
		if name == "low.npy" {
			return low, nil
		}
		return high, nil
	}
	for _, c := range []struct{ spec, want string }{
		{"0:gamma(abc)", `rule map entry 0:gamma(abc): gamma: "abc" is not a number`},
		{"0:epsilon(xyz)", `epsilon: "xyz" is not a number`},
		{"0:epsilon(nan)", "0:epsilon(NaN): epsilon: NaN is not a finite float32 number"},
		{"0:gamma(inf)", "gamma: +Inf is not a finite float32 number"},
		{"0:gamma(1e39)", "is not a finite float32 number"},
		{"0:zbox(low=1,high=0)", "rule map entry 0:zbox(high=0,low=1): zbox: box bounds: low (1) must be below high (0)"},
		{"0:zbox(low=1,high=1)", "low (1) must be below high (1)"},
		{"0:zbox(low=nan,high=1)", "zbox low=nan is not a finite float32 number"},
		{"0:zbox(low=low.npy,high=high.npy)", "element 1 is not"},
		{"0:zbox(low=0.5,high=high.npy)", "low (0.5) must be below high (0)"},
	} {
		_, err := lrp.ParseRuleMap(c.spec, load)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.spec, err, c.want)
		}
	}
	if _, err := lrp.ParseRuleMap("0:zbox(low=-1,high=1);1:gamma(0.25,zero_bias)", load); err != nil {
		t.Errorf("valid spec refused: %v", err)
	}
}

func TestCheckBounds(t *testing.T) {
	one := func(v ...float32) *tensor.T { return tensor.FromData(v, len(v)) }
	for _, c := range []struct {
		low, high *tensor.T
		want      string // "" for no error
	}{
		{one(0), one(1), ""},
		{one(0, 1), one(1, 2), ""},
		{one(0), one(1, 2), ""},
		{one(0, 2), one(1, 2), "element 1"},
		{one(0, 0, 0), one(1, 2), "do not fit"},
		{one(float32(math.Inf(-1))), one(1), "box bound low: element 0 is -Inf"},
		{one(0), one(float32(math.NaN())), "box bound high: element 0 is NaN"},
		{one(), one(1), "box bound low is empty"},
		{nil, one(1), "both needed"},
	} {
		err := lrp.CheckBounds(c.low, c.high)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("CheckBounds(%v, %v) = %v, want %q", c.low, c.high, err, c.want)
		}
	}
}

// A parameter a composite does not take is an error naming the composite
// and what it takes, from CheckParams and from Build.
func TestCompositeParams(t *testing.T) {
	g := loadONNX(t, "vgg.onnx")
	box := lrp.Params{Low: tensor.FromData([]float32{-3}, 1), High: tensor.FromData([]float32{3}, 1)}
	for _, c := range []struct {
		composite string
		set       func(p *lrp.Params)
		want      string
	}{
		{"epsilon-plus", func(p *lrp.Params) { p.Gamma = lrp.Float(0.5) }, "composite epsilon-plus has no γ (gamma); it takes: ε (epsilon)"},
		{"lrp-tutorial", func(p *lrp.Params) { p.Gamma2 = lrp.Float(0.5) }, "composite lrp-tutorial has no γ₂ (gamma2); it takes: ε (epsilon), γ (gamma)"},
		{"decreasing-gamma", func(p *lrp.Params) { p.Epsilon = lrp.Float(0.5) }, "composite decreasing-gamma has no ε (epsilon); it takes: γ (gamma), γ₂ (gamma2), γ₃ (gamma3)"},
		{"epsilon-gamma-box", func(p *lrp.Params) { p.Gamma = lrp.Float(-3) }, "γ (gamma) must be a finite number ≥ 0, got -3"},
		{"epsilon-gamma-box", func(p *lrp.Params) { p.Epsilon = lrp.Float(math.NaN()) }, "ε (epsilon) must be a finite number ≥ 0, got NaN"},
		{"epsilon-gamma-box", func(p *lrp.Params) { p.High = tensor.FromData([]float32{-4}, 1) }, "low (-3) must be below high (-4)"},
	} {
		comp, err := lrp.LookupComposite(c.composite)
		if err != nil {
			t.Fatal(err)
		}
		p := box
		c.set(&p)
		if _, err := comp.Build(g, p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Build error %v, want one containing %q", c.composite, err, c.want)
		}
	}
	for _, name := range lrp.CompositeNames() {
		comp, _ := lrp.LookupComposite(name)
		if _, err := comp.Build(g, box); err != nil {
			t.Errorf("%s with default parameters: %v", name, err)
		}
	}
}

func TestRuleMapWarnings(t *testing.T) {
	vgg := loadONNX(t, "vgg.onnx")
	mlp := loadONNX(t, "mlp.onnx")
	for _, c := range []struct {
		name string
		g    *nn.Graph
		spec string
		want []string
	}{
		{"none", vgg, "0:zbox(low=-3,high=3);1-16:gamma(0.25);17-:epsilon(0.25)", nil},
		{"shadowed index", vgg, "0-5:gamma(0.25);2:epsilon(0.1);*:zero",
			[]string{"rule map entry 2:epsilon(0.1) has no effect: layer 2 takes its rule from the earlier entry 0-5:gamma(0.25)"}},
		{"shadowed type", vgg, "conv:gamma(0.25);0:flat;linear:epsilon(0.1);*:zero",
			[]string{"rule map entry 0:flat has no effect: layer 0 takes its rule from the earlier entry type=conv:gamma(0.25)"}},
		{"shadowed by two", mlp, "1:zero;3:zero;1-3:epsilon(0.1);*:flat",
			[]string{"rule map entry 1-3:epsilon(0.1) has no effect: layers 1, 3 take their rules from the earlier entry 1:zero, 3:zero"}},
		{"partly shadowed", mlp, "1:zero;1-5:epsilon(0.1)", nil},
		{"type matching nothing", mlp, "conv:gamma(0.25);*:zero", nil},
	} {
		m, err := lrp.ParseRuleMap(c.spec, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := m.Warnings(c.g)
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s: warnings\n%q\nwant\n%q", c.name, got, c.want)
		}
	}
	// A composite (not strict) whose index entries select nothing: the
	// thesis preset on a model that ends before layer 17.
	comp, _ := lrp.LookupComposite("lrp-tutorial")
	m, err := comp.Build(mlp, lrp.Params{Low: tensor.FromData([]float32{-3}, 1), High: tensor.FromData([]float32{3}, 1)})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(m.Warnings(mlp), "\n")
	for _, want := range []string{
		"rule map entry 17-30:epsilon(0.25,thesis) selects no convolution, linear or average-pooling layer (the model has them at layers 1 to 5)",
		"rule map entry 0:zbox(high=@high,low=@low) selects no",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lrp-tutorial on the MLP: warnings\n%s\nwant one containing %q", got, want)
		}
	}
}

// Inputs with NaN or ±Inf are refused by the library, not explained into
// NaN relevance.
func TestNonFiniteInputRefused(t *testing.T) {
	g := loadONNX(t, "mlp.onnx")
	m, err := lrp.ParseRuleMap("*:epsilon(0.25)", nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := lrp.NewExplainer(g, m)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(2, 3, 4, 4)
	x.Data[1*48+2*16+3*4+1] = float32(math.Inf(1))
	want := "lrp: input element [1 2 3 1] is +Inf: values must be finite"
	for name, a := range map[string]lrp.Attributor{"explainer": e, "gradient": &lrp.Gradient{Graph: g}} {
		if _, err := lrp.AttributeInBatches(a, x, nil, 1); err == nil || err.Error() != want {
			t.Errorf("%s: AttributeInBatches error %v, want %q", name, err, want)
		}
	}
	if _, err := e.Explain(x, lrp.Options{}); err == nil || err.Error() != want {
		t.Errorf("Explain error %v, want %q", err, want)
	}
	if _, err := (&lrp.Gradient{Graph: g}).Attribute(x, nil); err == nil || err.Error() != want {
		t.Errorf("Gradient.Attribute error %v, want %q", err, want)
	}
}

// An error inside AttributeInBatches carries the package prefix once.
func TestAttributeInBatchesPrefixOnce(t *testing.T) {
	g := loadONNX(t, "mlp.onnx")
	_, err := lrp.AttributeInBatches(&lrp.Gradient{Graph: g}, tensor.New(3, 3, 4, 4), []int{7}, 2)
	if err == nil || strings.Count(err.Error(), "lrp:") != 1 || !strings.Contains(err.Error(), "target class 7 out of range") {
		t.Errorf("error %v, want one with a single \"lrp:\" naming target class 7", err)
	}
}

// A rule map mixing thesis-convention rules with plain epsilon or gamma
// rules is refused: the thesis form would silently run the plain
// epsilon(5) as LRP-0 (measured before the check: exactly linear:zero's
// relevance). The error names the plain rule and its layers.
func TestThesisMixRefused(t *testing.T) {
	emb, err := models.Lookup("mnist")
	if err != nil {
		t.Fatal(err)
	}
	g, err := emb.Graph()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ spec, want string }{
		{"conv:gamma(0.25,thesis);linear:epsilon(5)", "epsilon(5) on layer "},
		{"conv:gamma(0.25);linear:epsilon(5,thesis)", "gamma(0.25) on layer 0 "},
		{"0:zero(thesis);*:zero", "zero on layer "},
	} {
		m, err := lrp.ParseRuleMap(c.spec, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = lrp.NewExplainer(g, m)
		if err == nil || !strings.Contains(err.Error(), "mixes thesis-convention rules with plain ones") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %q", c.spec, err, c.want)
		}
	}
	for _, spec := range []string{"conv:gamma(0.25,thesis);linear:epsilon(5,thesis)", "conv:gamma(0.25);linear:epsilon(5)"} {
		m, err := lrp.ParseRuleMap(spec, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lrp.NewExplainer(g, m); err != nil {
			t.Errorf("%s: %v", spec, err)
		}
	}
}

// Layers that have a gradient but no relevance rule are refused by the
// explainer, not run with their gradient as if it were one.
func TestNoRuleLayersRefused(t *testing.T) {
	for file, want := range map[string]string{
		"matmul_4d.onnx":               "no relevance rule for MatMul with a stack of matrices",
		"maxpool_indices_order0.onnx":  "no relevance flows through MaxPool's indices",
		"batchnorm_training_out0.onnx": "no relevance rule for BatchNormalization in training mode",
		"layernorm_axis0_out0.onnx":    "no relevance rule for LayerNorm over the whole batch",
		"layernorm_axis1_out1.onnx":    "no relevance flows through LayerNormalization's mean or 1/σ",
		"gather_batch.onnx":            "no relevance rule for Gather along the batch dimension",
		"gather_batch_scalar.onnx":     "no relevance rule for Gather along the batch dimension",
	} {
		g, err := onnx.Load("onnx/testdata/forms/" + file)
		if err != nil {
			t.Fatal(err)
		}
		m, err := lrp.ParseRuleMap("*:epsilon(0.25)", nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = lrp.NewExplainer(g, m)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", file, err, want)
		}
	}
	// LayerNorm over trailing dimensions short of the batch keeps its rule.
	g, err := onnx.Load("onnx/testdata/forms/layernorm_axis1_out0.onnx")
	if err != nil {
		t.Fatal(err)
	}
	m, err := lrp.ParseRuleMap("*:epsilon(0.25)", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lrp.NewExplainer(g, m); err != nil {
		t.Errorf("layernorm_axis1_out0: %v", err)
	}
}
