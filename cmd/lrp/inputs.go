package main

import (
	"fmt"
	"image"
	"os"
	"strings"

	"github.com/xai-go/lrp/data"
	"github.com/xai-go/lrp/models"
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/onnx"
	"github.com/xai-go/lrp/tensor"
)

// defaultModel is the embedded model used when no --model is given.
const defaultModel = models.MNIST

// embeddedOf returns the embedded model a --model value names, or nil.
func embeddedOf(spec string) *models.Embedded {
	if spec == "" {
		spec = defaultModel
	}
	if strings.HasSuffix(strings.ToLower(spec), ".onnx") {
		return nil
	}
	e, err := models.Lookup(spec)
	if err != nil {
		return nil
	}
	return &e
}

// loadModel opens a model: an embedded one by name (default mnist) or an
// ONNX file.
func loadModel(spec string) (*nn.Graph, error) {
	if e := embeddedOf(spec); e != nil {
		return e.Graph()
	}
	if strings.HasSuffix(strings.ToLower(spec), ".onnx") {
		return onnx.Load(spec)
	}
	if _, err := os.Stat(spec); err == nil {
		return onnx.Load(spec)
	}
	return nil, fmt.Errorf("model %q: neither an embedded model (%s) nor an existing .onnx file", spec, strings.Join(models.Names(), ", "))
}

// inputSet is a batch of inputs with a name for each item.
type inputSet struct {
	x     *tensor.T
	names []string
	pre   *data.Preprocess // the preprocessing applied to images, nil for .npy
}

// loadInputs reads --input x.npy or decodes and preprocesses images; with
// neither, an embedded model's sample images.
func loadInputs(npyPath string, images []string, preprocess string, emb *models.Embedded) (*inputSet, error) {
	if emb != nil && preprocess == "" && npyPath == "" {
		preprocess = emb.Preprocess
	}
	if emb != nil && npyPath == "" && len(images) == 0 {
		return sampleInputs(emb, preprocess)
	}
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

// sampleInputs returns the embedded model's sample images, preprocessed.
func sampleInputs(emb *models.Embedded, preprocess string) (*inputSet, error) {
	p, err := data.Lookup(preprocess)
	if err != nil {
		return nil, err
	}
	samples, err := emb.Samples()
	if err != nil {
		return nil, err
	}
	imgs := make([]image.Image, len(samples))
	names := make([]string, len(samples))
	for i, s := range samples {
		imgs[i] = s.Image
		names[i] = fmt.Sprintf("%s:%s (%s)", emb.Name, s.Name, emb.Labels[s.Label])
	}
	x, err := p.Batch(imgs)
	if err != nil {
		return nil, err
	}
	return &inputSet{x: x, names: names, pre: &p}, nil
}

// modelName is the --model value, or the default model's name.
func modelName(spec string) string {
	if spec == "" {
		return defaultModel
	}
	return spec
}
