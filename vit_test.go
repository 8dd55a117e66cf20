package lrp_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/xai-go/lrp"
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/onnx"
	"github.com/xai-go/lrp/tensor"
)

// AttnLRP and CP-LRP on a narrow torchvision ViT (trained a little),
// against the float64 reference of testdata/gen_vit.py, which agrees with
// LXT's own code.

type vitManifest struct {
	ONNX    string `json:"onnx"`
	Input   string `json:"input"`
	Targets []int  `json:"targets"`
	Goldens []struct {
		Composite string             `json:"composite"`
		Params    map[string]float64 `json:"params"`
		Relevance string             `json:"relevance"`
	} `json:"goldens"`
}

func loadViT(t *testing.T) (*vitManifest, *nn.Graph, *tensor.T) {
	t.Helper()
	dir := "testdata/vit"
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m vitManifest
	if err := json.Unmarshal(b, &m); err != nil || len(m.Goldens) == 0 {
		t.Fatalf("manifest: %v", err)
	}
	g, err := onnx.Load(filepath.Join(dir, m.ONNX))
	if err != nil {
		t.Fatal(err)
	}
	x, err := tensor.LoadNpy(filepath.Join(dir, m.Input))
	if err != nil {
		t.Fatal(err)
	}
	return &m, g, x
}

func vitParams(p map[string]float64) lrp.Params {
	var out lrp.Params
	if v, ok := p["epsilon"]; ok {
		out.Epsilon = lrp.Float(v)
	}
	if v, ok := p["gamma"]; ok {
		out.Gamma = lrp.Float(v)
	}
	return out
}

func TestViTGoldens(t *testing.T) {
	m, g, x := loadViT(t)
	for _, gold := range m.Goldens {
		t.Run(gold.Relevance, func(t *testing.T) {
			c, err := lrp.LookupComposite(gold.Composite)
			if err != nil {
				t.Fatal(err)
			}
			rm, err := c.Build(g, vitParams(gold.Params))
			if err != nil {
				t.Fatal(err)
			}
			e, err := lrp.NewExplainer(g, rm)
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.Explain(x, lrp.Options{Targets: m.Targets})
			if err != nil {
				t.Fatal(err)
			}
			want, err := tensor.LoadNpy(filepath.Join("testdata/vit", gold.Relevance))
			if err != nil {
				t.Fatal(err)
			}
			var maxDiff, maxWant float64
			for i, w := range want.Data {
				maxDiff = max(maxDiff, math.Abs(float64(res.Relevance.Data[i])-float64(w)))
				maxWant = max(maxWant, math.Abs(float64(w)))
			}
			t.Logf("max diff %.3g of max |R| %.3g", maxDiff/maxWant, maxWant)
			if d := maxDiff / maxWant; d > 1e-4 || maxWant == 0 {
				t.Errorf("relevance differs from the float64 reference by %.3g of max |R| (tolerance 1e-4)", d)
			}
		})
	}
}
