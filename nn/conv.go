package nn

import (
	"github.com/xai-go/lrp/tensor"
)

// Conv2d is a 2-D convolution (cross-correlation, as in PyTorch and ONNX):
//
//	y[n,o,i,j] = b[o] + Σ_{c,u,v} W[o,c,u,v] · x[n, g·C/G + c, i·s_h − p_top + u·d_h, j·s_w − p_left + v·d_w]
//
// where g = o / (O/G) is the group of output channel o, C the input channels,
// G the number of groups, and x is zero outside the image.
type Conv2d struct {
	W        *tensor.T // O × C/G × KH × KW
	B        *tensor.T // O, or nil
	Stride   [2]int    // along H, W
	Pad      [4]int    // top, left, bottom, right
	Dilation [2]int    // along H, W
	Groups   int

	bf16 *bf16Weights // set by Graph.SetPrecision(BF16)
	wino *winoWeights // set by Graph.SetPrecision(Winograd)
}

// Type returns "Conv".
func (l *Conv2d) Type() string { return "Conv" }

// Params returns the weight and bias.
func (l *Conv2d) Params() (w, b *tensor.T) { return l.W, l.B }

type convGeom struct {
	n, c, h, w     int // input
	o, oh, ow      int // output
	kh, kw         int
	groups, cg, og int // groups, input and output channels per group
	sh, sw, dh, dw int
	pt, pl         int
	kdim, pix      int // rows of the column matrix (cg·kh·kw), output pixels
	pointwise      bool
}

// geom returns the geometry of l for an input of shape in and l's own
// weight.
func (l *Conv2d) geom(in []int) (convGeom, error) { return l.geomW(in, l.W.Shape) }

// geomW returns the geometry of l for an input of shape in and a weight of
// shape ws (which may have more output channels than l.W, see ForwardWith).
func (l *Conv2d) geomW(in, ws []int) (convGeom, error) {
	var g convGeom
	if err := want4D("Conv", in); err != nil {
		return g, err
	}
	g.n, g.c, g.h, g.w = in[0], in[1], in[2], in[3]
	g.o, g.kh, g.kw = ws[0], ws[2], ws[3]
	g.groups = max(l.Groups, 1)
	g.cg, g.og = ws[1], g.o/g.groups
	if g.cg*g.groups != g.c {
		return g, shapeErr("Conv", "weight %s with %d groups needs %d input channels, got %d",
			tensor.ShapeString(ws), g.groups, g.cg*g.groups, g.c)
	}
	g.sh, g.sw, g.dh, g.dw = l.Stride[0], l.Stride[1], l.Dilation[0], l.Dilation[1]
	g.pt, g.pl = l.Pad[0], l.Pad[1]
	eh := g.dh*(g.kh-1) + 1
	ew := g.dw*(g.kw-1) + 1
	ph, pw := g.h+l.Pad[0]+l.Pad[2], g.w+l.Pad[1]+l.Pad[3]
	if ph < eh || pw < ew {
		return g, shapeErr("Conv", "kernel %dx%d (dilated %dx%d) larger than padded input %dx%d", g.kh, g.kw, eh, ew, ph, pw)
	}
	g.oh, g.ow = (ph-eh)/g.sh+1, (pw-ew)/g.sw+1
	g.finish()
	return g, nil
}

// finish sets the derived fields.
func (g *convGeom) finish() {
	g.kdim, g.pix = g.cg*g.kh*g.kw, g.oh*g.ow
	g.pointwise = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 && g.oh == g.h && g.ow == g.w
}

// OutputShape returns N × O × OH × OW.
func (l *Conv2d) OutputShape(in [][]int) ([]int, error) {
	if err := wantInputs("Conv", in, 1); err != nil {
		return nil, err
	}
	g, err := l.geom(in[0])
	if err != nil {
		return nil, err
	}
	return []int{g.n, g.o, g.oh, g.ow}, nil
}

// Forward computes the convolution of in[0], in the precision set by
// Graph.SetPrecision.
func (l *Conv2d) Forward(in []*tensor.T) *tensor.T {
	if l.bf16 != nil {
		return l.forwardBF16(in[0])
	}
	if l.wino != nil {
		if y := l.forwardWinograd(in[0]); y != nil {
			return y
		}
	}
	return l.ForwardWith(in[0], l.W, l.B)
}

// forwardWinograd is ForwardWith(x, l.W, l.B) by Winograd's algorithm, or
// nil when x's geometry is not one it is used for (winoApplies).
func (l *Conv2d) forwardWinograd(x *tensor.T) *tensor.T {
	g, err := l.geom(x.Shape)
	if err != nil || !winoApplies(&g) {
		return nil // ForwardWith reports the error
	}
	out := tensor.Empty(g.n, g.o, g.oh, g.ow)
	convForwardWinograd(&g, x.Data, l.wino.transformed(l.W.Data, g.o, g.c), data(l.B), out.Data)
	return out
}

// forwardBF16 is ForwardWith(x, l.W, l.B) with the GEMMs in bfloat16.
func (l *Conv2d) forwardBF16(x *tensor.T) *tensor.T {
	g, err := l.geom(x.Shape)
	if err != nil {
		panic("nn: " + err.Error())
	}
	out := tensor.Empty(g.n, g.o, g.oh, g.ow)
	convForwardPacked(&g, x.Data, l.W.Data, l.bf16.packed(l.W), data(l.B), out.Data)
	return out
}

// Backward returns the input gradient Wᵀ·gout (a transposed convolution).
func (l *Conv2d) Backward(in []*tensor.T, _, gout *tensor.T) []*tensor.T {
	return []*tensor.T{l.BackwardWith(gout, l.W, in[0].Shape)}
}

// ForwardWith computes the convolution of x with weight w and bias b
// (b may be nil), keeping l's stride, padding, dilation and groups. w may
// have more output channels than l.W (a multiple of the groups), e.g. two
// modified weights stacked along the output channels.
func (l *Conv2d) ForwardWith(x, w, b *tensor.T) *tensor.T {
	g, err := l.geomW(x.Shape, w.Shape)
	if err != nil {
		panic("nn: " + err.Error())
	}
	out := tensor.Empty(g.n, g.o, g.oh, g.ow) // convForward overwrites it
	convForward(&g, x.Data, w.Data, data(b), out.Data)
	return out
}

// BackwardWith computes the input gradient of the convolution with weight w
// for output gradient gy: the transposed convolution wᵀ·gy, of shape
// inShape. As in ForwardWith, w may have more output channels than l.W.
func (l *Conv2d) BackwardWith(gy, w *tensor.T, inShape []int) *tensor.T {
	g, err := l.geomW(inShape, w.Shape)
	if err != nil {
		panic("nn: " + err.Error())
	}
	gx := tensor.New(inShape...)
	convTransposed(&g, gy.Data, w.Data, nil, gx.Data)
	return gx
}

// TransposedWeight returns the weight of the transposed convolution of w,
// for BackwardWithTransposed: w flipped in space with its input and output
// channels swapped, if l computes its transposed convolution that way
// (stride 1, at least 16 input channels per group, not 1×1), else nil.
// Callers that run many transposed passes with one weight compute it once.
func (l *Conv2d) TransposedWeight(w *tensor.T) *tensor.T {
	g := convGeom{
		o: w.Shape[0], kh: w.Shape[2], kw: w.Shape[3],
		groups: max(l.Groups, 1), cg: w.Shape[1],
		sh: l.Stride[0], sw: l.Stride[1], pt: l.Pad[0], pl: l.Pad[1],
	}
	g.og = g.o / g.groups
	g.pointwise = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && l.Pad == [4]int{}
	if !g.flippable() {
		return nil
	}
	wt := tensor.New(g.groups*g.cg, g.og, g.kh, g.kw)
	flipWeights(&g, w.Data, wt.Data)
	return wt
}

// BackwardWithTransposed is BackwardWith for the weight w given with its
// TransposedWeight wt (which may be nil).
func (l *Conv2d) BackwardWithTransposed(gy, w, wt *tensor.T, inShape []int) *tensor.T {
	g, err := l.geomW(inShape, w.Shape)
	if err != nil {
		panic("nn: " + err.Error())
	}
	gx := tensor.New(inShape...)
	var wf []float32
	if wt != nil && g.flippable() {
		wf = wt.Data
	}
	convTransposed(&g, gy.Data, w.Data, wf, gx.Data)
	return gx
}

// data returns t's values, or nil for a nil tensor (an absent bias).
func data(t *tensor.T) []float32 {
	if t == nil {
		return nil
	}
	return t.Data
}
