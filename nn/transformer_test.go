package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/xai-go/lrp/tensor"
)

func TestTransformerLayerGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	checkGradient(t, r, &LayerNorm{Gamma: randT(r, 6), Beta: randT(r, 6), Eps: 1e-5}, []*tensor.T{randT(r, 2, 3, 6)})
	checkGradient(t, r, &LayerNorm{Gamma: randT(r, 3, 6), Beta: randT(r, 3, 6), Eps: 1e-5, Dims: 2}, []*tensor.T{randT(r, 2, 3, 6)})
	checkGradient(t, r, GELU{}, []*tensor.T{randT(r, 4, 5)})
	checkGradient(t, r, MatMul{}, []*tensor.T{randT(r, 2, 3, 4, 5), randT(r, 2, 3, 5, 2)})
	checkGradient(t, r, MatMul{}, []*tensor.T{randT(r, 4, 5), randT(r, 5, 3)})
}

func TestTransformerLinearLayersAdjoint(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	x := randT(r, 2, 5, 4, 3)
	for _, l := range []Layer{
		&Transpose{Perm: []int{0, 2, 3, 1}},
		&Transpose{Perm: []int{3, 1, 0, 2}},
		&Transpose{Perm: []int{2, 0, 1, 3}}, // rows move whole
		&Gather{Axis: 1, Indices: []int{0}, Scalar: true},
		&Gather{Axis: -1, Indices: []int{2, 0, 2}},
		&Slice{Axes: []int{1, 3}, Starts: []int{1, -2}, Ends: []int{1 << 30, 3}, Steps: []int{2, 1}},
		&Linear{W: randT(r, 4, 3)}, // tokens: leading dimensions kept
	} {
		y := l.Forward([]*tensor.T{x})
		checkAdjoint(t, r, l, x, y)
	}
}

// The slow, obvious forms of the layers.
func TestTransformerLayersAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	x := randT(r, 2, 3, 4)
	// Transpose [2,0,1]: y[k,i,j] = x[i,j,k].
	y := (&Transpose{Perm: []int{2, 0, 1}}).Forward([]*tensor.T{x})
	if !slices.Equal(y.Shape, []int{4, 2, 3}) {
		t.Fatalf("transpose shape %v", y.Shape)
	}
	for i := 0; i < 2; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 4; k++ {
				if y.Data[k*6+i*3+j] != x.Data[i*12+j*4+k] {
					t.Fatal("transpose differs")
				}
			}
		}
	}
	// Slice x[:, 1:3, ::2] and Gather x[:, 2].
	s := (&Slice{Axes: []int{1, 2}, Starts: []int{1, 0}, Ends: []int{3, 4}, Steps: []int{1, 2}}).Forward([]*tensor.T{x})
	g := (&Gather{Axis: 1, Indices: []int{-1}, Scalar: true}).Forward([]*tensor.T{x})
	for i := 0; i < 2; i++ {
		for j := 0; j < 2; j++ {
			for k := 0; k < 2; k++ {
				if s.Data[i*4+j*2+k] != x.Data[i*12+(j+1)*4+2*k] {
					t.Fatal("slice differs")
				}
			}
		}
		for k := 0; k < 4; k++ {
			if g.Data[i*4+k] != x.Data[i*12+2*4+k] {
				t.Fatal("gather differs")
			}
		}
	}
	// LayerNorm and GELU per element in float64.
	ln := &LayerNorm{Gamma: randT(r, 4), Beta: randT(r, 4), Eps: 1e-5}
	yl := ln.Forward([]*tensor.T{x})
	ge := GELU{}.Forward([]*tensor.T{x})
	for row := 0; row < 6; row++ {
		var m, v float64
		for k := 0; k < 4; k++ {
			m += float64(x.Data[row*4+k]) / 4
		}
		for k := 0; k < 4; k++ {
			d := float64(x.Data[row*4+k]) - m
			v += d * d / 4
		}
		for k := 0; k < 4; k++ {
			xv := float64(x.Data[row*4+k])
			want := (xv-m)/math.Sqrt(v+1e-5)*float64(ln.Gamma.Data[k]) + float64(ln.Beta.Data[k])
			if math.Abs(float64(yl.Data[row*4+k])-want) > 1e-5*(1+math.Abs(want)) {
				t.Fatalf("layernorm %g, want %g", yl.Data[row*4+k], want)
			}
			cdf := 0.5 * math.Erfc(-xv/math.Sqrt2)
			if w := xv * cdf; math.Abs(float64(ge.Data[row*4+k])-w) > 1e-6*(1+math.Abs(w)) {
				t.Fatalf("gelu %g, want %g", ge.Data[row*4+k], w)
			}
		}
	}
	// BatchConst: the class token once per image.
	c := &BatchConst{Const: tensor.FromData([]float32{1, 2}, 1, 1, 2), Shape: []int{0, 1, 1}, Scale: []int{1, 0, 0}}
	out := c.Forward([]*tensor.T{randT(r, 3, 5)})
	if !slices.Equal(out.Shape, []int{3, 1, 2}) || !slices.Equal(out.Data, []float32{1, 2, 1, 2, 1, 2}) {
		t.Errorf("batch constant %v %v", out.Shape, out.Data)
	}
	if g := c.Backward(nil, out, out); len(g) != 1 || g[0] != nil {
		t.Error("batch constant passes a gradient")
	}
}

func TestTransformerShapeErrors(t *testing.T) {
	for _, c := range []struct {
		l  Layer
		in [][]int
	}{
		{MatMul{}, [][]int{{2, 3, 4}, {2, 5, 6}}},
		{MatMul{}, [][]int{{2, 3, 4}, {3, 4, 6}}},
		{&Transpose{Perm: []int{0, 0, 1}}, [][]int{{2, 3, 4}}},
		{&Gather{Axis: 1, Indices: []int{5}}, [][]int{{2, 3}}},
		{&Slice{Axes: []int{1}, Starts: []int{0}, Ends: []int{2}, Steps: []int{-1}}, [][]int{{2, 3}}},
		{&Slice{Axes: []int{1}, Starts: []int{3}, Ends: []int{9}, Steps: []int{1}}, [][]int{{2, 3}}},
		{&LayerNorm{Gamma: tensor.New(4)}, [][]int{{2, 5}}},
		{&LayerNorm{Gamma: tensor.New(4), Dims: 3}, [][]int{{2, 4}}},
		{&LayerNorm{Gamma: tensor.New(6), Dims: 2}, [][]int{{2, 3, 4}}},
		{&LayerNorm{Gamma: tensor.New(4), Beta: tensor.New(3)}, [][]int{{2, 4}}},
		{&LayerNormStats{LayerNorm: LayerNorm{Gamma: tensor.New(4), Dims: 2}}, [][]int{{2, 5}}},
		{&BatchConst{Const: tensor.New(1, 3), Shape: []int{0, 2}, Scale: []int{1, 0}}, [][]int{{2, 3}}},
	} {
		if _, err := c.l.OutputShape(c.in); err == nil {
			t.Errorf("%s %v: no error", c.l.Type(), c.in)
		}
	}
}
