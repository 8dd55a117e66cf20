package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/xai-go/lrp/tensor"
)

// BatchNormTraining's Backward against central finite differences of
// <Forward(x), g>, for each of its three outputs.
func TestBatchNormTrainingBackward(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	x := randT(r, 2, 3, 3, 4)
	for out := range 3 {
		l := &BatchNormTraining{Scale: []float32{1.5, -0.7, 0.3}, Bias: []float32{0.1, 0.2, -0.3},
			Mean: []float32{0.5, -1, 0}, Var: []float32{1, 2, 0.5}, Eps: 1e-3, Momentum: 0.8, Output: out}
		y := l.Forward([]*tensor.T{x})
		g := randT(r, y.Shape...)
		gx := l.Backward([]*tensor.T{x}, y, g)[0]
		f := func(xp *tensor.T) float64 {
			return dot64(l.Forward([]*tensor.T{xp}), g)
		}
		const h = 1e-2
		for i := range x.Data {
			xp, xm := x.Clone(), x.Clone()
			xp.Data[i] += h
			xm.Data[i] -= h
			want := (f(xp) - f(xm)) / (2 * h)
			if d := math.Abs(float64(gx.Data[i]) - want); d > 2e-3*(1+math.Abs(want)) {
				t.Fatalf("output %d: gradient %d = %g, finite difference %g", out, i, gx.Data[i], want)
			}
		}
	}
}
