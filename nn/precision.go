package nn

import (
	"fmt"
	"sync"

	"github.com/xai-go/lrp/internal/kernels"
	"github.com/xai-go/lrp/tensor"
)

// Precision is the arithmetic of the forward pass of convolution and
// linear layers.
type Precision int

const (
	// FP32 computes in float32 throughout (the default).
	FP32 Precision = iota
	// BF16 rounds the weights and the layer inputs to bfloat16 (to nearest
	// even) and sums their products in float32, on AMX tiles or with
	// AVX-512 BF16 where the CPU has them (see BF16Kernel). Bias,
	// activations, pooling and everything between the layers stay float32.
	BF16
	// Winograd computes in float32, with the 3×3 stride-1 convolutions
	// of at least 16 input and output channels whose batch has at least
	// 16 output tiles of 4×4 (a 7×7 map from batch 3 on) by Winograd's
	// F(4×4, 3×3) algorithm (a quarter of the multiplications; about ten times the
	// rounding error of the direct convolution, see convForwardWinograd;
	// and an infinite input value, which the transforms add with both
	// signs, may give NaN across its tiles where the direct convolution
	// gives ±Inf). Every other layer is computed as in FP32.
	Winograd
)

// String returns "fp32", "bf16" or "winograd".
func (p Precision) String() string {
	switch p {
	case FP32:
		return "fp32"
	case BF16:
		return "bf16"
	case Winograd:
		return "winograd"
	}
	return fmt.Sprintf("Precision(%d)", int(p))
}

// ParsePrecision parses "fp32", "bf16" or "winograd".
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "fp32":
		return FP32, nil
	case "bf16":
		return BF16, nil
	case "winograd":
		return Winograd, nil
	}
	return FP32, fmt.Errorf("nn: unknown precision %q (want fp32, bf16 or winograd)", s)
}

// SetPrecision sets the precision of the forward pass (Layer.Forward, so
// Graph.Forward, Run, RunTo and ForwardDropping) of every Conv2d and Linear
// of g. With BF16, each layer's weights are rounded and packed once, on its
// first bfloat16 forward pass, and kept next to the float32 ones (about half
// their memory). With Winograd, each 3×3 layer's weights are transformed
// once, on first use, and kept next to the float32 ones (4 times their
// memory: 235 MB for VGG16). The float32 paths used by relevance and gradients
// (ForwardWith, BackwardWith, Backward) are not affected; but a relevance
// pass that starts from a bfloat16 forward pass's activations sees their
// rounding.
//
// Call it after every rewrite of the graph and its weights (canonizers,
// BatchNorm merges): a later change of a layer's W is not seen by the
// packed or transformed copy until SetPrecision is called again. It must not be called
// while g runs.
func (g *Graph) SetPrecision(p Precision) {
	for _, n := range g.Nodes {
		switch l := n.Layer.(type) {
		case *Conv2d:
			l.bf16 = newBF16Weights(p)
			l.wino = nil
			if p == Winograd {
				l.wino = &winoWeights{}
			}
		case *Linear:
			l.bf16 = newBF16Weights(p)
		}
	}
}

// WithPrecision returns a graph that computes what g computes, with the
// forward pass of its Conv2d and Linear layers in precision p: the nodes
// and the float32 weights are shared with g, only those layers are copied
// (so g's own precision is unchanged). Pixel-flipping scorers use it to
// score perturbed inputs in BF16 while relevance is computed in FP32 on g.
// Like SetPrecision, it must be called after every rewrite of g's weights.
func (g *Graph) WithPrecision(p Precision) *Graph {
	c := *g
	c.Nodes = make([]*Node, len(g.Nodes))
	for i, n := range g.Nodes {
		cn := *n
		switch l := n.Layer.(type) {
		case *Conv2d:
			cl := *l
			cn.Layer = &cl
		case *Linear:
			cl := *l
			cn.Layer = &cl
		}
		c.Nodes[i] = &cn
	}
	c.SetPrecision(p)
	return &c
}

// BF16Kernel names the kernel that runs BF16 layers on this machine:
// "amx", "avx512bf16", or "float32" (float32 arithmetic on
// bfloat16-rounded values: the same results up to the order of sums, and no
// faster than FP32).
func BF16Kernel() string { return kernels.BF16Kernel() }

// BF16Note returns one line telling the user why BF16 layers do not run on
// the best kernel the CPU has (the operating system refused the AMX tile
// state, or the CPU has no bfloat16 instructions), or "" when they do.
// The library does not print it; commands that run in BF16 should print it
// on stderr.
func BF16Note() string { return kernels.BF16Note() }

// bf16Weights is a layer's weight rounded and packed for the bfloat16
// GEMM, made on first use.
type bf16Weights struct {
	once sync.Once
	a    *kernels.BF16Matrix // Conv2d: W as the A operand
	b    *kernels.BF16Panels // Linear: Wᵀ as the B operand
}

func newBF16Weights(p Precision) *bf16Weights {
	if p != BF16 {
		return nil
	}
	return &bf16Weights{}
}

// panels returns the Out × In weight w of a linear layer as the packed B
// operand Wᵀ (In × Out), packing it on the first call.
func (b *bf16Weights) panels(w *tensor.T) *kernels.BF16Panels {
	b.once.Do(func() {
		b.b = kernels.PackBF16Panels(true, w.Shape[1], w.Shape[0], w.Data, max(w.Shape[1], 1))
	})
	return b.b
}

// packed returns w (rows × the rest) packed, packing it on the first call.
func (b *bf16Weights) packed(w *tensor.T) *kernels.BF16Matrix {
	b.once.Do(func() {
		rows := w.Shape[0]
		cols := 0
		if rows > 0 {
			cols = len(w.Data) / rows
		}
		b.a = kernels.PackBF16(false, rows, cols, w.Data, max(cols, 1))
	})
	return b.a
}
