package lrp_test

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/xai-go/lrp/lrp"
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
	r := rand.New(rand.NewPCG(1, 2))
	x := tensor.New(2, 3, 64, 64)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	for _, arch := range []string{"resnet18"} {
		state, err := torchvision.RandomInit(arch, 10, 3)
		if err != nil {
			t.Fatal(err)
		}
		g, err := torchvision.Build(arch, state)
		if err != nil {
			t.Fatal(err)
		}
		g.InputShape = []int{-1, 3, 64, 64}
		for _, comp := range []string{"epsilon-gamma-box", "epsilon-alpha2-beta1-flat"} {
			c, err := lrp.LookupComposite(comp)
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
