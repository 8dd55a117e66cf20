package torchvision

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xai-go/lrp"
	"github.com/xai-go/lrp/tensor"
)

// testdata/vit.json, written by testdata/gen_vit.py.
type vitData struct {
	Arch   string      `json:"arch"`
	Patch  int         `json:"patch"`
	Heads  int         `json:"heads"`
	Image  int         `json:"image"`
	State  string      `json:"state"`
	Input  string      `json:"input"`
	Logits string      `json:"logits"`
	Leaves [][2]string `json:"leaves"`
	Full   [][2]any    `json:"full_width_state"`
}

func readViT(t *testing.T) map[string]vitData {
	t.Helper()
	b, err := os.ReadFile("testdata/vit.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]vitData
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Narrow ViTs (torchvision's VisionTransformer, few heads, width 16)
// against PyTorch's float64 logits; AttnLRP runs on them.
func TestViTLogits(t *testing.T) {
	for _, name := range []string{"vit_p16", "vit_p32"} {
		t.Run(name, func(t *testing.T) {
			d := readViT(t)[name]
			g, err := build(d.Arch, vitLayout(d.Patch, 12, d.Heads), load(t, d.State))
			if err != nil {
				t.Fatal(err)
			}
			if want := []int{-1, 3, d.Image, d.Image}; !slices.Equal(g.InputShape, want) {
				t.Errorf("input shape %v, want %v (from pos_embedding)", g.InputShape, want)
			}
			x := npy(t, filepath.Join("testdata", d.Input))
			if err := g.CheckInput(x.Shape); err != nil {
				t.Fatal(err)
			}
			if diff := relDiff(t, g.Run(x), npy(t, filepath.Join("testdata", d.Logits))); diff > 1e-4 {
				t.Errorf("logits differ from PyTorch by %.3g relative", diff)
			}
			// Leaf modules in torchvision's order, with the node names.
			b := newBuilder(d.Arch, load(t, d.State), 1000)
			vitLayout(d.Patch, 12, d.Heads)(b)
			var got [][2]string
			for _, l := range b.leaves {
				got = append(got, [2]string{l.name, l.typ})
			}
			if !slices.Equal(got, d.Leaves) {
				t.Errorf("leaves\n%v\nwant\n%v", got, d.Leaves)
			}
			for _, n := range g.Nodes {
				if n.Module > 0 && !strings.HasPrefix(n.Name, b.leaves[n.Module-1].name) {
					t.Errorf("node %q has module %q", n.Name, b.leaves[n.Module-1].name)
				}
			}
			c, _ := lrp.LookupComposite("attnlrp")
			rm, err := c.Build(g, lrp.Params{})
			if err != nil {
				t.Fatal(err)
			}
			e, err := lrp.NewExplainer(g, rm)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Explain(x, lrp.Options{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// The full-width layouts match torchvision's vit_b_16 and vit_b_32
// state_dicts (names, order, shapes), and RandomInit builds.
func TestViTFullWidth(t *testing.T) {
	m := readViT(t)
	for _, arch := range []string{"vit_b_16", "vit_b_32"} {
		ps, err := paramsOf(arch, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := m[arch].Full
		if len(ps) != len(want) {
			t.Fatalf("%s: %d tensors, torchvision has %d", arch, len(ps), len(want))
		}
		for i, p := range ps {
			var shape []int
			for _, d := range want[i][1].([]any) {
				shape = append(shape, int(d.(float64)))
			}
			if p.name != want[i][0] || !slices.Equal(p.shape, shape) {
				t.Fatalf("%s tensor %d: %s %v, torchvision %s %v", arch, i, p.name, p.shape, want[i][0], shape)
			}
		}
		state, err := RandomInit(arch, 10, 1)
		if err != nil {
			t.Fatal(err)
		}
		g, err := Build(arch, state)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.CheckInput([]int{2, 3, 224, 224}); err != nil {
			t.Error(err)
		}
	}
	// A vit_b_32 state is not a vit_b_16 one: the error names the patch
	// embedding.
	_, err := Build("vit_b_16", load(t, m["vit_p32"].State))
	if err == nil || !strings.Contains(err.Error(), "conv_proj.weight") {
		t.Errorf("vit_b_32 state as vit_b_16: %v", err)
	}
}

// BenchmarkViTB16 times ViT-B/16 (random weights) at 224×224: forward and
// AttnLRP explanation, batch 1 and 8. bench/compare.sh compares the same
// configurations with PyTorch in one run (CONFIGS=vit_b_16:…).
func BenchmarkViTB16(b *testing.B) {
	state, err := RandomInit("vit_b_16", 1000, 0)
	if err != nil {
		b.Fatal(err)
	}
	g, err := Build("vit_b_16", state)
	if err != nil {
		b.Fatal(err)
	}
	c, _ := lrp.LookupComposite("attnlrp")
	rm, err := c.Build(g, lrp.Params{})
	if err != nil {
		b.Fatal(err)
	}
	e, err := lrp.NewExplainer(g, rm)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 8} {
		x := tensor.New(n, 3, 224, 224)
		for i := range x.Data {
			x.Data[i] = float32(math.Sin(float64(i)))
		}
		b.Run(fmt.Sprintf("forward/batch=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tensor.Recycle(g.Run(x))
			}
			b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N)/float64(n), "s/image")
		})
		b.Run(fmt.Sprintf("attnlrp/batch=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Explain(x, lrp.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N)/float64(n), "s/image")
		})
	}
}
