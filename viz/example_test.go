package viz_test

import (
	"fmt"
	"image/color"
	"log"
	"os"
	"path/filepath"

	"github.com/xai-go/lrp/tensor"
	"github.com/xai-go/lrp/viz"
)

// Draw one image's relevance (C×H×W, summed over channels) as a heatmap
// PNG: red positive, blue negative, white zero, on a range symmetric
// around zero.
func ExampleHeatmapWith() {
	r := tensor.FromData([]float32{
		1, 0, -1,
		0.5, 0, -0.5,
	}, 1, 2, 3)
	img, err := viz.HeatmapWith(r, viz.HeatmapOptions{Colormap: "bwr", Scale: 4})
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "lrp-heatmap")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := viz.SavePNG(filepath.Join(dir, "heatmap.png"), img); err != nil {
		log.Fatal(err)
	}
	fmt.Println("size:", img.Bounds().Dx(), "×", img.Bounds().Dy())
	fmt.Println("zero is white:", img.RGBAAt(4, 0) == (color.RGBA{255, 255, 255, 255}))
	// Output:
	// size: 12 × 8
	// zero is white: true
}
