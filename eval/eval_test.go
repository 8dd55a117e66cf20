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

// The schedule of the issue for p = 8 on 224×224: 0, 1, 3, …, 55, then 784.
func TestFlipsPerStep(t *testing.T) {
	f := FlipsPerStep(28)
	if len(f) != 30 || f[0] != 0 || f[1] != 1 || f[2] != 3 || f[28] != 55 || f[29] != 784 {
		t.Fatalf("schedule %v", f)
	}
	total := 0
	for _, v := range f[:29] {
		total += v
	}
	if total != 784 {
		t.Errorf("steps 1..m flip %d patches, want all 784", total)
	}
}

func TestAUC(t *testing.T) {
	// Trapezoids by hand: (4+2)/2 + (2+0)/2 + (0+0)/2 = 4.
	if a := AUC([]float64{4, 2, 0, 0}); a != 4 {
		t.Errorf("AUC = %g, want 4", a)
	}
	// (4−4 + 4−2 + 4−0 + 4−0)/4 = 2.5
	if a := AOPC([]float64{4, 2, 0, 0}); a != 2.5 {
		t.Errorf("AOPC = %g, want 2.5", a)
	}
}

func TestPatchOrderTies(t *testing.T) {
	sums := []float64{1, 3, 3, 0, 3}
	if o := PatchOrder(sums, MoRF, nil); !slices.Equal(o, []int{1, 2, 4, 0, 3}) {
		t.Errorf("MoRF order %v", o)
	}
	if o := PatchOrder(sums, LRF, nil); !slices.Equal(o, []int{3, 0, 1, 2, 4}) {
		t.Errorf("LRF order %v", o)
	}
	a := PatchOrder(sums, RandomOrder, rand.New(rand.NewPCG(1, 2)))
	b := PatchOrder(sums, RandomOrder, rand.New(rand.NewPCG(1, 2)))
	if !slices.Equal(a, b) {
		t.Error("random order not reproducible with a seed")
	}
}

func TestPatchRelevanceLuminance(t *testing.T) {
	r := tensor.New(3, 4, 4)
	r.Data[0] = 1      // R at (0,0)
	r.Data[16+5] = 1   // G at (1,1)
	r.Data[32+15] = 10 // B at (3,3)
	s := PatchRelevance(r, 2)
	want := []float64{0.2989 + 0.587, 0, 0, 1.14}
	for i := range want {
		if math.Abs(s[i]-want[i]) > 1e-12 {
			t.Fatalf("patch sums %v, want %v", s, want)
		}
	}
}

// sumModel scores an image by the sum of its pixels times a per-pixel
// weight: the logit drops exactly by what is flipped away.
func sumModel(c, h, w int) *nn.Graph {
	g := &nn.Graph{InputShape: []int{-1, c, h, w}}
	f := g.Add("flat", &nn.Flatten{Axis: 1}, 0)
	wt := tensor.New(2, c*h*w)
	for i := 0; i < c*h*w; i++ {
		wt.Data[i] = 1
		wt.Data[c*h*w+i] = -1
	}
	g.Add("fc", &nn.Linear{W: wt}, f)
	return g
}

func TestRunZeroMode(t *testing.T) {
	g := sumModel(1, 4, 4)
	x := tensor.New(1, 1, 4, 4)
	for i := range x.Data {
		x.Data[i] = float32(i + 1) // 1..16
	}
	res, err := Run(g, x, x.Clone(), []int{0}, Config{Patch: 2, Mode: Zero, MaxBatch: 2, KeepInputs: true})
	if err != nil {
		t.Fatal(err)
	}
	// Patch sums: top-left 1+2+5+6 = 14, top-right 22, bottom-left 46,
	// bottom-right 54. MoRF flips 1 patch (54), then 3 more (all), then the
	// midpoint (1+16)/2 = 8.5 on all 16 pixels.
	want := []float64{136, 136 - 54, 0, 8.5 * 16}
	if !slices.Equal(res.Scores[0], want) {
		t.Errorf("scores %v, want %v", res.Scores[0], want)
	}
	if !slices.Equal(res.Flips, []int{0, 1, 3, 4}) {
		t.Errorf("flips %v", res.Flips)
	}
	if res.AUC != AUC(want) || res.AUCs[0] != res.AUC {
		t.Errorf("AUC %g, per image %v", res.AUC, res.AUCs)
	}
	if res.Inputs[1].Data[15] != 0 || res.Inputs[1].Data[0] != 1 {
		t.Errorf("step 1 input %v", res.Inputs[1].Data)
	}
}

func TestRandomModes(t *testing.T) {
	g := sumModel(3, 8, 8)
	r := rand.New(rand.NewPCG(3, 4))
	x := tensor.New(2, 3, 8, 8)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	rel := x.Clone()
	for _, mode := range []Mode{Random, Uniform} {
		cfg := Config{Patch: 2, Mode: mode, Seed: 7, KeepInputs: true, Steps: 4}
		a, err := Run(g, x, rel, []int{0, 1}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Run(g, x, rel, []int{0, 1}, cfg)
		for n := range a.Scores {
			if !slices.Equal(a.Scores[n], b.Scores[n]) {
				t.Errorf("%s: not reproducible with a seed", mode)
			}
		}
		for n := 0; n < 2; n++ {
			lo, hi := minMax(x.Batch(n).Data)
			for _, v := range a.Inputs[4].Batch(n).Data {
				if v < lo || v > hi {
					t.Fatalf("%s: value %g outside [%g, %g]", mode, v, lo, hi)
				}
			}
		}
	}
}

func TestBadConfig(t *testing.T) {
	g := sumModel(1, 4, 4)
	x := tensor.New(1, 1, 4, 4)
	cases := []struct {
		x, r    *tensor.T
		targets []int
		cfg     Config
	}{
		{tensor.New(1, 1, 4, 6), tensor.New(1, 1, 4, 6), []int{0}, Config{}}, // not square
		{x, x, []int{0}, Config{Patch: 3}},                                   // not divisible
		{x, x, []int{0}, Config{Patch: 2, Steps: 4}},                         // too many steps
		{x, tensor.New(1, 1, 2, 2), []int{0}, Config{Patch: 2}},              // relevance shape
		{x, x, []int{0}, Config{Patch: 2, Mode: "smudge"}},                   // unknown mode
		{x, x, []int{0}, Config{Patch: 2, Order: "sideways"}},                // unknown order
		{x, x, []int{5}, Config{Patch: 2, Mode: Zero}},                       // target out of range
		{x, x, []int{0}, Config{Patch: 2, Mode: Inpaint}},                    // inpaint without mean/std
	}
	for i, c := range cases {
		if _, err := Run(g, c.x, c.r, c.targets, c.cfg); err == nil {
			t.Errorf("case %d: no error", i)
		}
	}
}

// ROAD's imputed pixels satisfy their defining equations: each equals the
// weighted mean of its in-image neighbours (1/6 direct, 1/12 diagonal).
func TestROADEquations(t *testing.T) {
	h, w := 9, 7
	r := rand.New(rand.NewPCG(5, 6))
	orig := make([]float32, h*w)
	for i := range orig {
		orig[i] = float32(r.NormFloat64())
	}
	mask := make([]bool, h*w)
	for i := range mask {
		mask[i] = r.Float64() < 0.6
	}
	mask[0], mask[h*w-1] = true, true // corners: fewer neighbours
	plane := append([]float32(nil), orig...)
	roadImpute(plane, orig, mask, h, w, r, 0)
	for p, m := range mask {
		if !m {
			if plane[p] != orig[p] {
				t.Fatalf("kept pixel %d changed", p)
			}
			continue
		}
		y, x := p/w, p%w
		var num, den float64
		for _, o := range roadOffsets {
			yy, xx := y+o[0], x+o[1]
			if yy < 0 || yy >= h || xx < 0 || xx >= w {
				continue
			}
			num += roadWeights[o[2]] * float64(plane[yy*w+xx])
			den += roadWeights[o[2]]
		}
		if d := math.Abs(float64(plane[p]) - num/den); d > 1e-5 {
			t.Fatalf("pixel (%d,%d) = %g, neighbour mean %g", y, x, plane[p], num/den)
		}
	}
}

func TestAutoBatch(t *testing.T) {
	for _, c := range []struct {
		shapes [][]int
		n      int
		want   int
	}{
		{[][]int{{2, 3, 224, 224}, {2, 64, 224, 224}, {2, 1000}}, 2, 10}, // VGG16's largest activation: 3.2M floats per image
		{[][]int{{4, 1, 28, 28}, {4, 32, 28, 28}, {4, 10}}, 4, 32},
		{[][]int{{1, 3, 2048, 2048}, {1, 64, 2048, 2048}}, 1, 1},
	} {
		if got := autoBatch(c.shapes, c.n); got != c.want {
			t.Errorf("autoBatch(%v) = %d, want %d", c.shapes, got, c.want)
		}
	}
}

// countLayer passes its input through and counts the inputs it sees.
type countLayer struct{ n *int }

func (countLayer) Type() string                                       { return "Count" }
func (countLayer) OutputShape(in [][]int) ([]int, error)              { return in[0], nil }
func (c countLayer) Forward(in []*tensor.T) *tensor.T                 { *c.n += in[0].Shape[0]; return in[0].Clone() }
func (countLayer) Backward(_ []*tensor.T, _, g *tensor.T) []*tensor.T { return []*tensor.T{g} }

// TestSharedSteps checks that runs sharing the order-independent steps
// give the scores of runs that do not, score steps 0 and m+1 once for
// all runs, and refuse other inputs.
func TestSharedSteps(t *testing.T) {
	var count int
	g := &nn.Graph{InputShape: []int{-1, 1, 8, 8}}
	c := g.Add("count", countLayer{&count}, 0)
	sum := sumModel(1, 8, 8)
	g.Output = g.Add("flat", sum.Nodes[0].Layer, c)
	g.Output = g.Add("fc", sum.Nodes[1].Layer, g.Output)
	r := rand.New(rand.NewPCG(3, 4))
	x, rel := tensor.New(3, 1, 8, 8), tensor.New(3, 1, 8, 8)
	for i := range x.Data {
		x.Data[i], rel.Data[i] = r.Float32(), r.Float32()
	}
	targets := []int{0, 1, 0}
	shared := &SharedSteps{}
	const m = 4 // patch 2 on 8×8: steps 0…5
	for _, o := range []Order{MoRF, LRF, RandomOrder} {
		cfg := Config{Patch: 2, Mode: Zero, Order: o, Seed: 5}
		want, err := Run(g, x, rel, targets, cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Shared = shared
		count = 0
		got, err := Run(g, x, rel, targets, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want.Scores {
			if !slices.Equal(got.Scores[i], want.Scores[i]) {
				t.Errorf("%s: image %d scores %v with shared steps, %v without", o, i, got.Scores[i], want.Scores[i])
			}
		}
		wantCount := 3 * (m + 2)
		if o != MoRF {
			wantCount = 3 * m // steps 0 and m+1 known
		}
		if count != wantCount {
			t.Errorf("%s: %d inputs scored, want %d", o, count, wantCount)
		}
	}
	if _, err := Run(g, x.Clone(), rel, targets, Config{Patch: 2, Mode: Zero, Shared: shared}); err == nil {
		t.Error("shared steps accepted other inputs")
	}
	if _, err := Run(g, x, rel, []int{1, 1, 1}, Config{Patch: 2, Mode: Zero, Shared: shared}); err == nil {
		t.Error("shared steps accepted other targets")
	}
}

// DefaultPatch against its definition: the largest p ≤ 8 dividing the size.
func TestDefaultPatch(t *testing.T) {
	for size := 1; size <= 300; size++ {
		want := 1
		for p := 1; p <= 8; p++ {
			if size%p == 0 {
				want = p
			}
		}
		if got := DefaultPatch(size); got != want {
			t.Errorf("DefaultPatch(%d) = %d, want %d", size, got, want)
		}
	}
	for _, c := range [][2]int{{224, 8}, {28, 7}, {32, 8}, {299, 1}} {
		if got := DefaultPatch(c[0]); got != c[1] {
			t.Errorf("DefaultPatch(%d) = %d, want %d", c[0], got, c[1])
		}
	}
}

// Validate refuses what Run refuses, before anything runs.
func TestValidate(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		size int
		want string
	}{
		{Config{}, 28, ""},
		{Config{Patch: 4, Steps: 8}, 28, ""},
		{Config{Patch: -1}, 28, "patch size -1"},
		{Config{Patch: 8}, 28, "not divisible"},
		{Config{Patch: 4, Steps: 9}, 28, "at most 8"},
		{Config{Steps: -2}, 28, "-2 steps"},
		{Config{MaxBatch: -1}, 28, "max batch -1"},
		{Config{Mode: "smudge"}, 28, "smudge"},
		{Config{}, 0, "image size 0"},
	} {
		err := c.cfg.Validate(c.size)
		if (c.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v on %d: %v, want %q", c.cfg, c.size, err, c.want)
		}
	}
}
