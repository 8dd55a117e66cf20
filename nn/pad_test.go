package nn

import (
	"math"
	"testing"

	"github.com/xai-go/lrp/tensor"
)

// TestPadModes checks reflect and edge padding of a 1×1×3×4 ramp (0..11)
// by (top 2, left 1, bottom 1, right 3) against NumPy:
//
//	/usr/bin/python3 -c "import numpy as np; x=np.arange(12.).reshape(1,1,3,4);
//	print(np.pad(x,((0,0),(0,0),(2,1),(1,3)),mode=MODE).flatten())"
//
// and Backward as the adjoint of Forward: ⟨Forward(x), g⟩ = ⟨x, Backward(g)⟩.
func TestPadModes(t *testing.T) {
	want := map[PadMode][]float32{
		PadReflect: {9, 8, 9, 10, 11, 10, 9, 8, 5, 4, 5, 6, 7, 6, 5, 4, 1, 0, 1, 2, 3, 2, 1, 0, 5, 4, 5, 6, 7, 6, 5, 4, 9, 8, 9, 10, 11, 10, 9, 8, 5, 4, 5, 6, 7, 6, 5, 4},
		PadEdge:    {0, 0, 1, 2, 3, 3, 3, 3, 0, 0, 1, 2, 3, 3, 3, 3, 0, 0, 1, 2, 3, 3, 3, 3, 4, 4, 5, 6, 7, 7, 7, 7, 8, 8, 9, 10, 11, 11, 11, 11, 8, 8, 9, 10, 11, 11, 11, 11},
	}
	x := tensor.New(1, 1, 3, 4)
	for i := range x.Data {
		x.Data[i] = float32(i)
	}
	for mode, w := range want {
		l := &Pad{Pads: [4]int{2, 1, 1, 3}, Mode: mode}
		y := l.Forward([]*tensor.T{x})
		if !tensor.SameShape(y.Shape, []int{1, 1, 6, 8}) {
			t.Fatalf("mode %d: shape %v", mode, y.Shape)
		}
		for i, v := range w {
			if y.Data[i] != v {
				t.Fatalf("mode %d: element %d = %g, want %g", mode, i, y.Data[i], v)
			}
		}
		g := tensor.New(y.Shape...)
		for i := range g.Data {
			g.Data[i] = float32(math.Sin(float64(i)))
		}
		gx := l.Backward([]*tensor.T{x}, y, g)[0]
		lhs, rhs := dot64(y, g), dot64(x, gx)
		if math.Abs(lhs-rhs) > 1e-4*math.Abs(lhs) {
			t.Errorf("mode %d: ⟨Forward(x), g⟩ = %g but ⟨x, Backward(g)⟩ = %g", mode, lhs, rhs)
		}
	}
	if _, err := (&Pad{Pads: [4]int{3, 0, 0, 0}, Mode: PadReflect}).OutputShape([][]int{{1, 1, 3, 4}}); err == nil {
		t.Error("reflect padding as large as the input accepted")
	}
}
