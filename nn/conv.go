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

func (l *Conv2d) geom(in []int) (convGeom, error) {
	var g convGeom
	if err := want4D("Conv", in); err != nil {
		return g, err
	}
	g.n, g.c, g.h, g.w = in[0], in[1], in[2], in[3]
	g.o, g.kh, g.kw = l.W.Shape[0], l.W.Shape[2], l.W.Shape[3]
	g.groups = max(l.Groups, 1)
	g.cg, g.og = l.W.Shape[1], g.o/g.groups
	if g.cg*g.groups != g.c {
		return g, shapeErr("Conv", "weight %s with %d groups needs %d input channels, got %d",
			tensor.ShapeString(l.W.Shape), g.groups, g.cg*g.groups, g.c)
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
	g.kdim, g.pix = g.cg*g.kh*g.kw, g.oh*g.ow
	g.pointwise = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && l.Pad == [4]int{}
	return g, nil
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

// Forward computes the convolution of in[0].
func (l *Conv2d) Forward(in []*tensor.T) *tensor.T { return l.ForwardWith(in[0], l.W, l.B) }

// Backward returns the input gradient Wᵀ·gout (a transposed convolution).
func (l *Conv2d) Backward(in []*tensor.T, _, gout *tensor.T) []*tensor.T {
	return []*tensor.T{l.BackwardWith(gout, l.W, in[0].Shape)}
}

// ForwardWith computes the convolution of x with weight w and bias b
// (b may be nil), keeping l's stride, padding, dilation and groups.
func (l *Conv2d) ForwardWith(x, w, b *tensor.T) *tensor.T {
	g, err := l.geom(x.Shape)
	if err != nil {
		panic("nn: " + err.Error())
	}
	out := tensor.New(g.n, g.o, g.oh, g.ow)
	perImage := func(n int, mm gemmFunc, col []float32) {
		xn := x.Data[n*g.c*g.h*g.w : (n+1)*g.c*g.h*g.w]
		yn := out.Data[n*g.o*g.pix : (n+1)*g.o*g.pix]
		for gr := 0; gr < g.groups; gr++ {
			xg := xn[gr*g.cg*g.h*g.w : (gr+1)*g.cg*g.h*g.w]
			src := xg
			if !g.pointwise {
				im2col(&g, xg, col)
				src = col
			}
			wg := w.Data[gr*g.og*g.kdim : (gr+1)*g.og*g.kdim]
			mm(false, false, g.og, g.pix, g.kdim, 1, wg, g.kdim, src, g.pix, 0, yn[gr*g.og*g.pix:], g.pix)
		}
		if b != nil {
			for o := 0; o < g.o; o++ {
				bo := b.Data[o]
				yo := yn[o*g.pix : (o+1)*g.pix]
				for i := range yo {
					yo[i] += bo
				}
			}
		}
	}
	overImages(g.n, g.kdim*g.pix, g.pointwise, perImage)
	return out
}

// BackwardWith computes the input gradient of the convolution with weight w
// for output gradient gy: the transposed convolution wᵀ·gy, of shape inShape.
func (l *Conv2d) BackwardWith(gy, w *tensor.T, inShape []int) *tensor.T {
	g, err := l.geom(inShape)
	if err != nil {
		panic("nn: " + err.Error())
	}
	gx := tensor.New(inShape...)
	perImage := func(n int, mm gemmFunc, col []float32) {
		gxn := gx.Data[n*g.c*g.h*g.w : (n+1)*g.c*g.h*g.w]
		gyn := gy.Data[n*g.o*g.pix : (n+1)*g.o*g.pix]
		for gr := 0; gr < g.groups; gr++ {
			gxg := gxn[gr*g.cg*g.h*g.w : (gr+1)*g.cg*g.h*g.w]
			wg := w.Data[gr*g.og*g.kdim : (gr+1)*g.og*g.kdim]
			dst := gxg
			if !g.pointwise {
				dst = col
			}
			mm(true, false, g.kdim, g.pix, g.og, 1, wg, g.kdim, gyn[gr*g.og*g.pix:], g.pix, 0, dst, g.pix)
			if !g.pointwise {
				col2im(&g, col, gxg)
			}
		}
	}
	overImages(g.n, g.kdim*g.pix, g.pointwise, perImage)
	return gx
}

type gemmFunc = func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// overImages runs fn for each of n images, giving it a column buffer of
// colSize floats: in parallel over images with a serial GEMM when there are
// enough images to keep every core busy, otherwise one image at a time
// with the parallel GEMM.
func overImages(n, colSize int, pointwise bool, fn func(n int, mm gemmFunc, col []float32)) {
	if pointwise {
		colSize = 0
	}
	w := workers()
	if n >= w && w > 1 {
		parallelFor(n, 1, func(lo, hi int) {
			col := make([]float32, colSize)
			for i := lo; i < hi; i++ {
				fn(i, gemmSerial, col)
			}
		})
		return
	}
	col := make([]float32, colSize)
	for i := 0; i < n; i++ {
		fn(i, gemm, col)
	}
}

// im2col writes the column matrix of one group of one image x (cg×h×w):
// row (c·kh+u)·kw+v, column i·ow+j holds x[c, i·sh−pt+u·dh, j·sw−pl+v·dw]
// or 0 outside the image.
func im2col(g *convGeom, x, col []float32) {
	for c := 0; c < g.cg; c++ {
		xc := x[c*g.h*g.w : (c+1)*g.h*g.w]
		for u := 0; u < g.kh; u++ {
			for v := 0; v < g.kw; v++ {
				row := col[((c*g.kh+u)*g.kw+v)*g.pix:]
				for i := 0; i < g.oh; i++ {
					dst := row[i*g.ow : (i+1)*g.ow]
					y := i*g.sh - g.pt + u*g.dh
					if y < 0 || y >= g.h {
						clear(dst)
						continue
					}
					xr := xc[y*g.w : (y+1)*g.w]
					x0 := -g.pl + v*g.dw
					if g.sw == 1 {
						// contiguous: zero the out-of-range ends, copy the middle
						lo := max(0, -x0)
						hi := min(g.ow, g.w-x0)
						if hi < lo {
							hi = lo
						}
						clear(dst[:lo])
						copy(dst[lo:hi], xr[x0+lo:x0+hi])
						clear(dst[hi:])
						continue
					}
					for j := range dst {
						xx := x0 + j*g.sw
						if xx >= 0 && xx < g.w {
							dst[j] = xr[xx]
						} else {
							dst[j] = 0
						}
					}
				}
			}
		}
	}
}

// col2im adds the column matrix col back into the image gx (cg×h×w), the
// transpose of im2col.
func col2im(g *convGeom, col, gx []float32) {
	for c := 0; c < g.cg; c++ {
		gc := gx[c*g.h*g.w : (c+1)*g.h*g.w]
		for u := 0; u < g.kh; u++ {
			for v := 0; v < g.kw; v++ {
				row := col[((c*g.kh+u)*g.kw+v)*g.pix:]
				for i := 0; i < g.oh; i++ {
					src := row[i*g.ow : (i+1)*g.ow]
					y := i*g.sh - g.pt + u*g.dh
					if y < 0 || y >= g.h {
						continue
					}
					gr := gc[y*g.w : (y+1)*g.w]
					x0 := -g.pl + v*g.dw
					for j, s := range src {
						xx := x0 + j*g.sw
						if xx >= 0 && xx < g.w {
							gr[xx] += s
						}
					}
				}
			}
		}
	}
}
