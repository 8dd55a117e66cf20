package main

import (
	"fmt"
	"strings"

	"github.com/xai-go/lrp/models/torchvision"
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
	"github.com/xai-go/lrp/weights"
)

// isTorchvision reports whether a --model value names one of the
// torchvision architectures built natively (torchvision.Names).
func isTorchvision(spec string) bool { return torchvision.Known(spec) }

// torchvisionModel builds the torchvision architecture spec (one of
// torchvision.Names) for --model spec:
//
//   - with --weights FILE, from the state_dict in FILE (torch.save's .pth,
//     zip or legacy, or .safetensors; a "module." prefix on every name, as
//     DataParallel saves, is removed);
//   - with --random-init, from seeded random parameters
//     (torchvision.RandomInit with --seed) for benchmarks;
//   - with neither, an error telling where torchvision's ImageNet weights
//     are.
//
// numClasses > 0 (--num-classes, for fine-tuned heads) must equal the
// number of outputs of the weights' final layer; with --random-init it
// sets the head's size (default 1000).
//
// The graph's declared input is 224×224 (torchvision.Build); images
// preprocessed with --preprocess imagenet have that size.
func torchvisionModel(spec, weightsPath string, randomInit bool, seed uint64, numClasses int) (*nn.Graph, error) {
	if !torchvision.Known(spec) {
		return nil, fmt.Errorf("model %q is not a torchvision architecture (%s)", spec, strings.Join(torchvision.Names(), ", "))
	}
	switch {
	case weightsPath != "" && randomInit:
		return nil, fmt.Errorf("model %s: give either --weights FILE or --random-init, not both", spec)
	case randomInit:
		state, err := torchvision.RandomInit(spec, numClasses, seed)
		if err != nil {
			return nil, err
		}
		return torchvision.Build(spec, state)
	case weightsPath == "":
		url := torchvision.WeightsURL(spec)
		file := url[strings.LastIndex(url, "/")+1:]
		return nil, fmt.Errorf("model %s needs weights: download torchvision's ImageNet weights %s and give --weights %s, "+
			"or give --weights with your own state_dict of a %s (.pth or .safetensors; add --num-classes N for a fine-tuned head); "+
			"for benchmarks without weights use --random-init --seed S", spec, url, file, spec)
	}
	state, err := weights.Load(weightsPath)
	if err != nil {
		return nil, err
	}
	state = stripModulePrefix(state)
	g, err := torchvision.Build(spec, state)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", weightsPath, err)
	}
	if numClasses > 0 {
		last := g.Nodes[len(g.Nodes)-1]
		if l, ok := last.Layer.(*nn.Linear); ok && l.W.Shape[0] != numClasses {
			return nil, fmt.Errorf("--num-classes %d, but the final layer %s of %s has %d outputs (%s.weight is %s)",
				numClasses, last.Name, weightsPath, l.W.Shape[0], last.Name, tensor.ShapeString(l.W.Shape))
		}
	}
	return g, nil
}

// stripModulePrefix removes the "module." prefix that a DataParallel
// model puts on every name of its state_dict; other states are returned
// unchanged.
func stripModulePrefix(state map[string]*tensor.T) map[string]*tensor.T {
	if len(state) == 0 {
		return state
	}
	for k := range state {
		if !strings.HasPrefix(k, "module.") {
			return state
		}
	}
	out := make(map[string]*tensor.T, len(state))
	for k, t := range state {
		out[strings.TrimPrefix(k, "module.")] = t
	}
	return out
}
