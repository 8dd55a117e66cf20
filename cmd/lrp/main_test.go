package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xai-go/lrp/tensor"
)

const onnxModels = "../../onnx/testdata/models/"

func TestPredictWritesLogits(t *testing.T) {
	out := filepath.Join(t.TempDir(), "logits.npy")
	var stdout bytes.Buffer
	err := run([]string{"predict", "--model", onnxModels + "resnet18.onnx", "--input", onnxModels + "input_64.npy", "--top", "3", "--out", out, "--batch-size", "1"}, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tensor.LoadNpy(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := tensor.LoadNpy(onnxModels + "resnet18.logits.npy")
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Data {
		if math.Abs(float64(got.Data[i]-want.Data[i])) > 1e-4*20 {
			t.Fatalf("logit %d = %g, PyTorch %g", i, got.Data[i], want.Data[i])
		}
	}
	if n := strings.Count(stdout.String(), "  1. class"); n != 2 {
		t.Errorf("printed %d top-1 lines for 2 inputs:\n%s", n, stdout.String())
	}
}

func TestLayers(t *testing.T) {
	var stdout bytes.Buffer
	if err := run([]string{"layers", "--model", onnxModels + "vgg16.onnx"}, &stdout); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"features.0 ", "Conv", "classifier.6", "1x10"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("layer list lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	notImage := filepath.Join(dir, "x.png")
	os.WriteFile(notImage, []byte("not a png"), 0o644)
	out := filepath.Join(dir, "out.npy")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"predict", "--input", onnxModels + "input_64.npy"}, "model mnist: input shape"},
		{[]string{"predict", "--model", dir + "/missing.onnx", "--input", onnxModels + "input_64.npy"}, "missing.onnx"},
		{[]string{"predict", "--model", onnxModels + "resnet18.onnx", "--input", onnxModels + "input_224.npy", "--out", out}, "does not fit"},
		{[]string{"predict", "--model", onnxModels + "resnet18.onnx", notImage, "--out", out}, "x.png"},
		{[]string{"predict", "--model", onnxModels + "resnet18.onnx", "--input", notImage, "--out", out}, "x.png"},
		{[]string{"predict", "--model", onnxModels + "resnet18.onnx"}, "no input"},
		{[]string{"predict", "--model", onnxModels + "resnet18.onnx", "--input", onnxModels + "input_64.npy", "--preprocess", "imagenet"}, "preprocess"},
		{[]string{"frobnicate"}, "unknown command"},
	}
	for _, c := range cases {
		err := run(c.args, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one containing %q", c.args, err, c.want)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error spans several lines: %q", c.args, err)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed run wrote its output file")
	}
}

func TestPredictImages(t *testing.T) {
	var stdout bytes.Buffer
	imgs := []string{"../../data/testdata/astronaut.png", "../../data/testdata/coffee.png"}
	args := append([]string{"predict", "--model", onnxModels + "vgg16.onnx", "--top", "1"}, imgs...)
	if err := run(args, &stdout); err != nil {
		t.Fatal(err)
	}
	for _, img := range imgs {
		if !strings.Contains(stdout.String(), img+":") {
			t.Errorf("no prediction for %s:\n%s", img, stdout.String())
		}
	}
}
