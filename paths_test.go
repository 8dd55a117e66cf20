package lrp_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/xai-go/lrp"
	"github.com/xai-go/lrp/models/torchvision"
	"github.com/xai-go/lrp/tensor"
)

// TestExplainPathsAgree checks that the memory-saving paths of Explain
// (values computed by Explain itself: element-wise outputs dropped and
// recomputed, dead values and relevance recycled) give bit for bit the
// relevance of an explanation from precomputed values and of one that
// keeps every layer, on networks whose activations are large enough to be
// recycled, over repeated calls.
func TestExplainPathsAgree(t *testing.T) {
	for _, c := range []struct {
		arch, comp string
		n, size    int
	}{
		{"resnet18", "epsilon-gamma-box", 2, 64},
		{"resnet18", "epsilon-alpha2-beta1-flat", 2, 64},
		{"resnet18", "lrp-tutorial", 2, 64},
		// Transformers drop the query, key and value slices, the
		// transposes around the heads and the GELU outputs.
		{"vit_b_32", "attnlrp", 2, 224},
	} {
		arch, comp := c.arch, c.comp
		x := randomInput(1, c.n, c.size)
		{
			e := randomExplainer(t, arch, 3, c.size, comp)
			want, err := e.Explain(x, lrp.Options{Values: e.Graph.Forward(x)})
			if err != nil {
				t.Fatal(err)
			}
			// Concurrent calls share the free list of recycled buffers.
			var wg sync.WaitGroup
			got := make([]*lrp.Result, 2)
			errs := make([]error, 2)
			for k := range got {
				wg.Go(func() { got[k], errs[k] = e.Explain(x, lrp.Options{}) })
			}
			wg.Wait()
			for k := range got {
				if errs[k] != nil {
					t.Fatal(errs[k])
				}
				if !slices.Equal(got[k].Relevance.Data, want.Relevance.Data) {
					t.Fatalf("%s %s: concurrent call %d differs", arch, comp, k)
				}
			}
			for call, opt := range []lrp.Options{{}, {KeepLayers: true}, {}, {Values: e.Graph.Forward(x)}} {
				got, err := e.Explain(x, opt)
				if err != nil {
					t.Fatal(err)
				}
				for i, v := range want.Relevance.Data {
					if got.Relevance.Data[i] != v {
						t.Fatalf("%s %s call %d: relevance[%d] = %g, want %g", arch, comp, call, i, got.Relevance.Data[i], v)
					}
				}
			}
		}
	}
}

// TestAttributeInBatches checks that explaining a batch in slices gives
// each sample the relevance, logits and target of explaining it whole, and
// that per-sample targets follow their samples.
func TestAttributeInBatches(t *testing.T) {
	x := randomInput(3, 5, 32)
	e := randomExplainer(t, "resnet18", 5, 32, "epsilon-gamma-box")
	for _, targets := range [][]int{nil, {7}, {1, 2, 3, 4, 5}} {
		want, err := e.Attribute(x, targets)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{1, 2, 5, 9} {
			got, err := lrp.AttributeInBatches(e, x, targets, size)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Targets, want.Targets) {
				t.Fatalf("targets %v, size %d: got targets %v, want %v", targets, size, got.Targets, want.Targets)
			}
			if !tensor.SameShape(got.Relevance.Shape, want.Relevance.Shape) || !tensor.SameShape(got.Logits.Shape, want.Logits.Shape) {
				t.Fatalf("size %d: shapes %v %v, want %v %v", size, got.Relevance.Shape, got.Logits.Shape, want.Relevance.Shape, want.Logits.Shape)
			}
			// Stated tolerance: 1e-5 of the largest |value| of each sample
			// (a convolution may sum in another order at another batch size).
			for _, p := range [][2]*tensor.T{{got.Relevance, want.Relevance}, {got.Logits, want.Logits}} {
				for n := range 5 {
					a, b := p[0].Batch(n).Data, p[1].Batch(n).Data
					var scale, diff float64
					for i := range b {
						scale = max(scale, math.Abs(float64(b[i])))
						diff = max(diff, math.Abs(float64(a[i])-float64(b[i])))
					}
					if diff > 1e-5*scale {
						t.Fatalf("targets %v, size %d, sample %d: max difference %g of max %g", targets, size, n, diff, scale)
					}
				}
			}
		}
	}
	// Random baselines draw per sample: slicing changes nothing, and
	// samples differ.
	for _, a := range []lrp.Attributor{&lrp.Random{Graph: e.Graph, Seed: 9}, &lrp.SmoothGrad{Graph: e.Graph, Seed: 9, Samples: 3}} {
		want, err := a.Attribute(x, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := lrp.AttributeInBatches(a, x, nil, 2)
		if err != nil {
			t.Fatal(err)
		}
		// Exact for Random; SmoothGrad's gradients may sum in another
		// order at another batch size (tolerance 1e-5 of max |R|).
		var diff, scale float64
		for i, v := range want.Relevance.Data {
			scale = max(scale, math.Abs(float64(v)))
			diff = max(diff, math.Abs(float64(got.Relevance.Data[i])-float64(v)))
		}
		if _, isRandom := a.(*lrp.Random); (isRandom && diff != 0) || diff > 1e-5*scale {
			t.Errorf("%T: relevance in batches of 2 differs from the whole batch's by %g (max %g)", a, diff, scale)
		}
		if slices.Equal(want.Relevance.Batch(0).Data[:100], want.Relevance.Batch(2).Data[:100]) {
			t.Errorf("%T: samples 0 and 2 got the same values", a)
		}
	}
	if _, err := lrp.AttributeInBatches(e, x, []int{1, 2}, 2); err == nil {
		t.Fatal("2 targets for 5 samples: no error")
	}
	if _, err := lrp.AttributeInBatches(e, x, nil, 0); err == nil {
		t.Fatal("batch size 0: no error")
	}
}

// randomInput returns n standard-normal 3×size×size images.
func randomInput(seed uint64, n, size int) *tensor.T {
	r := rand.New(rand.NewPCG(seed, 2))
	x := tensor.New(n, 3, size, size)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	return x
}

// randomExplainer returns an explainer for the torchvision architecture
// arch with random weights (10 classes) on size×size inputs, under the
// named composite with box bounds ±3.
func randomExplainer(t *testing.T, arch string, seed uint64, size int, composite string) *lrp.Explainer {
	t.Helper()
	state, err := torchvision.RandomInit(arch, 10, seed)
	if err != nil {
		t.Fatal(err)
	}
	g, err := torchvision.Build(arch, state)
	if err != nil {
		t.Fatal(err)
	}
	g.InputShape = []int{-1, 3, size, size}
	c, err := lrp.LookupComposite(composite)
	if err != nil {
		t.Fatal(err)
	}
	rm, err := c.Build(g, lrp.Params{Low: tensor.FromData([]float32{-3}, 1), High: tensor.FromData([]float32{3}, 1)})
	if err != nil {
		t.Fatal(err)
	}
	e, err := lrp.NewExplainer(g, rm)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestEmptyBatch checks that every attribution method refuses a batch of
// no samples with an error instead of dividing by zero.
func TestEmptyBatch(t *testing.T) {
	e := randomExplainer(t, "resnet18", 5, 32, "epsilon-gamma-box")
	x := tensor.New(0, 3, 32, 32)
	for _, a := range []lrp.Attributor{e, &lrp.Random{Graph: e.Graph}, &lrp.SmoothGrad{Graph: e.Graph, Samples: 2},
		&lrp.Gradient{Graph: e.Graph}, &lrp.IntegratedGradients{Graph: e.Graph, Steps: 2},
		&lrp.Occlusion{Graph: e.Graph, Window: [2]int{8, 8}, Stride: [2]int{8, 8}}} {
		_, err := lrp.AttributeInBatches(a, x, nil, 2)
		if err == nil || !strings.Contains(err.Error(), "empty") {
			t.Errorf("%T: error %v, want one saying the input is empty", a, err)
		}
	}
}
