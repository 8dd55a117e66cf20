package lrp_test

import (
	"fmt"

	"github.com/xai-go/lrp"
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// Explain a two-layer network with LRP-ε on every layer. Models usually
// come from onnx.Load; here the graph is built by hand.
func Example() {
	g := &nn.Graph{}
	h := g.Add("fc1", &nn.Linear{W: tensor.FromData([]float32{1, -1, 0.5, 2}, 2, 2)}, 0)
	r := g.Add("relu", nn.ReLU{}, h)
	g.Add("fc2", &nn.Linear{W: tensor.FromData([]float32{1, 1, -1, 1}, 2, 2)}, r)

	rules, err := lrp.ParseRuleMap("linear:epsilon(0.01)", nil)
	if err != nil {
		panic(err)
	}
	e, err := lrp.NewExplainer(g, rules)
	if err != nil {
		panic(err)
	}
	res, err := e.Explain(tensor.FromData([]float32{1, 2}, 1, 2), lrp.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("class %d, logit %.2f, relevance %.3f\n", res.Targets[0], res.Logits.Data[res.Targets[0]], res.Relevance.Data)
	// By hand: ε-stabilized 4.5/4.51 at fc2 and 4.49/4.51 at fc1 give x⊙Wᵀs = (0.498, 3.982).
	// Output: class 0, logit 4.50, relevance [0.498 3.982]
}
