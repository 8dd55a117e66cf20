package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/xai-go/lrp/tensor"
)

// MatMul against a float64 loop over explicit indices, and its Backward
// against the adjoint identity <MatMul(x), g> = <x, Backward(g)>.
func TestMatMulStack(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	x := randT(r, 2, 3, 4, 5)
	for _, bs := range [][]int{{1, 3, 5, 6}, {3, 5, 6}, {2, 3, 5, 6}, {1, 1, 5, 6}} {
		l := &MatMulConst{B: randT(r, bs...)}
		y := l.Forward([]*tensor.T{x})
		if !tensor.SameShape(y.Shape, []int{2, 3, 4, 6}) {
			t.Fatalf("B %v: output shape %v", bs, y.Shape)
		}
		at := func(n, c int) int { // B's matrix for x's matrix (n, c)
			if len(bs) == 3 {
				return c
			}
			return min(n, bs[0]-1)*bs[1] + min(c, bs[1]-1)
		}
		for n := range 2 {
			for c := range 3 {
				for m := range 4 {
					for p := range 6 {
						var s float64
						for k := range 5 {
							s += float64(x.Data[((n*3+c)*4+m)*5+k]) * float64(l.B.Data[(at(n, c)*5+k)*6+p])
						}
						if got := y.Data[((n*3+c)*4+m)*6+p]; math.Abs(float64(got)-s) > 1e-5*(1+math.Abs(s)) {
							t.Fatalf("B %v: y[%d,%d,%d,%d] = %g, want %g", bs, n, c, m, p, got, s)
						}
					}
				}
			}
		}
		g := randT(r, y.Shape...)
		gx := l.Backward([]*tensor.T{x}, y, g)[0]
		lhs, rhs := dot64(y, g), dot64(x, gx)
		if math.Abs(lhs-rhs) > 1e-4*(1+math.Abs(lhs)) {
			t.Errorf("B %v: <y, g> = %g, <x, gx> = %g", bs, lhs, rhs)
		}
	}
	for _, bs := range [][]int{{2, 2, 5, 6}, {3, 4, 6}, {1, 2, 3, 5, 6}, {3, 6, 6}} {
		if _, err := (&MatMulConst{B: tensor.New(bs...)}).OutputShape([][]int{x.Shape}); err == nil {
			t.Errorf("B %v: input %v accepted", bs, x.Shape)
		}
	}
}
