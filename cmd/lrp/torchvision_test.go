package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
	"github.com/xai-go/lrp/weights"
)

const torchvisionData = "../../models/torchvision/testdata/"

func finalOutputs(t *testing.T, g *nn.Graph) int {
	t.Helper()
	l, ok := g.Nodes[len(g.Nodes)-1].Layer.(*nn.Linear)
	if !ok {
		t.Fatalf("last node %q is not linear", g.Nodes[len(g.Nodes)-1].Name)
	}
	return l.W.Shape[0]
}

func TestTorchvisionModel(t *testing.T) {
	if !isTorchvision("vgg16") || isTorchvision("vgg16.onnx") || isTorchvision("mnist") {
		t.Error("isTorchvision")
	}
	// narrow test weights (7 classes), .pth and .safetensors
	for _, f := range []string{"vgg16.pth", "resnet18.safetensors"} {
		arch := strings.TrimSuffix(strings.TrimSuffix(f, ".pth"), ".safetensors")
		g, err := torchvisionModel(arch, torchvisionData+f, false, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n := finalOutputs(t, g); n != 7 {
			t.Errorf("%s: %d classes", f, n)
		}
		if _, err := torchvisionModel(arch, torchvisionData+f, false, 0, 7); err != nil {
			t.Errorf("--num-classes 7: %v", err)
		}
	}
	// --num-classes is checked against the weights
	_, err := torchvisionModel("vgg16", torchvisionData+"vgg16.pth", false, 0, 1000)
	if err == nil || !strings.Contains(err.Error(), "--num-classes 1000") || !strings.Contains(err.Error(), "classifier.6") {
		t.Errorf("wrong --num-classes: %v", err)
	}
	// random init, with a fine-tuned head size
	g, err := torchvisionModel("resnet18", "", true, 3, 10)
	if err != nil {
		t.Fatal(err)
	}
	if n := finalOutputs(t, g); n != 10 {
		t.Errorf("random init: %d classes", n)
	}
	if s := g.InputShape; len(s) != 4 || s[2] != 224 {
		t.Errorf("input shape %v", s)
	}

	// a DataParallel state_dict
	sd, err := weights.Load(torchvisionData + "alexnet.pth")
	if err != nil {
		t.Fatal(err)
	}
	pre := map[string]*tensor.T{}
	for k, v := range sd {
		pre["module."+k] = v
	}
	if got := stripModulePrefix(pre); len(got) != len(sd) || got["features.0.weight"] != sd["features.0.weight"] {
		t.Error("module. prefix not removed")
	}
	if got := stripModulePrefix(sd); len(got) != len(sd) || got["features.0.weight"] != sd["features.0.weight"] {
		t.Error("state changed")
	}

	for _, c := range []struct {
		spec, weights string
		random        bool
		want          []string
	}{
		{"vgg16", "", false, []string{"https://download.pytorch.org/models/vgg16-397923af.pth", "--weights vgg16-397923af.pth", "--random-init --seed"}},
		{"resnet50", "", false, []string{"resnet50-0676ba61.pth"}},
		{"vgg16", torchvisionData + "vgg16.pth", true, []string{"not both"}},
		{"vgg17", "", true, []string{"not a torchvision architecture", "vgg19_bn"}},
		{"vgg16", torchvisionData + "resnet18.pth", false, []string{"resnet18.pth", "missing: features.0.weight", "the tensors fit resnet18"}},
		{"vgg16", filepath.Join(t.TempDir(), "none.pth"), false, []string{"none.pth"}},
	} {
		_, err := torchvisionModel(c.spec, c.weights, c.random, 0, 0)
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s %q random=%v: error %v, want it to contain %q", c.spec, c.weights, c.random, err, w)
			}
		}
	}
}
