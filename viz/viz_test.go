package viz

import (
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
