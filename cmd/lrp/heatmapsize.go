package main

import (
	"errors"
	"fmt"
	"image"
	"io/fs"

	"github.com/xai-go/lrp/data"
	"github.com/xai-go/lrp/tensor"
	"github.com/xai-go/lrp/viz"
)

// heatmapSizes are the values of explain's --heatmap-size.
const (
	heatmapAtModel = "model" // the model input's size, enlarged by --scale
	heatmapAtInput = "input" // the input image's own width×height
)

// heatmapFor renders input i's relevance rel (C×H×W). At the model's size
// it is enlarged by o.Scale, and an overlay (opacity overlay > 0) is drawn
// over the preprocessed input. With atInput and an image file, the
// relevance is resampled onto the part of the image the preprocessing
// kept (data.Preprocess.SourceRegion; zero relevance elsewhere) at the
// image's own width×height, and the overlay is the original picture; for
// .npy inputs and embedded samples that is the tensor's size.
func heatmapFor(in *inputSet, i int, rel *tensor.T, o viz.HeatmapOptions, overlay float64, atInput bool) (*image.RGBA, error) {
	if overlay > 0 && in.pre != nil {
		mean, std, err := normalization(in, "")
		if err != nil {
			return nil, err
		}
		o.Overlay, o.Alpha = viz.InputImage(in.x.Batch(i), mean, std), overlay
	}
	if !atInput {
		return viz.HeatmapWith(rel, o)
	}
	o.Scale = 1
	if in.pre == nil {
		return viz.HeatmapWith(rel, o)
	}
	pic, err := data.Decode(in.names[i])
	if errors.Is(err, fs.ErrNotExist) {
		// An embedded sample, not a file: its tensor is its picture.
		return viz.HeatmapWith(rel, o)
	}
	if err != nil {
		return nil, err
	}
	b := pic.Bounds()
	x0, y0, x1, y1 := in.pre.SourceRegion(b.Dx(), b.Dy())
	r, err := viz.ResampleRelevance(rel, b.Dx(), b.Dy(), x0, y0, x1, y1)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.names[i], err)
	}
	if o.Overlay != nil {
		o.Overlay = pic
	}
	return viz.HeatmapWith(r, o)
}

// checkHeatmapSize validates --heatmap-size against --scale.
func checkHeatmapSize(size string, scale int) (atInput bool, err error) {
	switch size {
	case heatmapAtModel:
		return false, nil
	case heatmapAtInput:
		if scale != 0 {
			return false, fmt.Errorf("--scale applies to --heatmap-size model only")
		}
		return true, nil
	}
	return false, fmt.Errorf("--heatmap-size %q: want %s or %s", size, heatmapAtModel, heatmapAtInput)
}
