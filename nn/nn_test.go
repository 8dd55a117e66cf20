package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/xai-go/lrp/tensor"
)

func randT(r *rand.Rand, shape ...int) *tensor.T {
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(r.NormFloat64())
	}
	return t
}

func dot64(a, b *tensor.T) float64 {
	var s float64
	for i := range a.Data {
		s += float64(a.Data[i]) * float64(b.Data[i])
	}
	return s
}

func absSum(a *tensor.T) float64 {
	var s float64
	for _, v := range a.Data {
		s += math.Abs(float64(v))
	}
	return s
}

// naiveConv is the convolution formula of Conv2d's doc comment in float64.
func naiveConv(l *Conv2d, x *tensor.T) []float64 {
	s, err := l.OutputShape([][]int{x.Shape})
	if err != nil {
		panic(err)
	}
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	o, oh, ow := s[1], s[2], s[3]
	kh, kw := l.W.Shape[2], l.W.Shape[3]
	cg := l.W.Shape[1]
	og := o / l.Groups
	out := make([]float64, tensor.Size(s))
	for b := 0; b < n; b++ {
		for oc := 0; oc < o; oc++ {
			g := oc / og
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					var sum float64
					if l.B != nil {
						sum = float64(l.B.Data[oc])
					}
					for ci := 0; ci < cg; ci++ {
						for u := 0; u < kh; u++ {
							for v := 0; v < kw; v++ {
								y := i*l.Stride[0] - l.Pad[0] + u*l.Dilation[0]
								xx := j*l.Stride[1] - l.Pad[1] + v*l.Dilation[1]
								if y < 0 || y >= h || xx < 0 || xx >= w {
									continue
								}
								sum += float64(l.W.Data[((oc*cg+ci)*kh+u)*kw+v]) * float64(x.Data[((b*c+g*cg+ci)*h+y)*w+xx])
							}
						}
					}
					out[((b*o+oc)*oh+i)*ow+j] = sum
				}
			}
		}
	}
	return out
}

func TestConvAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		n, c, h, w, o, kh, kw, groups int
		stride, dil                   [2]int
		pad                           [4]int
		bias                          bool
	}{
		{1, 3, 8, 8, 4, 3, 3, 1, [2]int{1, 1}, [2]int{1, 1}, [4]int{1, 1, 1, 1}, true},
		{2, 4, 9, 7, 6, 3, 2, 2, [2]int{2, 1}, [2]int{1, 2}, [4]int{1, 2, 0, 1}, true},
		{3, 6, 5, 5, 6, 3, 3, 6, [2]int{1, 1}, [2]int{1, 1}, [4]int{1, 1, 1, 1}, false},
		{2, 5, 4, 6, 3, 1, 1, 1, [2]int{1, 1}, [2]int{1, 1}, [4]int{}, true},
		{1, 2, 11, 11, 3, 5, 5, 1, [2]int{3, 3}, [2]int{2, 2}, [4]int{2, 2, 2, 2}, true},
	}
	for ci, tc := range cases {
		l := &Conv2d{W: randT(r, tc.o, tc.c/tc.groups, tc.kh, tc.kw), Stride: tc.stride, Pad: tc.pad, Dilation: tc.dil, Groups: tc.groups}
		if tc.bias {
			l.B = randT(r, tc.o)
		}
		x := randT(r, tc.n, tc.c, tc.h, tc.w)
		y := l.Forward([]*tensor.T{x})
		want := naiveConv(l, x)
		for i, v := range want {
			if math.Abs(float64(y.Data[i])-v) > 1e-4*(1+math.Abs(v)) {
				t.Fatalf("case %d: y[%d] = %g, want %g", ci, i, y.Data[i], v)
			}
		}
		checkAdjoint(t, r, l, x, y)
	}
}

// checkAdjoint checks ⟨A x, g⟩ = ⟨x, Aᵀ g⟩ for a layer that is linear in
// its input (bias removed by differencing with A·0).
func checkAdjoint(t *testing.T, r *rand.Rand, l Layer, x, y *tensor.T) {
	t.Helper()
	zero := tensor.New(x.Shape...)
	y0 := l.Forward([]*tensor.T{zero})
	g := randT(r, y.Shape...)
	gx := l.Backward([]*tensor.T{x}, y, g)[0]
	lhs := dot64(y, g) - dot64(y0, g)
	rhs := dot64(x, gx)
	scale := absSum(y)*0 + math.Sqrt(dot64(x, x)*dot64(gx, gx)) + 1
	if math.Abs(lhs-rhs) > 1e-4*scale {
		t.Fatalf("%s: ⟨Ax,g⟩ = %g, ⟨x,Aᵀg⟩ = %g", l.Type(), lhs, rhs)
	}
}

func TestLinear(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	l := &Linear{W: randT(r, 5, 7), B: randT(r, 5)}
	x := randT(r, 3, 7)
	y := l.Forward([]*tensor.T{x})
	for n := 0; n < 3; n++ {
		for o := 0; o < 5; o++ {
			want := float64(l.B.Data[o])
			for i := 0; i < 7; i++ {
				want += float64(l.W.Data[o*7+i]) * float64(x.Data[n*7+i])
			}
			if got := float64(y.Data[n*5+o]); math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
				t.Fatalf("y[%d,%d] = %g, want %g", n, o, got, want)
			}
		}
	}
	checkAdjoint(t, r, l, x, y)
}

func TestLinearLayersAdjoint(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x := randT(r, 2, 3, 9, 8)
	layers := []Layer{
		&AvgPool2d{Pool2d: Pool2d{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}, CeilMode: true}, CountIncludePad: true},
		&AvgPool2d{Pool2d: Pool2d{Kernel: [2]int{2, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 0, 1, 1}}},
		&AdaptiveAvgPool2d{OutH: 4, OutW: 3},
		&AdaptiveAvgPool2d{OutH: 1, OutW: 1},
		&Pad{Pads: [4]int{1, 2, 0, 3}},
		&Flatten{Axis: 1},
		&Reshape{Shape: []int{0, -1, 4}},
		&BatchNorm2d{A: []float32{1, 2, 3}, B: []float32{0, 0, 0}},
		Identity{Kind: "Dropout"},
	}
	for _, l := range layers {
		y := l.Forward([]*tensor.T{x})
		checkAdjoint(t, r, l, x, y)
	}
}

// checkGradient compares Backward with central finite differences of
// ⟨Forward(x), g⟩ in a few coordinates.
func checkGradient(t *testing.T, r *rand.Rand, l Layer, in []*tensor.T) {
	t.Helper()
	y := l.Forward(in)
	g := randT(r, y.Shape...)
	grads := l.Backward(in, y, g)
	for k, x := range in {
		for trial := 0; trial < 10; trial++ {
			i := r.IntN(len(x.Data))
			orig := x.Data[i]
			const h = 1e-2
			x.Data[i] = orig + h
			fp := dot64(l.Forward(in), g)
			x.Data[i] = orig - h
			fm := dot64(l.Forward(in), g)
			x.Data[i] = orig
			num := (fp - fm) / (2 * h)
			if got := float64(grads[k].Data[i]); math.Abs(got-num) > 2e-2*(1+math.Abs(num)) {
				t.Errorf("%s input %d [%d]: gradient %g, finite difference %g", l.Type(), k, i, got, num)
			}
		}
	}
}

func TestNonlinearGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	x4 := func() *tensor.T { return randT(r, 2, 3, 7, 6) }
	checkGradient(t, r, ReLU{}, []*tensor.T{x4()})
	checkGradient(t, r, &Clip{Min: -0.5, Max: 0.5}, []*tensor.T{x4()})
	checkGradient(t, r, &MaxPool2d{Pool2d{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}, Dilation: [2]int{1, 2}, CeilMode: true}}, []*tensor.T{x4()})
	checkGradient(t, r, &Softmax{Axis: 1}, []*tensor.T{randT(r, 3, 5)})
	checkGradient(t, r, &Softmax{Axis: 1, Legacy: true}, []*tensor.T{randT(r, 2, 3, 4)})
	checkGradient(t, r, &Binary{Op: OpMul}, []*tensor.T{x4(), randT(r, 3, 1, 6)})
	checkGradient(t, r, &Binary{Op: OpDiv, Const: tensor.FromData([]float32{2, 3, 4}, 3, 1, 1)}, []*tensor.T{x4()})
	checkGradient(t, r, &Binary{Op: OpSub}, []*tensor.T{randT(r, 4, 1), randT(r, 1, 5)})
	checkGradient(t, r, &Concat{Axis: 1}, []*tensor.T{x4(), randT(r, 2, 1, 7, 6)})
}

func TestGraphForwardBackward(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	g := &Graph{}
	c1 := g.Add("conv1", &Conv2d{W: randT(r, 4, 3, 3, 3), B: randT(r, 4), Stride: [2]int{1, 1}, Pad: [4]int{1, 1, 1, 1}, Dilation: [2]int{1, 1}, Groups: 1}, 0)
	r1 := g.Add("relu1", ReLU{}, c1)
	c2 := g.Add("conv2", &Conv2d{W: randT(r, 4, 4, 3, 3), Stride: [2]int{1, 1}, Pad: [4]int{1, 1, 1, 1}, Dilation: [2]int{1, 1}, Groups: 1}, r1)
	a := g.Add("add", &Binary{Op: OpAdd}, c2, r1)
	p := g.Add("pool", &AdaptiveAvgPool2d{OutH: 1, OutW: 1}, a)
	f := g.Add("flatten", &Flatten{Axis: 1}, p)
	g.Add("fc", &Linear{W: randT(r, 2, 4), B: randT(r, 2)}, f)
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	x := randT(r, 2, 3, 6, 6)
	if err := g.CheckInput(x.Shape); err != nil {
		t.Fatal(err)
	}
	gout := randT(r, 2, 2)
	vals := g.Forward(x)
	gx := g.Backward(vals, g.Output, gout)[0]
	for trial := 0; trial < 10; trial++ {
		i := r.IntN(len(x.Data))
		orig := x.Data[i]
		x.Data[i] = orig + 1e-2
		fp := dot64(g.Run(x), gout)
		x.Data[i] = orig - 1e-2
		fm := dot64(g.Run(x), gout)
		x.Data[i] = orig
		num := (fp - fm) / 2e-2
		if math.Abs(float64(gx.Data[i])-num) > 2e-2*(1+math.Abs(num)) {
			t.Errorf("graph gradient [%d] = %g, finite difference %g", i, gx.Data[i], num)
		}
	}
	if err := g.CheckInput([]int{2, 3, 6}); err == nil {
		t.Error("3-D input accepted")
	}
}

// TestLinearRows compares Linear's row-by-row products with the GEMM,
// forward and backward, with zeros in the output gradient (which it skips)
// and a width that spans several column blocks, and checks that a sample's
// output and input gradient do not depend on the batch it is in.
func TestLinearRows(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const in, out = 5000, 37
	l := &Linear{W: randT(r, out, in), B: randT(r, out)}
	var first, firstGrad []float32
	for _, n := range []int{1, 2, 5, 9} {
		x := randT(rand.New(rand.NewPCG(11, 12)), n, in)
		gy := randT(rand.New(rand.NewPCG(13, 14)), n, out)
		for o := 0; o < out; o += 3 {
			for i := 0; i < n; i++ {
				gy.Data[i*out+o] = 0
			}
		}
		gy.Data[1] = 0
		y := l.Forward([]*tensor.T{x})
		gx := l.Backward([]*tensor.T{x}, y, gy)[0]
		wantY := tensor.New(n, out)
		for i := 0; i < n; i++ {
			copy(wantY.Data[i*out:], l.B.Data)
		}
		gemm(false, true, n, out, in, 1, x.Data, in, l.W.Data, in, 1, wantY.Data, out)
		wantGx := tensor.New(n, in)
		gemm(false, false, n, in, out, 1, gy.Data, out, l.W.Data, in, 0, wantGx.Data, in)
		// Sample 0 is the same in every batch (the generator is reseeded).
		if first == nil {
			first, firstGrad = y.Data[:out], gx.Data[:in]
		} else if !slices.Equal(y.Data[:out], first) || !slices.Equal(gx.Data[:in], firstGrad) {
			t.Errorf("batch %d: sample 0's output or gradient differs from batch 1's", n)
		}
		for _, c := range []struct {
			name      string
			got, want *tensor.T
		}{{"forward", y, wantY}, {"backward", gx, wantGx}} {
			for i, v := range c.want.Data {
				if d := math.Abs(float64(c.got.Data[i] - v)); d > 1e-3*(1+math.Abs(float64(v))) {
					t.Fatalf("n %d %s [%d]: %g, GEMM gives %g", n, c.name, i, c.got.Data[i], v)
				}
			}
		}
	}
}

// viewLayer returns its input itself, breaking Forward's contract the way
// a careless user layer might; Run must then not recycle the shared memory.
type viewLayer struct{}

func (viewLayer) Type() string                                       { return "View" }
func (viewLayer) OutputShape(in [][]int) ([]int, error)              { return in[0], nil }
func (viewLayer) Forward(in []*tensor.T) *tensor.T                   { return in[0] }
func (viewLayer) Backward(_ []*tensor.T, _, g *tensor.T) []*tensor.T { return []*tensor.T{g} }

// TestRunRecycles checks that Run, which recycles intermediate values,
// gives Forward's output on a graph with a branch, a value read twice and
// layers that alias their input (a view, Identity), with activations large enough to be
// recycled, over repeated runs.
func TestRunRecycles(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	g := &Graph{}
	c1 := g.Add("c1", &Conv2d{W: randT(r, 8, 3, 3, 3), Stride: [2]int{1, 1}, Pad: [4]int{1, 1, 1, 1}, Dilation: [2]int{1, 1}}, 0)
	a := g.Add("relu", ReLU{}, c1)
	v := g.Add("view", viewLayer{}, a)
	c2 := g.Add("c2", &Conv2d{W: randT(r, 8, 8, 3, 3), Stride: [2]int{1, 1}, Pad: [4]int{1, 1, 1, 1}, Dilation: [2]int{1, 1}}, v)
	c2d := g.Add("drop", Identity{Kind: "Dropout"}, c2)
	ad := g.Add("drop_1", Identity{Kind: "Dropout"}, a)
	s := g.Add("add", &Binary{Op: OpAdd}, c2d, ad)
	d := g.Add("double", &Binary{Op: OpAdd}, s, s)
	g.Output = g.Add("pool", &MaxPool2d{Pool2d{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}, Dilation: [2]int{1, 1}}}, d)
	x := randT(r, 2, 3, 96, 96)
	want := g.Forward(x)[g.Output].Clone()
	for run := 0; run < 3; run++ {
		got := g.Run(x)
		for i, w := range want.Data {
			if got.Data[i] != w {
				t.Fatalf("run %d: output[%d] = %g, Forward gives %g", run, i, got.Data[i], w)
			}
		}
	}
}

// TestOutputsFullyWritten runs the layers whose outputs come from
// tensor.Empty with their output size poisoned in the free list (NaN
// buffers recycled just before), and checks that they give what they give
// on fresh memory: every element must be written.
func TestOutputsFullyWritten(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	x := randT(r, 2, 16, 48, 48) // 73728 elements: large enough to be recycled
	conv := &Conv2d{W: randT(r, 16, 16, 3, 3), B: randT(r, 16), Stride: [2]int{1, 1}, Pad: [4]int{1, 1, 1, 1}, Dilation: [2]int{1, 1}}
	pool := &MaxPool2d{Pool2d{Kernel: [2]int{2, 2}, Stride: [2]int{1, 1}, Pad: [4]int{0, 0, 1, 1}, Dilation: [2]int{1, 1}}}
	cases := []struct {
		name string
		run  func() *tensor.T
	}{
		{"conv", func() *tensor.T { return conv.Forward([]*tensor.T{x}) }},
		{"relu", func() *tensor.T { return ReLU{}.Forward([]*tensor.T{x}) }},
		{"relu backward", func() *tensor.T { return ReLU{}.Backward([]*tensor.T{x}, nil, x)[0] }},
		{"clip", func() *tensor.T { return (&Clip{Min: -0.5, Max: 0.5}).Forward([]*tensor.T{x}) }},
		{"maxpool", func() *tensor.T { return pool.Forward([]*tensor.T{x}) }},
		{"add", func() *tensor.T { return (&Binary{Op: OpAdd}).Forward([]*tensor.T{x, x}) }},
		{"mul broadcast", func() *tensor.T {
			return (&Binary{Op: OpMul}).Forward([]*tensor.T{x, randT(rand.New(rand.NewPCG(1, 1)), 16, 1, 1)})
		}},
	}
	for _, c := range cases {
		want := c.run()
		for k := 0; k < 3; k++ {
			bad := make([]float32, want.Len())
			for i := range bad {
				bad[i] = float32(math.NaN())
			}
			tensor.Recycle(tensor.FromData(bad, len(bad)))
		}
		got := c.run()
		for i, v := range want.Data {
			if got.Data[i] != v {
				t.Fatalf("%s: element %d = %g on recycled memory, %g on fresh", c.name, i, got.Data[i], v)
			}
		}
	}
}
