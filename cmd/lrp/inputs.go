package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/xai-go/lrp/data"
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/onnx"
	"github.com/xai-go/lrp/tensor"
)

// loadModel opens a model given by file path.
func loadModel(spec string) (*nn.Graph, error) {
	if spec == "" {
		return nil, fmt.Errorf("no model given: use --model FILE.onnx")
	}
	if strings.HasSuffix(strings.ToLower(spec), ".onnx") {
		return onnx.Load(spec)
	}
	if _, err := os.Stat(spec); err == nil {
		return onnx.Load(spec)
	}
	return nil, fmt.Errorf("model %q: not an existing .onnx file", spec)
}

// inputSet is a batch of inputs with a name for each item.
type inputSet struct {
	x     *tensor.T
	names []string
	pre   *data.Preprocess // the preprocessing applied to images, nil for .npy
}

// loadInputs reads --input x.npy or decodes and preprocesses images.
func loadInputs(npyPath string, images []string, preprocess string) (*inputSet, error) {
	switch {
	case npyPath != "" && len(images) > 0:
		return nil, fmt.Errorf("give either --input FILE.npy or image files, not both")
	case npyPath != "":
		if preprocess != "" && preprocess != "none" {
			return nil, fmt.Errorf("--preprocess %s applies to images; .npy input is used as it is (use --preprocess none)", preprocess)
		}
		x, err := tensor.LoadNpy(npyPath)
		if err != nil {
			return nil, err
		}
		if x.Dims() < 2 || x.Shape[0] == 0 {
			return nil, fmt.Errorf("%s: shape %s has no batch of inputs (want N×C×H×W)", npyPath, tensor.ShapeString(x.Shape))
		}
		names := make([]string, x.Shape[0])
		for i := range names {
			names[i] = fmt.Sprintf("%s[%d]", npyPath, i)
		}
		return &inputSet{x: x, names: names}, nil
	case len(images) > 0:
		if preprocess == "" {
			preprocess = "imagenet"
		}
		p, err := data.Lookup(preprocess)
		if err != nil {
			return nil, err
		}
		var items []*tensor.T
		for _, path := range images {
			img, err := data.Decode(path)
			if err != nil {
				return nil, err
			}
			t, err := p.Apply(img)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			items = append(items, t)
		}
		x := tensor.New(append([]int{len(items)}, items[0].Shape[1:]...)...)
		per := items[0].Len()
		for i, t := range items {
			copy(x.Data[i*per:], t.Data)
		}
		return &inputSet{x: x, names: images, pre: &p}, nil
	}
	return nil, fmt.Errorf("no input: give --input FILE.npy or image files")
}
