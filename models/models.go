// Package models ships small trained image classifiers inside the binary,
// so that LRP can be tried with no model file at hand.
//
// Two VGG-like CNNs are embedded, one trained on MNIST (handwritten digits)
// and one on Fashion-MNIST (Zalando's clothing images), with their class
// names and one test image per class, and small Vision Transformers
// trained on each (mnist-vit, fashion-mnist-vit: torchvision's
// VisionTransformer, 7×7 patches, 4 layers). All take a 1×1×28×28 grayscale input (any batch size)
// and return 10 logits. models/README.md tells how they were trained and
// how accurate they are; models/train/train.py and train_vit.py rebuild
// every embedded file.
//
// Importing the package registers the preprocessing "fashion-mnist" with
// package data (Grayscale, Resize((28, 28)), ToTensor, Normalize(0.2860,
// 0.3530)), next to data's own "mnist".
package models

import (
	"bytes"
	"embed"
	"fmt"
	"image"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/xai-go/lrp/data"
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/onnx"
)

var (
	//go:embed mnist.onnx
	mnistONNX string
	//go:embed mnist.labels
	mnistLabels string
	//go:embed fashion-mnist.onnx
	fashionONNX string
	//go:embed fashion-mnist.labels
	fashionLabels string
	//go:embed mnist-vit.onnx
	mnistViTONNX string
	//go:embed fashion-mnist-vit.onnx
	fashionViTONNX string
	//go:embed samples
	samples embed.FS
)

// FashionMNIST is the name of the Fashion-MNIST model and of its
// preprocessing, which this package registers with package data.
const FashionMNIST = "fashion-mnist"

// MNIST is the name of the MNIST model and of its preprocessing (built into
// package data).
const MNIST = "mnist"

// MNISTViT is the name of the Vision Transformer trained on MNIST; it uses
// MNIST's preprocessing and samples.
const MNISTViT = "mnist-vit"

// FashionMNISTViT is the name of the Vision Transformer trained on
// Fashion-MNIST; it uses Fashion-MNIST's preprocessing and samples.
const FashionMNISTViT = "fashion-mnist-vit"

// fashionPreprocess is torchvision's Grayscale(), Resize((28, 28)),
// ToTensor(), Normalize((0.2860,), (0.3530,)): Fashion-MNIST's own mean and
// standard deviation of its training pixels, as train.py normalizes.
var fashionPreprocess = data.Preprocess{
	Mode:      data.ResizeExact,
	Width:     28,
	Height:    28,
	Grayscale: true,
	Mean:      []float64{0.2860},
	Std:       []float64{0.3530},
}

// initErr records a failure to register the preprocessing; Lookup and
// Embedded.Preprocessing report it.
var initErr error

func init() {
	initErr = register(FashionMNIST, fashionPreprocess)
}

// register adds p to package data under name, accepting an identical
// preprocessing that is already registered.
func register(name string, p data.Preprocess) error {
	if have, err := data.Lookup(name); err == nil {
		if have.Mode != p.Mode || have.Width != p.Width || have.Height != p.Height ||
			have.Grayscale != p.Grayscale || !slices.Equal(have.Mean, p.Mean) || !slices.Equal(have.Std, p.Std) {
			return fmt.Errorf("models: preprocess %q is already registered with other settings", name)
		}
		return nil
	}
	if err := data.Register(name, p); err != nil {
		return fmt.Errorf("models: %w", err)
	}
	return nil
}

// Embedded describes a model shipped in the binary.
type Embedded struct {
	// Name identifies the model for Lookup: "mnist" or "fashion-mnist".
	Name string
	// Description says in one line what the model is.
	Description string
	// Labels are the class names, indexed by class (the model's logit).
	Labels []string
	// Preprocess is the name of the data preprocessing (package data's
	// Lookup) that turns an image into the model's input: "mnist" or
	// "fashion-mnist".
	Preprocess string
	// Patch is the pixel-flipping patch size that commands use for the
	// model when none is given: 4, so a 28×28 digit is cut into 7×7
	// patches and flipped in 8 steps (eval.DefaultPatch would give 7:
	// 4×4 coarse patches in 5 steps).
	Patch int

	onnx    string // the ONNX file
	samples string // the samples' folder under samples/, if not Name
}

// catalog lists the embedded models, sorted by name.
var catalog = []Embedded{
	{
		Name:        FashionMNIST,
		Description: "VGG-like CNN trained on Fashion-MNIST (28×28 grayscale clothing images, 10 classes)",
		Labels:      parseLabels(fashionLabels),
		Preprocess:  FashionMNIST,
		Patch:       4,
		onnx:        fashionONNX,
	},
	{
		Name:        FashionMNISTViT,
		Description: "Vision Transformer (torchvision's, 7×7 patches, 4 layers, width 64) trained on Fashion-MNIST (28×28 grayscale clothing images, 10 classes)",
		Labels:      parseLabels(fashionLabels),
		Preprocess:  FashionMNIST,
		Patch:       4,
		onnx:        fashionViTONNX,
		samples:     FashionMNIST,
	},
	{
		Name:        MNIST,
		Description: "VGG-like CNN trained on MNIST (28×28 grayscale handwritten digits, 10 classes)",
		Labels:      parseLabels(mnistLabels),
		Preprocess:  MNIST,
		Patch:       4,
		onnx:        mnistONNX,
	},
	{
		Name:        MNISTViT,
		Description: "Vision Transformer (torchvision's, 7×7 patches, 4 layers, width 64) trained on MNIST (28×28 grayscale handwritten digits, 10 classes)",
		Labels:      parseLabels(mnistLabels),
		Preprocess:  MNIST,
		Patch:       4,
		onnx:        mnistViTONNX,
		samples:     MNIST,
	},
}

// parseLabels splits a labels file into its non-empty lines.
func parseLabels(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// Names returns the names of the embedded models, sorted.
func Names() []string {
	names := make([]string, len(catalog))
	for i, e := range catalog {
		names[i] = e.Name
	}
	return names
}

// Lookup returns the embedded model called name. The error for an unknown
// name lists the known ones. The returned value's Labels are a copy.
func Lookup(name string) (Embedded, error) {
	if initErr != nil {
		return Embedded{}, initErr
	}
	for _, e := range catalog {
		if e.Name == name {
			e.Labels = slices.Clone(e.Labels)
			return e, nil
		}
	}
	return Embedded{}, fmt.Errorf("models: no embedded model %q (known: %s)", name, strings.Join(Names(), ", "))
}

// ONNX returns the model file, ONNX opset 13 (17 for the ViTs), with
// input "input" (N×1×28×28) and output "logits" (N×10). Each call returns a new copy.
func (e Embedded) ONNX() []byte { return []byte(e.onnx) }

// Graph decodes the model into a graph for the engine.
func (e Embedded) Graph() (*nn.Graph, error) {
	if e.onnx == "" {
		return nil, fmt.Errorf("models: %q is not an embedded model (use Lookup)", e.Name)
	}
	g, err := onnx.Decode([]byte(e.onnx))
	if err != nil {
		return nil, fmt.Errorf("models: %s: %w", e.Name, err)
	}
	return g, nil
}

// Preprocessing returns the data preprocessing named by e.Preprocess.
func (e Embedded) Preprocessing() (data.Preprocess, error) {
	if initErr != nil {
		return data.Preprocess{}, initErr
	}
	return data.Lookup(e.Preprocess)
}

// Sample is an embedded test image.
type Sample struct {
	// Name is the file name, "<index>-<label>.png".
	Name string
	// Index is the image's position in the dataset's test set.
	Index int
	// Label is the true class.
	Label int
	// Image is the 28×28 grayscale image.
	Image image.Image
}

// Samples returns the embedded test images of e's dataset: the first image
// of each class in the test set, sorted by label.
func (e Embedded) Samples() ([]Sample, error) {
	set := e.samples
	if set == "" {
		set = e.Name
	}
	dir := path.Join("samples", set)
	entries, err := samples.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("models: samples of %q: %w", e.Name, err)
	}
	var out []Sample
	for _, ent := range entries {
		if ent.IsDir() || path.Ext(ent.Name()) != ".png" {
			continue
		}
		s, err := readSample(samples, dir, ent.Name())
		if err != nil {
			return nil, err
		}
		if s.Label < 0 || s.Label >= len(e.Labels) {
			return nil, fmt.Errorf("models: sample %s/%s: label %d out of range 0..%d", dir, s.Name, s.Label, len(e.Labels)-1)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("models: no samples for %q", e.Name)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Label != out[j].Label {
			return out[i].Label < out[j].Label
		}
		return out[i].Index < out[j].Index
	})
	return out, nil
}

// readSample decodes dir/name, a file named "<index>-<label>.png".
func readSample(fsys fs.FS, dir, name string) (Sample, error) {
	base := strings.TrimSuffix(name, ".png")
	idx, lab, ok := strings.Cut(base, "-")
	index, err1 := strconv.Atoi(idx)
	label, err2 := strconv.Atoi(lab)
	if !ok || err1 != nil || err2 != nil {
		return Sample{}, fmt.Errorf("models: sample %s/%s: name is not <index>-<label>.png", dir, name)
	}
	b, err := fs.ReadFile(fsys, path.Join(dir, name))
	if err != nil {
		return Sample{}, fmt.Errorf("models: %w", err)
	}
	img, err := data.DecodeReader(bytes.NewReader(b), path.Join(dir, name))
	if err != nil {
		return Sample{}, fmt.Errorf("models: %w", err)
	}
	return Sample{Name: name, Index: index, Label: label, Image: img}, nil
}
