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
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/onnx"
	"github.com/xai-go/lrp/tensor"
	"github.com/xai-go/lrp/weights"
)

// testdata/manifest.json, written by testdata/gen.py.
type manifest struct {
	NumClasses int                  `json:"num_classes"`
	Input      string               `json:"input"`
	Models     map[string]modelData `json:"models"`
	LRPResNet  struct {
		State  string   `json:"state"`
		Leaves [][3]any `json:"leaves"`
	} `json:"lrp_resnet"`
}

type modelData struct {
	State       string   `json:"state"`
	Logits      string   `json:"logits"`
	Safetensors string   `json:"safetensors"`
	F32         float64  `json:"float32_rel_diff"`
	Leaves      [][3]any `json:"leaves"` // index, name, type
	Full        [][2]any `json:"full_width_state"`
}

func readManifest(t *testing.T) *manifest {
	t.Helper()
	b, err := os.ReadFile("testdata/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Models) != len(cnnNames()) {
		t.Fatalf("manifest has %d models, want %d", len(m.Models), len(cnnNames()))
	}
	return &m
}

func load(t *testing.T, file string) map[string]*tensor.T {
	t.Helper()
	sd, err := weights.Load(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return sd
}

func npy(t *testing.T, path string) *tensor.T {
	t.Helper()
	x, err := tensor.LoadNpy(path)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// buildNarrow builds arch from its narrow test state, free to take any input size.
func buildNarrow(t *testing.T, m *manifest, arch string) *nn.Graph {
	t.Helper()
	g, err := Build(arch, load(t, m.Models[arch].State))
	if err != nil {
		t.Fatal(err)
	}
	g.InputShape = nil
	return g
}

// relDiff returns max over samples of max|got − want| / max|want|.
func relDiff(t *testing.T, got, want *tensor.T) float64 {
	t.Helper()
	if !tensor.SameShape(got.Shape, want.Shape) {
		t.Fatalf("shape %v, want %v", got.Shape, want.Shape)
	}
	per := want.Len() / want.Shape[0]
	worst := 0.0
	for n := 0; n < want.Shape[0]; n++ {
		var diff, scale float64
		for i := n * per; i < (n+1)*per; i++ {
			diff = max(diff, math.Abs(float64(got.Data[i])-float64(want.Data[i])))
			scale = max(scale, math.Abs(float64(want.Data[i])))
		}
		worst = max(worst, diff/scale)
	}
	return worst
}

func TestNames(t *testing.T) {
	want := []string{"vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn",
		"resnet18", "resnet34", "resnet50", "resnet101", "alexnet", "vit_b_16", "vit_b_32"}
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v", got)
	}
	for _, n := range want {
		if !Known(n) || !strings.HasPrefix(WeightsURL(n), "https://download.pytorch.org/models/"+n+"-") {
			t.Errorf("%s: Known %v, WeightsURL %q", n, Known(n), WeightsURL(n))
		}
	}
	if Known("vgg16bn") || WeightsURL("resnet152") != "" {
		t.Error("unknown names accepted")
	}
	if _, err := Build("resnet152", nil); err == nil || !strings.Contains(err.Error(), "resnet101") {
		t.Errorf("unknown architecture: %v", err)
	}
	if _, err := RandomInit("vgg", 10, 1); err == nil {
		t.Error("RandomInit of an unknown architecture")
	}
}

// TestLogits compares every narrow model with PyTorch's float64 logits.
func TestLogits(t *testing.T) {
	m := readManifest(t)
	x := npy(t, filepath.Join("testdata", m.Input))
	for _, arch := range cnnNames() {
		t.Run(arch, func(t *testing.T) {
			g := buildNarrow(t, m, arch)
			if err := g.CheckInput(x.Shape); err != nil {
				t.Fatal(err)
			}
			got := g.Run(x)
			d := relDiff(t, got, npy(t, filepath.Join("testdata", m.Models[arch].Logits)))
			t.Logf("%s: max|Δlogit| = %.2e × max|logit| (PyTorch float32: %.2e)", arch, d, m.Models[arch].F32)
			if d > 1e-4 {
				t.Errorf("logits differ by %.3g × max|logit|", d)
			}
		})
	}
}

func TestSafetensors(t *testing.T) {
	m := readManifest(t)
	md := m.Models["resnet18"]
	a, b := load(t, md.State), load(t, md.Safetensors)
	if len(a) != len(b) {
		t.Fatalf("%d tensors in .pth, %d in .safetensors", len(a), len(b))
	}
	g1, err := Build("resnet18", a)
	if err != nil {
		t.Fatal(err)
	}
	g2, err := Build("resnet18", b)
	if err != nil {
		t.Fatal(err)
	}
	g1.InputShape, g2.InputShape = nil, nil
	x := npy(t, filepath.Join("testdata", m.Input))
	if y1, y2 := g1.Run(x), g2.Run(x); !slices.Equal(y1.Data, y2.Data) {
		t.Errorf("logits differ: %v vs %v", y1.Data, y2.Data)
	}
}

var leafTypes = map[string]string{
	"Conv2d": "Conv", "BatchNorm2d": "BatchNorm", "ReLU": "ReLU", "MaxPool2d": "MaxPool",
	"Linear": "Linear", "Dropout": "Dropout",
}

// checkLeaves compares g's module nodes with PyTorch's leaf list.
func checkLeaves(t *testing.T, g *nn.Graph, leaves [][3]any) {
	t.Helper()
	used := make([]int, len(leaves))
	for _, n := range g.Nodes {
		if n.Module == 0 {
			if n.Name != "flatten" && !strings.HasSuffix(n.Name, ".add") {
				t.Errorf("node %d %q (%s) has no module", n.Index, n.Name, n.Type())
			}
			continue
		}
		if n.Module > len(leaves) {
			t.Errorf("node %q: Module %d of %d leaves", n.Name, n.Module, len(leaves))
			continue
		}
		l := leaves[n.Module-1]
		if int(l[0].(float64)) != n.Module-1 {
			t.Fatalf("leaf list out of order at %v", l)
		}
		name, typ := l[1].(string), l[2].(string)
		want := name
		if u := used[n.Module-1]; u > 0 {
			want = fmt.Sprintf("%s_%d", name, u)
		}
		used[n.Module-1]++
		if n.Name != want {
			t.Errorf("node %d %q: Module %d is leaf %q, want name %q", n.Index, n.Name, n.Module, name, want)
		}
		wt := leafTypes[typ]
		if typ == "AdaptiveAvgPool2d" {
			wt = "AdaptiveAvgPool"
			if ap := n.Layer.(*nn.AdaptiveAvgPool2d); ap.OutH == 1 && ap.OutW == 1 {
				wt = "GlobalAvgPool"
			}
		}
		if n.Type() != wt {
			t.Errorf("node %q is %s, leaf type %s", n.Name, n.Type(), typ)
		}
	}
	for i, u := range used {
		if u == 0 {
			t.Errorf("leaf %d %v has no node", i, leaves[i])
		}
		if u > 1 && leaves[i][2] != "ReLU" {
			t.Errorf("leaf %v used %d times", leaves[i], u)
		}
	}
}

// TestLeaves checks names and module indices against PyTorch's leaf
// modules (model.modules() order).
func TestLeaves(t *testing.T) {
	m := readManifest(t)
	for _, arch := range cnnNames() {
		t.Run(arch, func(t *testing.T) {
			checkLeaves(t, buildNarrow(t, m, arch), m.Models[arch].Leaves)
		})
	}
	// VGG16: features 0–30, avgpool 31, classifier 32–38.
	g := buildNarrow(t, m, "vgg16")
	for _, n := range g.Nodes {
		want := -1
		switch {
		case strings.HasPrefix(n.Name, "features."):
			fmt.Sscanf(n.Name, "features.%d", &want)
		case n.Name == "avgpool":
			want = 31
		case strings.HasPrefix(n.Name, "classifier."):
			fmt.Sscanf(n.Name, "classifier.%d", &want)
			want += 32
		}
		if want >= 0 && n.LayerIndex() != want {
			t.Errorf("vgg16 %s: layer index %d, want %d", n.Name, n.LayerIndex(), want)
		}
	}
	// ResNet blocks reuse their relu: same Module, distinct names.
	g = buildNarrow(t, m, "resnet50")
	var relus []*nn.Node
	for _, n := range g.Nodes {
		if strings.HasPrefix(n.Name, "layer1.0.relu") {
			relus = append(relus, n)
		}
	}
	if len(relus) != 3 || relus[0].Module != relus[2].Module || relus[2].Name != "layer1.0.relu_2" {
		t.Errorf("resnet50 layer1.0 relus: %v", relus)
	}
}

// TestFullWidth checks the full-width layouts (RandomInit's tensors) against
// torchvision's own models' state_dicts: names, order and shapes.
func TestFullWidth(t *testing.T) {
	m := readManifest(t)
	for _, arch := range cnnNames() {
		ps, err := paramsOf(arch, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := m.Models[arch].Full
		if len(ps) != len(want) {
			t.Errorf("%s: %d tensors, torchvision has %d", arch, len(ps), len(want))
			continue
		}
		for i, p := range ps {
			var shape []int
			for _, d := range want[i][1].([]any) {
				shape = append(shape, int(d.(float64)))
			}
			if p.name != want[i][0] || !slices.Equal(p.shape, shape) && !(len(p.shape) == 0 && len(shape) == 0) {
				t.Errorf("%s tensor %d: %s %v, torchvision %s %v", arch, i, p.name, p.shape, want[i][0], shape)
				break
			}
		}
	}
}

func TestRandomInit(t *testing.T) {
	a, err := RandomInit("resnet18", 10, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := RandomInit("resnet18", 10, 7)
	c, _ := RandomInit("resnet18", 10, 8)
	if !slices.Equal(a["layer3.1.conv2.weight"].Data, b["layer3.1.conv2.weight"].Data) ||
		slices.Equal(a["layer3.1.conv2.weight"].Data, c["layer3.1.conv2.weight"].Data) {
		t.Error("RandomInit is not a function of the seed")
	}
	if s := a["fc.weight"].Shape; !slices.Equal(s, []int{10, 512}) {
		t.Errorf("fc.weight %v", s)
	}
	if _, ok := a["bn1.num_batches_tracked"]; !ok {
		t.Error("no num_batches_tracked")
	}
	g, err := Build("resnet18", a)
	if err != nil {
		t.Fatal(err)
	}
	g.InputShape = nil
	x := tensor.New(1, 3, 64, 64)
	for i := range x.Data {
		x.Data[i] = float32(math.Sin(float64(i)))
	}
	y := g.Run(x)
	var s float64
	for _, v := range y.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("logits %v", y.Data)
		}
		s = max(s, math.Abs(float64(v)))
	}
	if s < 1e-2 || s > 1e3 {
		t.Errorf("max |logit| %g", s)
	}
}

// TestBadState checks that missing, unexpected and mis-shaped tensors are
// all named in one error.
func TestBadState(t *testing.T) {
	m := readManifest(t)
	fresh := func(arch string) map[string]*tensor.T { return load(t, m.Models[arch].State) }

	sd := fresh("vgg16")
	delete(sd, "features.0.bias")
	sd["features.99.weight"] = tensor.New(3)
	sd["features.5.num_batches_tracked"] = tensor.New() // no BatchNorm there
	sd["classifier.3.weight"] = tensor.New(12, 11)
	_, err := Build("vgg16", sd)
	if err == nil {
		t.Fatal("bad state accepted")
	}
	for _, s := range []string{"1 missing: features.0.bias [4]", "2 unexpected: features.5.num_batches_tracked [], features.99.weight [3]",
		"1 with the wrong shape: classifier.3.weight is [12 11], want [12 12]"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}

	// a resnet18 state for vgg16
	_, err = Build("vgg16", fresh("resnet18"))
	if err == nil || !strings.Contains(err.Error(), "missing: features.0.weight") ||
		!strings.Contains(err.Error(), "unexpected: bn1.bias") || !strings.Contains(err.Error(), "the tensors fit resnet18") {
		t.Errorf("resnet18 state for vgg16: %v", err)
	}
	// a vgg16_bn state for vgg16: features.1 is a BatchNorm there
	_, err = Build("vgg16", fresh("vgg16_bn"))
	if err == nil || !strings.Contains(err.Error(), "the tensors fit vgg16_bn") {
		t.Errorf("vgg16_bn state for vgg16: %v", err)
	}

	// a DataParallel state
	sd = map[string]*tensor.T{}
	for k, v := range fresh("alexnet") {
		sd["module."+k] = v
	}
	if _, err = Build("alexnet", sd); err == nil || !strings.Contains(err.Error(), `"module."`) {
		t.Errorf("prefixed state: %v", err)
	}

	// a width inconsistency inside a block: conv2 of a BasicBlock must keep conv1's width
	sd = fresh("resnet18")
	sd["layer2.0.conv2.weight"] = tensor.New(8, 4, 3, 3)
	if _, err = Build("resnet18", sd); err == nil || !strings.Contains(err.Error(), "layer2.0.conv2.weight is [8 4 3 3], want [8 8 3 3]") {
		t.Errorf("inconsistent block: %v", err)
	}
	// a downsample where torchvision has none
	sd = fresh("resnet18")
	sd["layer1.0.downsample.0.weight"] = tensor.New(4, 4, 1, 1)
	if _, err = Build("resnet18", sd); err == nil || !strings.Contains(err.Error(), "unexpected: layer1.0.downsample.0.weight") {
		t.Errorf("extra downsample: %v", err)
	}
	// a state that is empty or has nil tensors
	if _, err = Build("alexnet", nil); err == nil || !strings.Contains(err.Error(), "16 missing") {
		t.Errorf("empty state: %v", err)
	}
	sd = fresh("alexnet")
	sd["features.0.weight"] = nil
	if _, err = Build("alexnet", sd); err == nil || !strings.Contains(err.Error(), "features.0.weight is nil") {
		t.Errorf("nil tensor: %v", err)
	}

	// num_batches_tracked is optional
	sd = fresh("vgg11_bn")
	for k := range sd {
		if strings.HasSuffix(k, "num_batches_tracked") {
			delete(sd, k)
		}
	}
	if _, err = Build("vgg11_bn", sd); err != nil {
		t.Errorf("without num_batches_tracked: %v", err)
	}
}

// TestWidthInference builds a VGG16 whose avgpool is 1×1 (as the LRP
// reference's vgg), inferred from the classifier's input width.
func TestWidthInference(t *testing.T) {
	m := readManifest(t)
	sd := load(t, m.Models["vgg16"].State)
	w := sd["classifier.0.weight"] // 12 × 16·7·7
	sd["classifier.0.weight"] = tensor.FromData(w.Data[:12*16], 12, 16)
	g, err := Build("vgg16", sd)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range g.Nodes {
		if n.Name == "avgpool" && n.Type() != "GlobalAvgPool" {
			t.Errorf("avgpool is %s", n.Type())
		}
	}
	sd["classifier.0.weight"] = tensor.FromData(w.Data[:12*16*5], 12, 16*5)
	if _, err := Build("vgg16", sd); err == nil || !strings.Contains(err.Error(), "classifier.0.weight is [12 80], want [12 784]") {
		t.Errorf("non-square pooling: %v", err)
	}
}

// TestLRPTutorial checks that the thesis preset lrp-tutorial assigns its
// rules by PyTorch leaf index on the native VGG16: box on features.0, γ
// on the convolutions within 1–16, ε on those within 17–30, LRP-0 on the
// classifier's linear layers 32, 35, 38 (and on avgpool, 31, which the
// preset's "31-" includes).
func TestLRPTutorial(t *testing.T) {
	m := readManifest(t)
	g := buildNarrow(t, m, "vgg16")
	c, err := lrp.LookupComposite("lrp-tutorial")
	if err != nil {
		t.Fatal(err)
	}
	low, high := tensor.FromData([]float32{-2.2}, 1), tensor.FromData([]float32{2.7}, 1)
	rm, err := c.Build(g, lrp.Params{Low: low, High: high})
	if err != nil {
		t.Fatal(err)
	}
	e, err := lrp.NewExplainer(g, rm)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, r := range e.Rules {
		if r == nil {
			continue
		}
		n := e.Graph.Nodes[i]
		var kind string
		switch r := r.(type) {
		case *lrp.ZBox:
			kind = "zbox"
		case *lrp.Gamma:
			kind = fmt.Sprintf("gamma(%g)", r.Gamma)
		case *lrp.Epsilon:
			kind = "zero"
			if r.Eps != lrp.Stabilizer {
				kind = fmt.Sprintf("epsilon(%g)", r.Eps)
			}
		default:
			kind = r.String()
		}
		got = append(got, fmt.Sprintf("%d %s %s", n.LayerIndex(), n.Name, kind))
	}
	want := []string{"0 features.0 zbox"}
	for _, i := range []int{2, 5, 7, 10, 12, 14} {
		want = append(want, fmt.Sprintf("%d features.%d gamma(0.25)", i, i))
	}
	for _, i := range []int{17, 19, 21, 24, 26, 28} {
		want = append(want, fmt.Sprintf("%d features.%d epsilon(0.25)", i, i))
	}
	want = append(want, "31 avgpool zero", "32 classifier.0 zero", "35 classifier.3 zero", "38 classifier.6 zero")
	if !slices.Equal(got, want) {
		t.Errorf("rules\n got %q\nwant %q", got, want)
	}
	x := npy(t, filepath.Join("testdata", m.Input))
	res, err := e.Explain(x, lrp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range res.Relevance.Data {
		if math.IsNaN(float64(v)) {
			t.Fatal("NaN relevance")
		}
	}
}

// lrpRef is the part of lrp/testdata/manifest.json the ResNet check uses.
type lrpRef struct {
	Models map[string]struct {
		ONNX, Input, Logits, Low, High string
		Targets                        []int
	} `json:"models"`
	Goldens []struct {
		Model, Config, Relevance string
		Tolerance                float64 `json:"tolerance_rel"`
	} `json:"goldens"`
}

// TestLRPResNetGolden explains the LRP reference ResNet
// (../../testdata/models/resnet.onnx: torchvision's ResNet with one
// BasicBlock per layer; its state_dict rebuilt by testdata/gen.py), built
// natively, with the epsilon-gamma-box composite and compares with the
// reference relevance.
func TestLRPResNetGolden(t *testing.T) {
	m := readManifest(t)
	dir := filepath.Join("..", "..", "testdata")
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref lrpRef
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	md := ref.Models["resnet"]
	g, err := build1111(load(t, m.LRPResNet.State))
	if err != nil {
		t.Fatal(err)
	}
	g.InputShape = nil
	checkLeaves(t, g, m.LRPResNet.Leaves)

	// node names match those package onnx gives the exported model
	og, err := onnx.Load(filepath.Join(dir, md.ONNX))
	if err != nil {
		t.Fatal(err)
	}
	onnxNames := map[string]string{}
	for _, n := range og.Nodes {
		onnxNames[n.Name] = n.Type()
	}
	for _, n := range g.Nodes {
		if typ, ok := onnxNames[n.Name]; n.Module > 0 && (!ok || typ != n.Type()) {
			t.Errorf("node %q (%s): onnx has %q", n.Name, n.Type(), typ)
		}
	}

	x := npy(t, filepath.Join(dir, md.Input))
	if d := relDiff(t, g.Run(x), npy(t, filepath.Join(dir, md.Logits))); d > 1e-4 {
		t.Errorf("logits differ by %.3g × max|logit|", d)
	}
	c, err := lrp.LookupComposite("epsilon-gamma-box")
	if err != nil {
		t.Fatal(err)
	}
	rm, err := c.Build(g, lrp.Params{Low: npy(t, filepath.Join(dir, md.Low)), High: npy(t, filepath.Join(dir, md.High))})
	if err != nil {
		t.Fatal(err)
	}
	e, err := lrp.NewExplainer(g, rm)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Explain(x, lrp.Options{Targets: md.Targets})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, gd := range ref.Goldens {
		if gd.Model != "resnet" || gd.Config != "epsilon-gamma-box" {
			continue
		}
		n++
		d := relDiff(t, res.Relevance, npy(t, filepath.Join(dir, gd.Relevance)))
		t.Logf("resnet epsilon-gamma-box: max|ΔR| = %.2e × max|R| (tolerance %g)", d, gd.Tolerance)
		if d > gd.Tolerance {
			t.Errorf("relevance differs by %.3g × max|R| (tolerance %g)", d, gd.Tolerance)
		}
	}
	if n != 1 {
		t.Fatalf("%d resnet epsilon-gamma-box goldens", n)
	}
}

// build1111 builds torchvision's ResNet with one BasicBlock per layer, the
// LRP reference's topology.
func build1111(state map[string]*tensor.T) (*nn.Graph, error) {
	return build("resnet", resnetBuilder(false, [4]int{1, 1, 1, 1}), state)
}

func TestImageNetClasses(t *testing.T) {
	c := ImageNetClasses()
	if len(c) != 1000 || c[0] != "tench" || c[1] != "goldfish" || c[999] != "toilet tissue" {
		t.Fatalf("%d classes: %q … %q", len(c), c[:2], c[len(c)-1])
	}
	c[0] = "x"
	if ImageNetClasses()[0] != "tench" {
		t.Error("ImageNetClasses shares its slice")
	}
	for i, s := range c {
		if s == "" || strings.TrimSpace(s) != s {
			t.Errorf("class %d %q", i, s)
		}
	}
}

// cnnNames are the architectures of testdata/manifest.json (gen.py); the
// ViTs have their own (vit_test.go).
func cnnNames() []string {
	return slices.DeleteFunc(Names(), func(n string) bool { return strings.HasPrefix(n, "vit_") })
}
