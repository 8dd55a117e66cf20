package viz

import (
	"image"
	"image/color"
	"testing"

	"github.com/xai-go/lrp/tensor"
)

func TestHeatmapColours(t *testing.T) {
	r := tensor.FromData([]float32{-2, 0, 2, 1}, 1, 2, 2)
	for name, want := range map[string][3]color.RGBA{
		"bwr":      {{0, 0, 255, 255}, {255, 255, 255, 255}, {255, 0, 0, 255}},
		"seismic":  {{0, 0, 77, 255}, {255, 255, 255, 255}, {128, 0, 0, 255}},
		"coldnhot": {{0, 255, 255, 255}, {0, 0, 0, 255}, {255, 255, 0, 255}},
		"gray":     {{0, 0, 0, 255}, {128, 128, 128, 255}, {255, 255, 255, 255}},
	} {
		img, err := HeatmapWith(r, HeatmapOptions{Colormap: name})
		if err != nil {
			t.Fatal(err)
		}
		for i, px := range [][2]int{{0, 0}, {1, 0}, {0, 1}} {
			if got := img.RGBAAt(px[0], px[1]); got != want[i] {
				t.Errorf("%s pixel %v = %v, want %v", name, px, got, want[i])
			}
		}
	}
	// Thesis heuristic: range 10·cbrt(mean |R|³) = 10·cbrt(17/4) ≈ 16.2, so
	// R = 2 sits near the centre; colours ×0.85.
	img, _ := HeatmapWith(r, HeatmapOptions{Colormap: "seismic", Thesis: true})
	if got := img.RGBAAt(1, 0); got != (color.RGBA{217, 217, 217, 255}) {
		t.Errorf("thesis zero colour %v", got)
	}
	if _, err := HeatmapWith(r, HeatmapOptions{Colormap: "jet"}); err == nil {
		t.Error("unknown colormap accepted")
	}
	big, _ := HeatmapWith(r, HeatmapOptions{Scale: 3})
	if big.Bounds().Dx() != 6 {
		t.Errorf("scaled width %d", big.Bounds().Dx())
	}
}

// TestOverlayKeepsPicture: the overlay's opacity follows |R|, so a pixel
// of zero relevance keeps the picture's colour exactly and the pixel of
// largest |R| gets the colormap's colour at opacity Alpha.
func TestOverlayKeepsPicture(t *testing.T) {
	r := tensor.FromData([]float32{0, 4, -4, 1e-9}, 1, 2, 2)
	pic := image.NewRGBA(image.Rect(0, 0, 2, 2))
	for i, c := range []color.RGBA{{12, 200, 77, 255}, {0, 0, 0, 255}, {255, 255, 255, 255}, {90, 91, 92, 255}} {
		pic.SetRGBA(i%2, i/2, c)
	}
	img, err := HeatmapWith(r, HeatmapOptions{Overlay: pic, Alpha: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		x, y int
		want color.RGBA
	}{
		{0, 0, color.RGBA{12, 200, 77, 255}}, // R = 0: the picture
		{1, 0, color.RGBA{255, 0, 0, 255}},   // R = max: pure red
		{0, 1, color.RGBA{0, 0, 255, 255}},   // R = −max: pure blue
		{1, 1, color.RGBA{90, 91, 92, 255}},  // |R| ≈ 0: the picture
	} {
		if got := img.RGBAAt(c.x, c.y); got != c.want {
			t.Errorf("pixel (%d,%d) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
	// At opacity 0.5 the maximum blends half red over black.
	img, _ = HeatmapWith(r, HeatmapOptions{Overlay: pic, Alpha: 0.5})
	if got, want := img.RGBAAt(1, 0), (color.RGBA{128, 0, 0, 255}); got != want {
		t.Errorf("half-opaque maximum = %v, want %v", got, want)
	}
	if got := img.RGBAAt(0, 0); got != (color.RGBA{12, 200, 77, 255}) {
		t.Errorf("zero relevance at opacity 0.5 = %v, want the picture", got)
	}
}
