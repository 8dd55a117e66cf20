package nn

import (
	"fmt"

	"github.com/xai-go/lrp/tensor"
)

// Layer is one operation of a network.
type Layer interface {
	// Type names the kind of layer, e.g. "Conv", "Linear", "ReLU".
	Type() string
	// OutputShape returns the shape of the output for inputs of the given
	// shapes, or an error saying why the inputs do not fit the layer.
	OutputShape(in [][]int) ([]int, error)
	// Forward computes the output for inputs whose shapes OutputShape
	// accepted. It returns a newly allocated tensor that the layer does
	// not keep (Graph.Run recycles the memory of intermediate values).
	Forward(in []*tensor.T) *tensor.T
	// Backward maps the gradient gout of the output out = Forward(in) to
	// the gradients of each input. An entry is nil for inputs through which
	// no gradient flows.
	Backward(in []*tensor.T, out, gout *tensor.T) []*tensor.T
}

// Affine is implemented by layers whose output is an affine function of
// their single input, y = W x + b, with parameters that relevance rules may
// modify.
type Affine interface {
	Layer
	// Params returns the weight and bias (bias may be nil). Layers without
	// parameters (average pooling) return nil, nil.
	Params() (w, b *tensor.T)
	// ForwardWith computes W' x + b' with the given parameters, shaped like
	// Params' results (b may be nil for no bias).
	ForwardWith(x, w, b *tensor.T) *tensor.T
	// BackwardWith computes the input gradient W'ᵀ g for the output
	// gradient g and weight w; inShape is the shape of the input x.
	BackwardWith(g, w *tensor.T, inShape []int) *tensor.T
}

func shapeErr(layer string, format string, args ...any) error {
	return fmt.Errorf("%s: %s", layer, fmt.Sprintf(format, args...))
}

func wantInputs(layer string, in [][]int, n int) error {
	if len(in) != n {
		return shapeErr(layer, "takes %d input(s), got %d", n, len(in))
	}
	return nil
}

func want4D(layer string, s []int) error {
	if len(s) != 4 {
		return shapeErr(layer, "needs an N×C×H×W input, got shape %s", tensor.ShapeString(s))
	}
	return nil
}
