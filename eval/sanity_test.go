package eval

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// TestMetricNames checks that the registry holds exactly the names of
// issue #16 and the existing ones, kebab-case.
func TestMetricNames(t *testing.T) {
	want := []string{"auc", "aopc", "abpc", "srg", "irof", "faithfulness-correlation", "selectivity", "sensitivity-n", "monotonicity", "infidelity", "mprt", "random-logit", "sparseness", "complexity"}
	var got []string
	for _, m := range Metrics() {
		got = append(got, m.Name)
		if m.Summary == "" {
			t.Errorf("%s has no summary", m.Name)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("metrics %v, want %v", got, want)
	}
}

// TestSRGIsABPC checks SRG per image against pixel flipping's summaries,
// and that its mean is the ABPC of the mean curves.
func TestSRGIsABPC(t *testing.T) {
	f := loadMetrics(t)
	in := MetricInput{Graph: f.g, X: f.x, R: f.r, Targets: f.Targets, Config: f.cfg(Zero)}
	m, _ := LookupMetric("srg")
	v, err := m.Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	morf, err := curve(in, MoRF)
	if err != nil {
		t.Fatal(err)
	}
	lrf, err := curve(in, LRF)
	if err != nil {
		t.Fatal(err)
	}
	var mean float64
	for i := range v {
		if v[i] != lrf.AUCs[i]-morf.AUCs[i] {
			t.Errorf("image %d: srg %g, want %g", i, v[i], lrf.AUCs[i]-morf.AUCs[i])
		}
		mean += v[i] / float64(len(v))
	}
	if abpc := ABPC(morf.Summary, lrf.Summary); math.Abs(mean-abpc) > 1e-9*math.Abs(abpc) {
		t.Errorf("mean srg %g, abpc %g", mean, abpc)
	}
	if _, err := SRG(morf.Summary, Summary{}); err == nil {
		t.Error("srg of mismatched summaries accepted")
	}
}

// TestRandomModesSeeded checks that the metrics with random draws are
// reproducible for a seed and change with it.
func TestRandomModesSeeded(t *testing.T) {
	f := loadMetrics(t)
	for _, c := range []struct {
		mode   Mode
		metric string
	}{{Zero, "faithfulness-correlation"}, {Uniform, "monotonicity"}, {Random, "infidelity"}, {Zero, "sensitivity-n"}} {
		m, _ := LookupMetric(c.metric)
		in := MetricInput{Graph: f.g, X: f.x, R: f.r, Targets: f.Targets, Config: f.cfg(c.mode), Options: Options{Runs: 8, Samples: 2}}
		a, err := m.Compute(in)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := m.Compute(in)
		in.Config.Seed = 7
		d, _ := m.Compute(in)
		if !slices.Equal(a, b) {
			t.Errorf("%s/%s: %v then %v with the same seed", c.metric, c.mode, a, b)
		}
		if slices.Equal(a, d) {
			t.Errorf("%s/%s: seed 7 gives the values of seed 0", c.metric, c.mode)
		}
	}
}

// TestEveryModeRuns runs every perturbation metric with every mode.
func TestEveryModeRuns(t *testing.T) {
	f := loadMetrics(t)
	x := tensor.FromData(f.x.Data[:f.x.Len()/3], 1, 3, 32, 32)
	r := tensor.FromData(f.r.Data[:f.r.Len()/3], 1, 3, 32, 32)
	for _, mode := range Modes() {
		for _, name := range []string{"irof", "faithfulness-correlation", "selectivity", "sensitivity-n", "monotonicity", "infidelity"} {
			m, _ := LookupMetric(name)
			cfg := f.cfg(mode)
			cfg.Patch = 8
			v, err := m.Compute(MetricInput{Graph: f.g, X: x, R: r, Targets: f.Targets[:1], Config: cfg, Options: Options{Runs: 4, Samples: 1}})
			if err != nil {
				t.Fatalf("%s/%s: %v", name, mode, err)
			}
			if len(v) != 1 || math.IsNaN(v[0]) || math.IsInf(v[0], 0) {
				t.Errorf("%s/%s: %v", name, mode, v)
			}
		}
	}
}

// TestSelectivityBatches checks that Selectivity's m² sequential steps
// are scored in full batches.
func TestSelectivityBatches(t *testing.T) {
	var count, calls int
	g := &nn.Graph{InputShape: []int{-1, 1, 8, 8}}
	c := g.Add("count", countLayer{&count}, 0)
	f := g.Add("flat", &nn.Flatten{Axis: 1}, c)
	g.Add("calls", callLayer{&calls}, f)
	x := tensor.New(2, 1, 8, 8)
	for i := range x.Data {
		x.Data[i] = float32(i % 7)
	}
	if _, err := Selectivity(g, x, x.Clone(), []int{0, 1}, Config{Patch: 2, Mode: Zero, MaxBatch: 8}); err != nil {
		t.Fatal(err)
	}
	if count != 32 || calls != 4 {
		t.Errorf("%d inputs in %d forward passes, want 32 in 4", count, calls)
	}
}

// callLayer counts its forward passes.
type callLayer struct{ n *int }

func (callLayer) Type() string                                       { return "Calls" }
func (callLayer) OutputShape(in [][]int) ([]int, error)              { return in[0], nil }
func (c callLayer) Forward(in []*tensor.T) *tensor.T                 { *c.n++; return in[0].Clone() }
func (callLayer) Backward(_ []*tensor.T, _, g *tensor.T) []*tensor.T { return []*tensor.T{g} }

// TestRandomLogit uses an explainer whose relevance is a per-class
// pattern, so that the expected SSIM is that of the two patterns.
func TestRandomLogit(t *testing.T) {
	const classes = 5
	pattern := func(c int) []float32 {
		rng := rand.New(rand.NewPCG(uint64(c), 1))
		p := make([]float32, 3*16*16)
		for i := range p {
			p[i] = rng.Float32()
		}
		return p
	}
	var asked []int
	explain := func(x *tensor.T, targets []int) (*tensor.T, error) {
		asked = append(asked, targets...)
		r := tensor.New(x.Shape...)
		for i, c := range targets {
			copy(r.Data[i*3*256:], pattern(c))
		}
		return r, nil
	}
	x := tensor.New(4, 3, 16, 16)
	targets := []int{0, 1, 4, 2}
	r, _ := explain(x, targets)
	asked = nil
	v, err := RandomLogit(explain, x, r, targets, classes, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, off := range asked {
		if off == targets[i] || off < 0 || off >= classes {
			t.Fatalf("image %d: explained class %d for target %d", i, off, targets[i])
		}
		r2, _ := explain(x, []int{off})
		want := SSIM(pixelRelevance(r, i), pixelRelevance(r2, 0), 16, 16)
		if v[i] != want {
			t.Errorf("image %d: %g, want %g", i, v[i], want)
		}
	}
	if _, err := RandomLogit(explain, x, r, targets, 1, 0); err == nil {
		t.Error("one class accepted")
	}
	if _, err := RandomLogit(explain, x, r, []int{0, 1, 9, 2}, classes, 0); err == nil {
		t.Error("target 9 of 5 classes accepted")
	}
}

// TestMPRT checks the cascade with gradient × input of a two-layer
// linear model as the explainer: the top layer is randomized first, the
// original model is left alone, and the values are the mean Spearman
// correlations of the stages.
func TestMPRT(t *testing.T) {
	g := &nn.Graph{InputShape: []int{-1, 1, 8, 8}}
	f := g.Add("flat", &nn.Flatten{Axis: 1}, 0)
	w1, w2 := tensor.New(16, 64), tensor.New(3, 16)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, w := range []*tensor.T{w1, w2} {
		for i := range w.Data {
			w.Data[i] = rng.Float32() - 0.5
		}
	}
	h := g.Add("fc1", &nn.Linear{W: w1}, f)
	g.Add("fc2", &nn.Linear{W: w2}, h)
	// gradient × input of a linear model: x ⊙ (W1ᵀ W2ᵀ e_t).
	gi := func(g *nn.Graph) (Explainer, error) {
		a := g.Nodes[1].Layer.(*nn.Linear).W
		b := g.Nodes[2].Layer.(*nn.Linear).W
		return func(x *tensor.T, targets []int) (*tensor.T, error) {
			r := tensor.New(x.Shape...)
			for n, tg := range targets {
				for i := 0; i < 64; i++ {
					var s float64
					for j := 0; j < 16; j++ {
						s += float64(b.Data[tg*16+j]) * float64(a.Data[j*64+i])
					}
					r.Data[n*64+i] = x.Data[n*64+i] * float32(s)
				}
			}
			return r, nil
		}, nil
	}
	x := tensor.New(2, 1, 8, 8)
	for i := range x.Data {
		x.Data[i] = rng.Float32()
	}
	e, _ := gi(g)
	r, _ := e(x, []int{0, 2})
	before := slices.Clone(w2.Data)
	res, err := MPRT(g, gi, x, r, []int{0, 2}, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Layers, []string{"fc2", "fc1"}) {
		t.Errorf("layers %v, want fc2, fc1", res.Layers)
	}
	if !slices.Equal(before, w2.Data) || g.Nodes[2].Layer.(*nn.Linear).W != w2 {
		t.Error("MPRT changed the original model")
	}
	for i := range res.Values {
		want := (res.Spearman[0][i] + res.Spearman[1][i]) / 2
		if math.Abs(res.Values[i]-want) > 1e-15 {
			t.Errorf("image %d: value %g, want %g", i, res.Values[i], want)
		}
		// Randomized weights must change the explanation.
		if res.Spearman[1][i] > 0.9 || res.SSIM[1][i] > 0.9 {
			t.Errorf("image %d: relevance survives randomization: spearman %g, ssim %g", i, res.Spearman[1][i], res.SSIM[1][i])
		}
	}
	// The unrandomized explainer compared with itself gives 1.
	same := func(*nn.Graph) (Explainer, error) { return e, nil }
	res, err = MPRT(g, same, x, r, []int{0, 2}, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Layers) != 1 || math.Abs(res.Values[0]-1) > 1e-12 || math.Abs(res.SSIM[0][1]-1) > 1e-12 {
		t.Errorf("identical relevance: %+v", res)
	}
	if _, err := MPRT(&nn.Graph{Nodes: g.Nodes[:1], Output: 1}, gi, x, r, []int{0, 2}, 1, 0); err == nil || !strings.Contains(err.Error(), "no Conv or Linear") {
		t.Errorf("model without weights: %v", err)
	}
}

func TestSparsenessComplexityEdges(t *testing.T) {
	r := tensor.New(2, 1, 2, 2)
	r.Data[4] = -3 // image 1: one non-zero element
	sp, _ := Sparseness(r)
	cx, _ := Complexity(r)
	// n = 4, one value 3: G = (2·4 − 4 − 1)·3 / (4·3) = 0.75; H = 0.
	if sp[0] != 0 || sp[1] != 0.75 || cx[0] != 0 || cx[1] != 0 {
		t.Errorf("sparseness %v, complexity %v", sp, cx)
	}
	for i := range r.Data {
		r.Data[i] = 1
	}
	cx, _ = Complexity(r)
	if math.Abs(cx[0]-math.Log(4)) > 1e-15 {
		t.Errorf("uniform complexity %g, want ln 4", cx[0])
	}
	if _, err := Sparseness(tensor.New(3)); err == nil {
		t.Error("1-D relevance accepted")
	}
}
