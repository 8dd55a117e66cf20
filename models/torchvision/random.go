package torchvision

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/xai-go/lrp/tensor"
)

// RandomInit returns seeded random parameters for the architecture with
// torchvision's names and shapes (its full widths, numClasses outputs;
// numClasses ≤ 0 means ImageNet's 1000), including BatchNorm's
// num_batches_tracked (0), for benchmarks and tests: Build accepts them.
//
// The values keep activations finite and of order one: convolution and
// hidden linear weights are N(0, 2/fan_in) (He), the final layer's
// N(0, 1/fan_in), biases 0, BatchNorms the identity (weight 1, bias 0,
// running mean 0, running variance 1) except the last BatchNorm of each
// ResNet block (bn2, bn3), whose weight is 0.5 so that 16 to 33 residual
// additions do not blow up the activations; a ViT's LayerNorms are the
// identity and its class token and position embedding N(0, 0.02²). The same seed gives the same
// parameters.
func RandomInit(name string, numClasses int, seed uint64) (map[string]*tensor.T, error) {
	ps, err := paramsOf(name, numClasses)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x746f726368766973)) // "torchvis"
	state := make(map[string]*tensor.T, len(ps))
	for _, p := range ps {
		t := tensor.New(p.shape...)
		switch p.kind {
		case "conv", "linear", "final":
			fanIn := t.Len() / p.shape[0]
			gain := 2.0
			if p.kind == "final" {
				gain = 1
			}
			std := math.Sqrt(gain / float64(fanIn))
			for i := range t.Data {
				t.Data[i] = float32(rng.NormFloat64() * std)
			}
		case "embedding": // ViT's class token and position embedding
			for i := range t.Data {
				t.Data[i] = float32(rng.NormFloat64() * 0.02)
			}
		case "bn.weight", "bn.var":
			for i := range t.Data {
				t.Data[i] = 1
			}
		case "bn.weight.residual":
			for i := range t.Data {
				t.Data[i] = 0.5
			}
		}
		state[p.name] = t
	}
	return state, nil
}

// paramsOf lists the tensors of the architecture at torchvision's full
// widths with numClasses outputs (1000 if ≤ 0), in state_dict order.
func paramsOf(name string, numClasses int) ([]param, error) {
	a, err := lookup(name)
	if err != nil {
		return nil, err
	}
	if numClasses <= 0 {
		numClasses = 1000
	}
	b := newBuilder(name, nil, numClasses)
	a.build(b)
	if len(b.shaped) > 0 || len(b.missing) != countRequired(b.params) {
		return nil, fmt.Errorf("torchvision: %s: internal error laying out the parameters", name)
	}
	return b.params, nil
}

func countRequired(ps []param) int {
	n := 0
	for _, p := range ps {
		if p.kind != "bn.count" { // optional: never reported missing
			n++
		}
	}
	return n
}
