package slic

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/xai-go/lrp/tensor"
)

type golden struct {
	Cases []struct {
		Name     string
		C, H, W  int
		Image    []float64
		Labels   []int
		Segments int
	}
	Lab struct{ RGB, Lab [][]float64 }
}

func load(t *testing.T) golden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "slic.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestGoldenSkimage compares the labels with scikit-image's slic
// (testdata/gen_slic.py): every pixel must match.
func TestGoldenSkimage(t *testing.T) {
	g := load(t)
	x, err := tensor.LoadNpy(filepath.Join("..", "eval", "testdata", "input.npy"))
	if err != nil {
		t.Fatal(err)
	}
	evalImage := 0
	for _, c := range g.Cases {
		img := c.Image
		if img == nil {
			for _, v := range x.Batch(evalImage).Data {
				img = append(img, float64(v))
			}
			evalImage++
		}
		got, err := Segment(img, c.C, c.H, c.W, Options{})
		if err != nil {
			t.Fatal(err)
		}
		diff := 0
		for i := range got {
			if got[i] != c.Labels[i] {
				diff++
			}
		}
		if diff > 0 {
			t.Errorf("%s: %d of %d labels differ from skimage's", c.Name, diff, len(got))
		}
	}
}

func TestRGBToLab(t *testing.T) {
	g := load(t)
	for i, rgb := range g.Lab.RGB {
		v := append([]float64(nil), rgb...)
		rgbToLab(v)
		for j := range v {
			if math.Abs(v[j]-g.Lab.Lab[i][j]) > 1e-12*max(1, math.Abs(g.Lab.Lab[i][j])) {
				t.Errorf("rgb %v: lab %v, skimage %v", rgb, v, g.Lab.Lab[i])
				break
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	for _, c := range []struct {
		img     []float64
		c, h, w int
		opt     Options
	}{
		{make([]float64, 5), 1, 2, 2, Options{}},
		{[]float64{0, math.NaN(), 0, 0}, 1, 2, 2, Options{}},
		{make([]float64, 4), 1, 2, 2, Options{Segments: -1}},
		{nil, 0, 0, 0, Options{}},
	} {
		if _, err := Segment(c.img, c.c, c.h, c.w, c.opt); err == nil {
			t.Errorf("%d×%d×%d %v accepted", c.c, c.h, c.w, c.opt)
		}
	}
	// A constant image is one segment per grid cell, no panic.
	l, err := Segment(make([]float64, 3*8*8), 3, 8, 8, Options{})
	if err != nil || len(l) != 64 {
		t.Fatalf("constant image: %v, %v", l, err)
	}
}
