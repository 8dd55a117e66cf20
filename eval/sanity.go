package eval

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// ExplainerFor returns an Explainer of the same method for another model:
// MPRT calls it with randomized copies of the model.
type ExplainerFor func(g *nn.Graph) (Explainer, error)

// MPRTResult holds the model parameter randomisation test of a batch.
type MPRTResult struct {
	// Layers names the randomized layers, top (output side) first: stage
	// k has layers 0…k randomized.
	Layers []string
	// Spearman[k][n] and SSIM[k][n] compare image n's relevance after
	// stage k with the original one.
	Spearman, SSIM [][]float64
	// Values[n] is the mean of Spearman[k][n] over the stages.
	Values []float64
}

// parameterized reports whether a node has weights to randomize.
func parameterized(n *nn.Node) (w, b *tensor.T, ok bool) {
	p, ok := n.Layer.(interface{ Params() (w, b *tensor.T) })
	if !ok {
		return nil, nil, false
	}
	w, b = p.Params()
	return w, b, w != nil
}

// randomized returns a copy of the layer l (a Conv2d or Linear) with
// weights and bias drawn as PyTorch's reset_parameters does:
// U(−1/√fan_in, 1/√fan_in), fan_in = W's elements per output.
func randomized(l nn.Layer, rng *rand.Rand) (nn.Layer, error) {
	draw := func(w, b *tensor.T) (*tensor.T, *tensor.T) {
		fanIn := w.Len() / w.Shape[0]
		bound := 1 / math.Sqrt(float64(fanIn))
		w2 := tensor.New(w.Shape...)
		for i := range w2.Data {
			w2.Data[i] = float32((2*rng.Float64() - 1) * bound)
		}
		var b2 *tensor.T
		if b != nil {
			b2 = tensor.New(b.Shape...)
			for i := range b2.Data {
				b2.Data[i] = float32((2*rng.Float64() - 1) * bound)
			}
		}
		return w2, b2
	}
	switch l := l.(type) {
	case *nn.Conv2d:
		c := *l
		c.W, c.B = draw(l.W, l.B)
		return &c, nil
	case *nn.Linear:
		c := *l
		c.W, c.B = draw(l.W, l.B)
		return &c, nil
	}
	return nil, fmt.Errorf("eval: mprt: cannot randomize a %s layer", l.Type())
}

// MPRT is the cascading model parameter randomisation test of Adebayo et
// al., "Sanity Checks for Saliency Maps" (NeurIPS 2018): the weighted
// layers (Conv, Linear) are randomized one after the other from the
// output towards the input, cumulatively, with PyTorch's default
// initialization (seeded); after each stage the images are explained again
// for the same targets and compared with the original relevance r, each
// reduced to one channel and taken in absolute value (as Adebayo et al.
// and Quantus do by default), by Spearman rank correlation and by SSIM.
// The value of an image is its mean Spearman correlation over the stages
// (Quantus' return_average_correlation). Lower is better: an explanation
// that survives the randomization does not explain the model. At most
// maxLayers stages run (all if 0).
func MPRT(g *nn.Graph, explainFor ExplainerFor, x, r *tensor.T, targets []int, seed uint64, maxLayers int) (*MPRTResult, error) {
	if x.Dims() != 4 || !tensor.SameShape(x.Shape, r.Shape) {
		return nil, fmt.Errorf("eval: mprt: relevance shape %s does not match input %s", tensor.ShapeString(r.Shape), tensor.ShapeString(x.Shape))
	}
	if len(targets) != x.Shape[0] {
		return nil, fmt.Errorf("eval: %d targets for %d inputs", len(targets), x.Shape[0])
	}
	var layers []int
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		if _, _, ok := parameterized(g.Nodes[i]); ok {
			layers = append(layers, i)
		}
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("eval: mprt: the model has no Conv or Linear layer to randomize")
	}
	if maxLayers > 0 && maxLayers < len(layers) {
		layers = layers[:maxLayers]
	}
	n, h, w := x.Shape[0], x.Shape[2], x.Shape[3]
	orig := make([][]float64, n)
	for i := range orig {
		orig[i] = absAll(pixelRelevance(r, i))
	}
	rng := rand.New(rand.NewPCG(seed, 0x4d505254))
	cur := &nn.Graph{InputName: g.InputName, OutputName: g.OutputName, InputShape: g.InputShape, Output: g.Output}
	for _, nd := range g.Nodes {
		c := *nd
		cur.Nodes = append(cur.Nodes, &c)
	}
	res := &MPRTResult{Values: make([]float64, n)}
	for _, li := range layers {
		l, err := randomized(cur.Nodes[li].Layer, rng)
		if err != nil {
			return nil, err
		}
		cur.Nodes[li].Layer = l
		res.Layers = append(res.Layers, cur.Nodes[li].Name)
		explain, err := explainFor(cur)
		if err != nil {
			return nil, fmt.Errorf("eval: mprt: %w", err)
		}
		r2, err := explain(x, targets)
		if err != nil {
			return nil, fmt.Errorf("eval: mprt: layer %q: %w", cur.Nodes[li].Name, err)
		}
		if !tensor.SameShape(r2.Shape, r.Shape) {
			return nil, fmt.Errorf("eval: mprt: explanation shape %s, want %s", tensor.ShapeString(r2.Shape), tensor.ShapeString(r.Shape))
		}
		sp, ss := make([]float64, n), make([]float64, n)
		for i := range sp {
			a := absAll(pixelRelevance(r2, i))
			sp[i], ss[i] = Spearman(orig[i], a), SSIM(orig[i], a, h, w)
			res.Values[i] += sp[i]
		}
		res.Spearman, res.SSIM = append(res.Spearman, sp), append(res.SSIM, ss)
	}
	for i := range res.Values {
		res.Values[i] /= float64(len(layers))
	}
	return res, nil
}

func absAll(v []float64) []float64 {
	for i := range v {
		v[i] = math.Abs(v[i])
	}
	return v
}
