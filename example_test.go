package lrp_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/xai-go/lrp"
	"github.com/xai-go/lrp/data"
	"github.com/xai-go/lrp/eval"
	"github.com/xai-go/lrp/models"
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
	"github.com/xai-go/lrp/viz"
)

// The whole path: load a model, preprocess an image, explain it with a
// composite, evaluate the explanation by pixel flipping and draw a
// heatmap. The README's "Use from Go" shows this body.
func Example() {
	// Load a model: an embedded one here; onnx.Load("model.onnx") and
	// torchvision.Build(arch, state) give the same *nn.Graph.
	emb, err := models.Lookup("mnist")
	if err != nil {
		log.Fatal(err)
	}
	g, err := emb.Graph()
	if err != nil {
		log.Fatal(err)
	}

	// Preprocess an image exactly as torchvision does.
	pre, err := data.Lookup(emb.Preprocess)
	if err != nil {
		log.Fatal(err)
	}
	img, err := data.Decode("models/samples/mnist/0-7.png")
	if err != nil {
		log.Fatal(err)
	}
	x, err := pre.Apply(img) // 1×1×28×28
	if err != nil {
		log.Fatal(err)
	}

	// Explain the predicted class with a composite. The box rule's bounds
	// are the preprocessing's image of the pixel values 0 and 1.
	low, high, err := pre.Bounds(x.Shape)
	if err != nil {
		log.Fatal(err)
	}
	composite, err := lrp.LookupComposite(lrp.DefaultComposite)
	if err != nil {
		log.Fatal(err)
	}
	rules, err := composite.Build(g, lrp.Params{Low: low, High: high})
	if err != nil {
		log.Fatal(err)
	}
	explainer, err := lrp.NewExplainer(g, rules)
	if err != nil {
		log.Fatal(err)
	}
	res, err := explainer.Explain(x, lrp.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("predicted:", emb.Labels[res.Targets[0]])
	fmt.Println("relevance:", res.Relevance.Shape)

	// Evaluate: flip 4×4 patches, most relevant first, and score each step.
	mean, std, err := pre.MeanStd(x.Shape[1])
	if err != nil {
		log.Fatal(err)
	}
	flips, err := eval.Run(g, x, res.Relevance, res.Targets,
		eval.Config{Patch: 4, Order: eval.MoRF, Mean: mean, Std: std})
	if err != nil {
		log.Fatal(err)
	}
	curve := flips.Scores[0]
	fmt.Println("steps:", len(curve), "logit falls:", curve[len(curve)-1] < curve[0])

	// Draw the heatmap.
	dir, err := os.MkdirTemp("", "lrp-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	err = viz.SavePNG(filepath.Join(dir, "heatmap.png"), viz.Heatmap(res.Relevance.Batch(0)))
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// predicted: 7
	// relevance: [1 1 28 28]
	// steps: 9 logit falls: true
}

// Explain a two-layer network with LRP-ε on every layer, checked by hand.
// Models usually come from onnx.Load, torchvision.Build or models.Lookup;
// here the graph is built layer by layer.
func ExampleNewExplainer() {
	g := &nn.Graph{}
	h := g.Add("fc1", &nn.Linear{W: tensor.FromData([]float32{1, -1, 0.5, 2}, 2, 2)}, 0)
	r := g.Add("relu", nn.ReLU{}, h)
	g.Add("fc2", &nn.Linear{W: tensor.FromData([]float32{1, 1, -1, 1}, 2, 2)}, r)

	rules, err := lrp.ParseRuleMap("linear:epsilon(0.01)", nil)
	if err != nil {
		log.Fatal(err)
	}
	e, err := lrp.NewExplainer(g, rules)
	if err != nil {
		log.Fatal(err)
	}
	res, err := e.Explain(tensor.FromData([]float32{1, 2}, 1, 2), lrp.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("class %d, logit %.2f, relevance %.3f\n", res.Targets[0], res.Logits.Data[res.Targets[0]], res.Relevance.Data)
	// By hand: ε-stabilized 4.5/4.51 at fc2 and 4.49/4.51 at fc1 give x⊙Wᵀs = (0.498, 3.982).
	// Output: class 0, logit 4.50, relevance [0.498 3.982]
}

// Compare attribution methods by name, as lrp evaluate --methods does. One
// MethodOptions serves them all: each reads the fields it needs.
func ExampleNewAttributor() {
	emb, err := models.Lookup("mnist")
	if err != nil {
		log.Fatal(err)
	}
	g, err := emb.Graph()
	if err != nil {
		log.Fatal(err)
	}
	pre, err := data.Lookup(emb.Preprocess)
	if err != nil {
		log.Fatal(err)
	}
	img, err := data.Decode("models/samples/mnist/0-7.png")
	if err != nil {
		log.Fatal(err)
	}
	x, err := pre.Apply(img)
	if err != nil {
		log.Fatal(err)
	}
	var opt lrp.MethodOptions
	if opt.Params.Low, opt.Params.High, err = pre.Bounds(x.Shape); err != nil {
		log.Fatal(err)
	}
	for _, method := range []string{"lrp", "lrp:epsilon-plus", "gradient", "random"} {
		a, err := lrp.NewAttributor(method, g, opt)
		if err != nil {
			log.Fatal(err)
		}
		res, err := a.Attribute(x, nil)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-16s class %d, relevance %v\n", method, res.Targets[0], res.Relevance.Shape)
	}
	// Output:
	// lrp              class 7, relevance [1 1 28 28]
	// lrp:epsilon-plus class 7, relevance [1 1 28 28]
	// gradient         class 7, relevance [1 1 28 28]
	// random           class 7, relevance [1 1 28 28]
}

// The registered methods and composites, as the command line lists them.
func ExampleMethodNames() {
	fmt.Println(lrp.MethodNames())
	fmt.Println(lrp.CompositeNames())
	fmt.Println("default:", lrp.DefaultComposite)
	// Output:
	// [gradient gradxinput integrated-gradients lrp occlusion random smoothgrad]
	// [attnlrp cp-lrp decreasing-gamma epsilon-alpha2-beta1 epsilon-alpha2-beta1-flat epsilon-gamma-box epsilon-plus epsilon-plus-flat lrp-tutorial]
	// default: epsilon-gamma-box
}

// A rule map addresses layers by index, index range, type or name glob;
// the first entry that matches a layer gives its rule.
func ExampleParseRuleMap() {
	rules, err := lrp.ParseRuleMap("0:zbox(low=-0.4242,high=2.8215); conv:gamma(0.25); linear:epsilon(0.25); classifier.*:zero", nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range rules.Entries {
		fmt.Printf("%-17s %s\n", e.Selector, e.Rule)
	}
	// Output:
	// 0                 zbox(high=2.8215,low=-0.4242)
	// type=conv         gamma(0.25)
	// type=linear       epsilon(0.25)
	// name=classifier.* zero
}

// A rule-map file holds one entry per line (or a JSON list), as
// lrp explain --rules-file reads it.
func ExampleReadRuleMapFile() {
	rules, err := lrp.ReadRuleMapFile("testdata/rules/vgg16.txt", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rules)
	// Output: 0:zbox(high=2.64,low=-2.1179);1-16:gamma(0.25);17-30:epsilon(0.25);31-:zero
}
