package main

import (
	"bytes"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xai-go/lrp/data"
	"github.com/xai-go/lrp/tensor"
)

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	img, err := data.Decode(path)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestHeatmapAtInputSize: --heatmap-size input writes the heatmap at the
// (non-square) image's own size; with imagenet-crop the columns the crop
// cut off carry zero relevance, so with --overlay they keep the photo's
// colour exactly.
func TestHeatmapAtInputSize(t *testing.T) {
	const coffee = "../../data/testdata/coffee.png" // 360×240
	photo := decodePNG(t, coffee)
	for _, c := range []struct {
		pre   string
		extra []string
	}{
		{"imagenet", nil},
		{"imagenet-crop", []string{"--overlay", "1"}},
	} {
		dir := filepath.Join(t.TempDir(), "out")
		args := append([]string{"explain", "--model", onnxModels + "vgg16.onnx", "--composite", "epsilon-plus", "--preprocess", c.pre,
			"--heatmap-size", "input", "--out", dir, coffee}, c.extra...)
		if err := run(args, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		hm := decodePNG(t, filepath.Join(dir, "000-coffee-heatmap.png"))
		if hm.Bounds().Size() != photo.Bounds().Size() {
			t.Fatalf("%s: heatmap %v, image %v", c.pre, hm.Bounds().Size(), photo.Bounds().Size())
		}
		if c.pre != "imagenet-crop" {
			continue
		}
		// Resize(256) makes it 384×256 and CenterCrop(224) starts at
		// column 80, which is column 75 of the original.
		for _, pt := range []image.Point{{0, 0}, {74, 120}, {285, 239}, {359, 10}} {
			got := color.RGBAModel.Convert(hm.At(pt.X, pt.Y))
			want := color.RGBAModel.Convert(photo.At(pt.X, pt.Y))
			if got != want {
				t.Errorf("pixel %v outside the crop: %v, photo %v", pt, got, want)
			}
		}
		changed := 0
		for x := 76; x < 284; x++ {
			if color.RGBAModel.Convert(hm.At(x, 120)) != color.RGBAModel.Convert(photo.At(x, 120)) {
				changed++
			}
		}
		if changed < 50 {
			t.Errorf("only %d pixels inside the crop differ from the photo", changed)
		}
	}
	// The default stays the model's size (224, enlarged by --scale).
	dir := filepath.Join(t.TempDir(), "out")
	if err := run([]string{"explain", "--model", onnxModels + "vgg16.onnx", "--composite", "epsilon-plus", "--out", dir, coffee}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if s := decodePNG(t, filepath.Join(dir, "000-coffee-heatmap.png")).Bounds().Size(); s != image.Pt(224, 224) {
		t.Errorf("default heatmap size %v, want 224×224", s)
	}
	// A .npy input's own size is the tensor's (not enlarged).
	x, err := tensor.LoadNpy(lrpData + "vgg.input.npy")
	if err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(t.TempDir(), "npy")
	if err := run([]string{"explain", "--model", lrpData + "vgg.onnx", "--input", lrpData + "vgg.input.npy", "--composite", "epsilon-plus",
		"--heatmap-size", "input", "--out", dir}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if s := decodePNG(t, filepath.Join(dir, "000-input-0-heatmap.png")).Bounds().Size(); s != image.Pt(x.Shape[3], x.Shape[2]) {
		t.Errorf(".npy heatmap size %v, want the tensor's %d×%d", s, x.Shape[3], x.Shape[2])
	}
}

func TestHeatmapSizeFlag(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		extra []string
		want  string
	}{
		{[]string{"--heatmap-size", "input", "--scale", "2"}, "--scale applies to --heatmap-size model only"},
		{[]string{"--heatmap-size", "huge"}, `--heatmap-size "huge": want model or input`},
	} {
		out := filepath.Join(dir, "out")
		args := append([]string{"explain", "--model", onnxModels + "vgg16.onnx", "--composite", "epsilon-plus", "--out", out, "../../data/testdata/coffee.png"}, c.extra...)
		err := run(args, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.extra, err, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: wrote %s", c.extra, out)
		}
	}
}
