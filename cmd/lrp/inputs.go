package main

import (
	"flag"
	"fmt"
	"github.com/xai-go/lrp/models/torchvision"
	"image"
	"os"
	"strconv"
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

// modelFlags choose a model: embedded, an ONNX file, or a torchvision
// architecture with weights.
type modelFlags struct {
	fs         *flag.FlagSet
	name       *string
	weights    *string
	randomInit *bool
	numClasses *int
}

func addModelFlags(fs *flag.FlagSet) *modelFlags {
	return &modelFlags{
		fs:         fs,
		name:       fs.String("model", "", "model: an embedded one ("+strings.Join(models.Names(), ", ")+"; default mnist), an ONNX file, or a torchvision architecture ("+strings.Join(torchvision.Names(), ", ")+") with --weights"),
		weights:    fs.String("weights", "", "with a torchvision architecture: a PyTorch state_dict (.pth) or .safetensors file"),
		randomInit: fs.Bool("random-init", false, "with a torchvision architecture: seeded random weights (--seed), for benchmarks"),
		numClasses: fs.Int("num-classes", 0, "with a torchvision architecture: classes of a fine-tuned head (checked against the weights)"),
	}
}

// load opens the model the flags name.
func (m *modelFlags) load() (*nn.Graph, error) {
	if isTorchvision(*m.name) {
		var seed uint64
		if f := m.fs.Lookup("seed"); f != nil {
			seed, _ = strconv.ParseUint(f.Value.String(), 10, 64)
		}
		return torchvisionModel(*m.name, *m.weights, *m.randomInit, seed, *m.numClasses)
	}
	if *m.weights != "" || *m.randomInit || *m.numClasses != 0 {
		return nil, fmt.Errorf("--weights, --random-init and --num-classes apply to torchvision architectures (%s), not to %q", strings.Join(torchvision.Names(), ", "), modelName(*m.name))
	}
	return loadModel(*m.name)
}

// loadModel opens a model: an embedded one by name (default mnist) or an
// ONNX file.
func loadModel(spec string) (*nn.Graph, error) {
	if e := embeddedOf(spec); e != nil {
		return e.Graph()
	}
	if isTorchvision(spec) {
		return nil, fmt.Errorf("model %s needs weights: --weights FILE (%s) or --random-init --seed S", spec, torchvision.WeightsURL(spec))
	}
	if err := checkModelFile(spec); err != nil {
		return nil, err
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
		x, err := tensor.LoadNpyData(npyPath)
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
			if err := checkImageFile(path); err != nil {
				return nil, err
			}
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

// checkImageFile refuses, with what to do instead, a directory or an empty
// file given where an image file belongs.
func checkImageFile(path string) error {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return err
	case st.IsDir():
		return fmt.Errorf("%s is a directory, not an image: use --data %s to read the images in it", path, path)
	case st.Size() == 0:
		return fmt.Errorf("%s is empty (0 bytes), not an image", path)
	}
	return nil
}

// checkModelFile refuses, with what to do instead, a --model that is a
// directory, an empty file, or a PyTorch weights file.
func checkModelFile(spec string) error {
	lower := strings.ToLower(spec)
	for _, ext := range []string{".pth", ".pt", ".safetensors", ".bin", ".ckpt", ".tar"} {
		if strings.HasSuffix(lower, ext) {
			return fmt.Errorf("%s is a PyTorch weights file, not a model: use --model ARCH --weights %s (ARCH: %s)",
				spec, spec, strings.Join(torchvision.Names(), ", "))
		}
	}
	st, err := os.Stat(spec)
	switch {
	case err != nil:
		return nil // reported by the caller
	case st.IsDir():
		return fmt.Errorf("model %s is a directory: give an ONNX file (.onnx), an embedded model (%s) or a torchvision architecture with --weights",
			spec, strings.Join(models.Names(), ", "))
	case st.Size() == 0:
		return fmt.Errorf("model %s is empty (0 bytes), not an ONNX model", spec)
	}
	return nil
}
