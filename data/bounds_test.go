package data

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestBoundsAndMeanStd compares with testdata/bounds.json (gen_bounds.py,
// an independent float32 computation in Python); exact, as both round the
// same float32 operations.
func TestBoundsAndMeanStd(t *testing.T) {
	b, err := os.ReadFile("testdata/bounds.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]struct {
		Channels  int
		Mean, Std []float64
		Low, High []float32
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for name, w := range want {
		p, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		mean, std, err := p.MeanStd(w.Channels)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(mean, w.Mean) || !slices.Equal(std, w.Std) {
			t.Errorf("%s: MeanStd = %v, %v, want %v, %v", name, mean, std, w.Mean, w.Std)
		}
		for _, shape := range [][]int{{2, w.Channels, 3, 5}, {w.Channels, 2, 2}} {
			low, high, err := p.Bounds(shape)
			if err != nil {
				t.Fatal(err)
			}
			if want := []int{w.Channels, shape[len(shape)-2], shape[len(shape)-1]}; !slices.Equal(low.Shape, want) || !slices.Equal(high.Shape, want) {
				t.Fatalf("%s: bounds of %v have shapes %v, %v, want %v", name, shape, low.Shape, high.Shape, want)
			}
			plane := low.Len() / w.Channels
			for i := range low.Data {
				if c := i / plane; low.Data[i] != w.Low[c] || high.Data[i] != w.High[c] {
					t.Fatalf("%s: bounds at %d (channel %d) = %v, %v, want %v, %v", name, i, c, low.Data[i], high.Data[i], w.Low[c], w.High[c])
				}
			}
		}
	}
}

func TestBoundsErrors(t *testing.T) {
	p, err := Lookup("imagenet")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		shape []int
		want  string
	}{
		{[]int{3, 4, 4}, ""}, // C×H×W: fine
		{[]int{3, 4}, "N×C×H×W"},
		{[]int{1, 1, 4, 4}, "channels"},
		{[]int{1, 3, 0, 4}, "within"},
		{[]int{1, 3, -1, 4}, "within"},
		{[]int{1, 3, 1 << 20, 4}, "within"},
	} {
		_, _, err := p.Bounds(c.shape)
		if (c.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("Bounds(%v): error %v, want %q", c.shape, err, c.want)
		}
	}
	if _, _, err := p.MeanStd(1); err == nil || !strings.Contains(err.Error(), "normalizes 3 channels") {
		t.Errorf("MeanStd(1) of imagenet: error %v", err)
	}
	if _, _, err := p.MeanStd(0); err == nil {
		t.Error("MeanStd(0): no error")
	}
}
