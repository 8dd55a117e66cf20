package lrp_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/xai-go/lrp"
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// TestNewAttributorGoldens builds every method by name, as the CLI does,
// and compares with the goldens of the PyTorch reference: "lrp:NAME" for
// each composite, plain "lrp" with no rule map for the default composite,
// and the baselines with the parameters the reference used.
func TestNewAttributorGoldens(t *testing.T) {
	m := readManifest(t)
	n := 0
	for _, gd := range m.Goldens {
		md := m.Models[gd.Model]
		opt := lrp.MethodOptions{Params: lrp.Params{Low: loadNpy(t, md.Low), High: loadNpy(t, md.High)}}
		var methods []string
		switch {
		case gd.Composite != nil:
			methods = []string{"lrp:" + gd.Composite.Name}
			if gd.Composite.Name == lrp.DefaultComposite {
				methods = append(methods, "lrp")
			}
		case gd.Method == "gradient", gd.Method == "integrated-gradients", gd.Method == "occlusion":
			methods = []string{gd.Method}
		case gd.Method == "gradient-x-input":
			methods = []string{"gradxinput"}
		default:
			continue
		}
		switch gd.Method {
		case "integrated-gradients":
			opt.Steps = int(gd.Params["steps"].(float64))
		case "occlusion":
			w, s := gd.Params["window"].([]any), gd.Params["stride"].([]any)
			opt.Window = [2]int{int(w[0].(float64)), int(w[1].(float64))}
			opt.Stride = [2]int{int(s[0].(float64)), int(s[1].(float64))}
			opt.Fill = float32(gd.Params["fill"].(float64))
		}
		for _, method := range methods {
			n++
			t.Run(gd.Model+"/"+method, func(t *testing.T) {
				a, err := lrp.NewAttributor(method, graphFor(t, m, gd.Model), opt)
				if err != nil {
					t.Fatal(err)
				}
				res, err := a.Attribute(loadNpy(t, md.Input), md.Targets)
				if err != nil {
					t.Fatal(err)
				}
				compare(t, res.Relevance, loadNpy(t, gd.Relevance), gd.Tolerance)
			})
		}
	}
	if n < 20 {
		t.Errorf("only %d goldens checked", n)
	}
}

func TestMethodRegistry(t *testing.T) {
	want := []string{"gradient", "gradxinput", "integrated-gradients", "lrp", "occlusion", "random", "smoothgrad"}
	if got := lrp.MethodNames(); !slices.Equal(got, want) {
		t.Errorf("MethodNames() = %v, want %v", got, want)
	}
	g := graphFor(t, readManifest(t), "vgg")
	for _, c := range []struct{ method, want string }{
		{"nosuch", `unknown method "nosuch"`},
		{"gradient:epsilon-plus", "only lrp takes a composite"},
		{"lrp:nosuch", `unknown composite "nosuch"`},
		{"lrp", "box rule needs low and high bounds"}, // the default composite without bounds
	} {
		_, err := lrp.NewAttributor(c.method, g, lrp.MethodOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.method, err, c.want)
		}
	}
	if _, err := lrp.NewAttributor("smoothgrad", g, lrp.MethodOptions{Samples: -1}); err == nil {
		t.Error("smoothgrad with -1 samples: no error")
	}
	defer func() {
		if recover() == nil {
			t.Error("registering lrp twice did not panic")
		}
	}()
	lrp.RegisterMethod(lrp.Method{Name: "lrp", New: func(*nn.Graph, lrp.MethodOptions) (lrp.Attributor, error) { return nil, nil }})
}

// TestExplainerBuiltOnce checks that an explainer built once and used for
// batch after batch (its cached modified weights reused) gives exactly the
// relevance of explainers built afresh for every batch.
func TestExplainerBuiltOnce(t *testing.T) {
	x := randomInput(11, 4, 32)
	once := randomExplainer(t, "resnet18", 3, 32, "epsilon-gamma-box")
	for b := 0; b < 2; b++ {
		part := &tensor.T{Shape: []int{2, 3, 32, 32}, Data: x.Data[b*2*3*32*32 : (b+1)*2*3*32*32]}
		got, err := once.Attribute(part, nil)
		if err != nil {
			t.Fatal(err)
		}
		fresh := randomExplainer(t, "resnet18", 3, 32, "epsilon-gamma-box")
		want, err := fresh.Attribute(part, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Relevance.Data, want.Relevance.Data) {
			t.Fatalf("batch %d: relevance of the explainer built once differs from a fresh one's", b)
		}
	}
}
