package viz

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/xai-go/lrp/tensor"
)

// TestResampleRelevance compares with PyTorch's bilinear interpolation
// (testdata/resample.json, written by testdata/gen_resample.py), and
// checks that a region inside a larger picture holds the same values,
// shifted, with zeros around it.
func TestResampleRelevance(t *testing.T) {
	b, err := os.ReadFile("testdata/resample.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Shape []int
		In    []float64
		Cases []struct {
			W, H int
			Out  []float64
		}
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	in := make([]float32, len(g.In))
	for i, v := range g.In {
		in[i] = float32(v)
	}
	r := tensor.FromData(in, g.Shape...)
	for _, c := range g.Cases {
		got, err := ResampleRelevance(r, c.W, c.H, 0, 0, float64(c.W), float64(c.H))
		if err != nil {
			t.Fatal(err)
		}
		if got.Shape[1] != c.H || got.Shape[2] != c.W {
			t.Fatalf("%d×%d: shape %v", c.W, c.H, got.Shape)
		}
		for i, want := range c.Out {
			if math.Abs(float64(got.Data[i])-want) > 1e-5*(1+math.Abs(want)) {
				t.Errorf("%d×%d pixel %d: %g, PyTorch %g", c.W, c.H, i, got.Data[i], want)
			}
		}
		// The same map placed at (2, 1) in a picture 4 and 3 pixels larger.
		big, err := ResampleRelevance(r, c.W+4, c.H+3, 2, 1, float64(c.W+2), float64(c.H+1))
		if err != nil {
			t.Fatal(err)
		}
		for y := 0; y < c.H+3; y++ {
			for x := 0; x < c.W+4; x++ {
				want := float32(0)
				if x >= 2 && x < c.W+2 && y >= 1 && y < c.H+1 {
					want = got.Data[(y-1)*c.W+x-2]
				}
				if v := big.Data[y*(c.W+4)+x]; math.Abs(float64(v-want)) > 1e-6 {
					t.Errorf("%d×%d in a larger picture, pixel (%d,%d): %g, want %g", c.W, c.H, x, y, v, want)
				}
			}
		}
	}
	if _, err := ResampleRelevance(r, 0, 5, 0, 0, 1, 1); err == nil {
		t.Error("zero width accepted")
	}
	if _, err := ResampleRelevance(r, 5, 5, 3, 0, 3, 5); err == nil {
		t.Error("empty region accepted")
	}
}
