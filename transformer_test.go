package lrp_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/xai-go/lrp"
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

func randT(rng *rand.Rand, shape ...int) *tensor.T {
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(rng.NormFloat64())
	}
	return t
}

func sum(t *tensor.T) float64 {
	var s float64
	for _, v := range t.Data {
		s += float64(v)
	}
	return s
}

func near(t *testing.T, what string, got, want float64, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*max(1, math.Abs(want)) {
		t.Errorf("%s: got %.6g, want %.6g", what, got, want)
	}
}

// run applies rule r to the last node of g for input x and a random
// output relevance, returning the inputs, output, output relevance and
// input relevance.
func run(t *testing.T, g *nn.Graph, r lrp.LayerRule, x *tensor.T, rng *rand.Rand) (vals []*tensor.T, rel *tensor.T, rin []*tensor.T) {
	t.Helper()
	vals = g.Forward(x)
	n := g.Nodes[len(g.Nodes)-1]
	y := vals[n.Output()]
	rel = randT(rng, y.Shape...)
	in := make([]*tensor.T, len(n.Inputs))
	for k, v := range n.Inputs {
		in[k] = vals[v]
	}
	return vals, rel, r.LayerRelevance(g, n, in, y, rel)
}

func TestSoftmaxRuleFormula(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	g := &nn.Graph{}
	g.Add("softmax", &nn.Softmax{Axis: -1}, 0)
	x := randT(rng, 2, 3, 5)
	vals, r, rin := run(t, g, lrp.SoftmaxRule(), x, rng)
	s := vals[1]
	for row := 0; row < 6; row++ {
		var total float64
		for j := 0; j < 5; j++ {
			total += float64(r.Data[row*5+j])
		}
		for i := 0; i < 5; i++ {
			k := row*5 + i
			want := float64(x.Data[k]) * (float64(r.Data[k]) - float64(s.Data[k])*total)
			near(t, "R_in", float64(rin[0].Data[k]), want, 1e-5)
		}
	}
}

func TestUniformRuleConservesAndHalves(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	g := &nn.Graph{}
	// A·B with A the input (2×3×4) and B = the input transposed (2×4×3).
	g.Add("t", &nn.Transpose{Perm: []int{0, 2, 1}}, 0)
	g.Add("mm", nn.MatMul{}, 0, 1)
	x := randT(rng, 2, 3, 4)
	vals, r, rin := run(t, g, lrp.UniformRule(), x, rng)
	// Σ R_A = Σ R_B = ½ Σ R (the ε rule conserves; each factor takes half).
	near(t, "Σ R_A", sum(rin[0]), sum(r)/2, 1e-4)
	near(t, "Σ R_B", sum(rin[1]), sum(r)/2, 1e-4)
	// Slow form: R_A[b,i,k] = ½ Σ_j A_ik B_kj R_ij / out_ij.
	a, b, out := vals[0], vals[1], vals[2]
	for bt := 0; bt < 2; bt++ {
		for i := 0; i < 3; i++ {
			for k := 0; k < 4; k++ {
				var want float64
				for j := 0; j < 3; j++ {
					want += float64(a.Data[bt*12+i*4+k]) * float64(b.Data[bt*12+k*3+j]) * float64(r.Data[bt*9+i*3+j]) / float64(out.Data[bt*9+i*3+j])
				}
				near(t, "R_A", float64(rin[0].Data[bt*12+i*4+k]), want/2, 1e-3)
			}
		}
	}
}

func TestValuesRuleGivesAllToValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	g := &nn.Graph{}
	g.Add("scores", &nn.Reshape{Shape: []int{0, 3, 3}}, 0)
	g.Add("softmax", &nn.Softmax{Axis: -1}, 1)
	g.Add("v", &nn.Reshape{Shape: []int{0, 3, 3}}, 0)
	g.Add("mm", nn.MatMul{}, 2, 3)
	x := randT(rng, 2, 9)
	_, r, rin := run(t, g, lrp.ValuesRule(), x, rng)
	if rin[0] != nil {
		t.Error("attention weights received relevance")
	}
	near(t, "Σ R_V", sum(rin[1]), sum(r), 1e-4)
}

func TestIdentityRules(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	g := &nn.Graph{}
	g.Add("gelu", nn.GELU{}, 0)
	x := randT(rng, 2, 5)
	_, r, rin := run(t, g, lrp.IdentityRule(), x, rng)
	for i := range r.Data {
		if rin[0].Data[i] != r.Data[i] {
			t.Fatal("GELU identity rule changed relevance")
		}
	}
	// LayerNorm without bias: the ε rule on the centring and scale with
	// 1/σ constant conserves relevance per token.
	gamma := randT(rng, 6)
	g = &nn.Graph{}
	g.Add("ln", &nn.LayerNorm{Gamma: gamma, Eps: 1e-5}, 0)
	x = randT(rng, 2, 3, 6)
	vals, r, rin := run(t, g, lrp.IdentityRule(), x, rng)
	for row := 0; row < 6; row++ {
		var in, out float64
		for i := 0; i < 6; i++ {
			in += float64(rin[0].Data[row*6+i])
			out += float64(r.Data[row*6+i])
		}
		near(t, "Σ R per token", in, out, 1e-4)
	}
	// Slow form: R_in = x ⊙ (g − mean(g)), g = γ ⊙ R/y / σ.
	y := vals[1]
	for row := 0; row < 6; row++ {
		xs := x.Data[row*6 : row*6+6]
		var mu, v float64
		for _, a := range xs {
			mu += float64(a) / 6
		}
		for _, a := range xs {
			v += (float64(a) - mu) * (float64(a) - mu) / 6
		}
		sigma := math.Sqrt(v + 1e-5)
		gs := make([]float64, 6)
		var gm float64
		for i := range gs {
			gs[i] = float64(gamma.Data[i]) * float64(r.Data[row*6+i]) / float64(y.Data[row*6+i]) / sigma
			gm += gs[i] / 6
		}
		for i := range gs {
			near(t, "R_in", float64(rin[0].Data[row*6+i]), float64(xs[i])*(gs[i]-gm), 1e-3)
		}
	}
}

func TestBlockRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	g := &nn.Graph{}
	g.Add("softmax", &nn.Softmax{Axis: -1}, 0)
	_, _, rin := run(t, g, lrp.BlockRule(), randT(rng, 2, 4), rng)
	if rin[0] != nil {
		t.Error("block rule passed relevance")
	}
}

// Rule maps select the transformer rules by type and name, and refuse a
// rule on layers it cannot apply to.
func TestTransformerRuleMaps(t *testing.T) {
	_, g, x := loadViT(t)
	m, err := lrp.ParseRuleMap("*.self_attention_12:block;softmax:softmax;matmul:values;layernorm:identity;gelu:identity;linear:epsilon(0.01);conv:zero", nil)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := m.Assign(g)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, n := range g.Nodes {
		if r := rules[n.Index]; r != nil {
			got[n.Name] = r.String()
		}
	}
	for name, want := range map[string]string{
		"encoder.layers.encoder_layer_0.self_attention_12": "block",
		"encoder.layers.encoder_layer_1.self_attention_12": "block",
		"encoder.layers.encoder_layer_0.self_attention_13": "values",
		"encoder.layers.encoder_layer_0.ln_1":              "identity",
		"encoder.layers.encoder_layer_0.mlp.1":             "identity",
		"encoder.layers.encoder_layer_0.mlp.0":             "epsilon(0.01)",
		"conv_proj":                                        "zero",
	} {
		if got[name] != want {
			t.Errorf("layer %s: rule %q, want %q", name, got[name], want)
		}
	}
	e, err := lrp.NewExplainer(g, m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Explain(x, lrp.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"softmax:epsilon(0.1)", "linear:uniform", "matmul:block", "layernorm:softmax"} {
		m, err := lrp.ParseRuleMap(bad, nil)
		if err == nil {
			_, err = m.Assign(g)
		}
		if err == nil || !strings.Contains(err.Error(), "does not apply") {
			t.Errorf("%s: error %v, want one saying the rule does not apply", bad, err)
		}
	}
	c, _ := lrp.LookupComposite("attnlrp")
	if _, err := c.Build(g, lrp.Params{Epsilon: lrp.Float(0.1), Gamma: lrp.Float(0.25)}); err == nil {
		t.Error("attnlrp accepted both ε and γ")
	}
}

// Without bias terms the AttnLRP rules conserve relevance through a whole
// attention block except for the softmax rule's absorbed share: checked
// here per layer on the ViT, where each MatMul's inputs receive exactly
// its output's relevance.
func TestViTConservationPerLayer(t *testing.T) {
	m, g, x := loadViT(t)
	c, _ := lrp.LookupComposite("attnlrp")
	rm, err := c.Build(g, lrp.Params{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := lrp.NewExplainer(g, rm)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Explain(x, lrp.Options{Targets: m.Targets, KeepLayers: true})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, n := range e.Graph.Nodes {
		rout := res.Values[n.Output()]
		if rout == nil {
			continue
		}
		switch n.Layer.(type) {
		case nn.MatMul, nn.GELU, *nn.Transpose, *nn.Reshape:
		default:
			continue
		}
		// Inputs read only by n: their relevance is n's share.
		var in float64
		own := true
		for _, v := range n.Inputs {
			for _, o := range e.Graph.Nodes {
				if o != n && slices.Contains(o.Inputs, v) {
					own = false
				}
			}
			in += sum(res.Values[v])
		}
		if !own {
			continue
		}
		near(t, n.Name+" (conservation)", in, sum(rout), 1e-3)
		checked++
	}
	if checked < 8 {
		t.Errorf("checked %d layers, want at least 8", checked)
	}
}

// The identity rule on a LayerNorm over the last two dimensions (ONNX axis
// 1 of a rank-3 input) follows the same slow form, per sample of 3·6
// elements normalized together.
func TestIdentityRuleLayerNormTrailingDims(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	gamma := randT(rng, 3, 6)
	g := &nn.Graph{}
	g.Add("ln", &nn.LayerNorm{Gamma: gamma, Eps: 1e-5, Dims: 2}, 0)
	x := randT(rng, 2, 3, 6)
	vals, r, rin := run(t, g, lrp.IdentityRule(), x, rng)
	y := vals[1]
	const d = 18
	for row := 0; row < 2; row++ {
		xs := x.Data[row*d : row*d+d]
		var mu, v, in, out float64
		for _, a := range xs {
			mu += float64(a) / d
		}
		for _, a := range xs {
			v += (float64(a) - mu) * (float64(a) - mu) / d
		}
		sigma := math.Sqrt(v + 1e-5)
		gs := make([]float64, d)
		var gm float64
		for i := range gs {
			// stab(y) = y + sign(y)·ε, ε = lrp.Stabilizer (y near 0 here).
			yi := float64(y.Data[row*d+i])
			yi += math.Copysign(lrp.Stabilizer, yi)
			gs[i] = float64(gamma.Data[i]) * float64(r.Data[row*d+i]) / yi / sigma
			gm += gs[i] / d
		}
		for i := range gs {
			near(t, "R_in", float64(rin[0].Data[row*d+i]), float64(xs[i])*(gs[i]-gm), 1e-3)
			in += float64(rin[0].Data[row*d+i])
			out += float64(r.Data[row*d+i])
		}
		// Conserved up to what the stabilizer absorbs where y is near 0.
		near(t, "Σ R per sample", in, out, 1e-3)
	}
}
