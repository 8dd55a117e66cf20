package data

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// TestSourceRegion compares with torchvision's Resize(256), CenterCrop(224)
// (testdata/region.json, written by testdata/gen_region.py).
func TestSourceRegion(t *testing.T) {
	b, err := os.ReadFile("testdata/region.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		W, H   int
		Region [4]float64
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	p, err := Lookup("imagenet-crop")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		x0, y0, x1, y1 := p.SourceRegion(c.W, c.H)
		for i, got := range []float64{x0, y0, x1, y1} {
			if math.Abs(got-c.Region[i]) > 1e-9 {
				t.Errorf("%d×%d: region %v, torchvision %v", c.W, c.H, []float64{x0, y0, x1, y1}, c.Region)
				break
			}
		}
	}
	q, _ := Lookup("imagenet")
	if x0, y0, x1, y1 := q.SourceRegion(500, 375); x0 != 0 || y0 != 0 || x1 != 500 || y1 != 375 {
		t.Errorf("resize: region %g %g %g %g, want the whole image", x0, y0, x1, y1)
	}
}
