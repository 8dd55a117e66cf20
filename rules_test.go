package lrp

import (
	"math"
	"strings"
	"testing"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// The worked example of the issue: W = (1, −1), b = −1, x = (1, 1), so
// z = −1 and R = z. α1β0 gives (−1, 0) and α2β1 gives (−2, 0.5) — the same
// values the PyTorch reference prints (testdata/manifest.json, checks).
func TestAlphaBetaWorkedExample(t *testing.T) {
	l := &nn.Linear{W: tensor.FromData([]float32{1, -1}, 1, 2), B: tensor.FromData([]float32{-1}, 1)}
	x := tensor.FromData([]float32{1, 1}, 1, 2)
	y := l.Forward([]*tensor.T{x})
	for _, c := range []struct {
		alpha, beta float32
		want        [2]float64
	}{{1, 0, [2]float64{-1, 0}}, {2, 1, [2]float64{-2, 0.5}}} {
		r := (&AlphaBeta{Alpha: c.alpha, Beta: c.beta}).Relevance(l, x, y, y.Clone(), nil)
		for i, w := range c.want {
			if math.Abs(float64(r.Data[i])-w) > 1e-5 {
				t.Errorf("α%gβ%g: R = %v, want %v", c.alpha, c.beta, r.Data, c.want)
				break
			}
		}
	}
}

// With LRP-0 and no biases, relevance is conserved: at every layer it sums
// to the explained logit (up to the 1e-6 stabilizer).
func TestConservation(t *testing.T) {
	g := &nn.Graph{}
	w := func(shape ...int) *tensor.T {
		t := tensor.New(shape...)
		for i := range t.Data {
			t.Data[i] = float32(math.Sin(float64(i)*1.7+float64(len(shape)))) * 0.5
		}
		return t
	}
	c := g.Add("conv", &nn.Conv2d{W: w(4, 3, 3, 3), Stride: [2]int{1, 1}, Pad: [4]int{1, 1, 1, 1}, Dilation: [2]int{1, 1}, Groups: 1}, 0)
	r := g.Add("relu", nn.ReLU{}, c)
	p := g.Add("pool", &nn.MaxPool2d{Pool2d: nn.Pool2d{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}}}, r)
	a := g.Add("avg", &nn.AvgPool2d{Pool2d: nn.Pool2d{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}}}, p)
	f := g.Add("flat", &nn.Flatten{Axis: 1}, a)
	h := g.Add("fc1", &nn.Linear{W: w(6, 16)}, f)
	r2 := g.Add("relu2", nn.ReLU{}, h)
	g.Add("fc2", &nn.Linear{W: w(3, 6)}, r2)
	rm, err := ParseRuleMap("*:zero", nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewExplainer(g, rm)
	if err != nil {
		t.Fatal(err)
	}
	x := w(2, 3, 8, 8)
	res, err := e.Explain(x, Options{KeepLayers: true})
	if err != nil {
		t.Fatal(err)
	}
	for s := 0; s < 2; s++ {
		logit := float64(res.Logits.Data[s*3+res.Targets[s]])
		for v, rel := range res.Values {
			if rel == nil {
				continue
			}
			per := rel.Len() / 2
			var sum float64
			for _, x := range rel.Data[s*per : (s+1)*per] {
				sum += float64(x)
			}
			if math.Abs(sum-logit) > 1e-4*math.Abs(logit)+1e-5 {
				t.Errorf("sample %d value %d: relevance sums to %g, logit %g", s, v, sum, logit)
			}
		}
	}
}

func TestSpecErrors(t *testing.T) {
	for _, c := range []struct{ spec, want string }{
		{"0:zbox(low=-2.1179,high=2.64);1-16:gamma(0.25", "position 45"},
		{"1-16 gamma(0.25)", "SELECTOR:RULE"},
		{"16-1:zero", "bad layer range"},
		{"conv:frobnicate", "unknown rule"},
		{"conv:gamma", "takes 1 number"},
		{"conv:alphabeta(3,1)", "α − β = 1"},
		{"conv:epsilon(0.1,bogus)", "no flag"},
		{"type=convolution:zero", "unknown layer type"},
		{"", "no entries"},
	} {
		_, err := ParseRuleMap(c.spec, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.spec, err, c.want)
		}
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{
		"0:zbox(low=-2.1179,high=2.64);1-16:gamma(0.25);17-30:epsilon(0.25);31-:zero",
		"conv:gamma(0.25,zero_bias);linear:epsilon(1e-6);avgpool:zero",
		"features.1*:alphabeta(2,1);name=x:flat;type=linear:wsquare",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseRuleMap(s, nil)
		if err != nil {
			return
		}
		// A map that parsed prints as a spec that parses to the same map.
		m2, err := ParseRuleMap(m.String(), nil)
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, m.String(), err)
		}
		if m2.String() != m.String() {
			t.Fatalf("round trip %q → %q", m.String(), m2.String())
		}
	})
}
