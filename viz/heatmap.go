// Package viz draws relevance heatmaps.
package viz

import (
	"image"
	"image/png"
	"io"
	"math"

	"github.com/xai-go/lrp/internal/outfile"
	"github.com/xai-go/lrp/tensor"
)

// Heatmap renders one sample's relevance (C×H×W, summed over channels)
// with the blue-white-red colormap, normalized symmetrically by max |R|:
// −max is blue, 0 white, +max red.
func Heatmap(r *tensor.T) *image.RGBA {
	img, err := HeatmapWith(r, HeatmapOptions{})
	if err != nil {
		panic("viz: " + err.Error())
	}
	return img
}

// SavePNG writes img to path as PNG through internal/outfile: a
// temporary file renamed when complete (a failed write leaves nothing),
// mode 0666 minus the umask, missing parent directories created, and only
// a regular file (or a link to one) replaced.
func SavePNG(path string, img image.Image) error {
	return outfile.WriteWith(path, func(w io.Writer) error { return png.Encode(w, img) })
}

// InputImage turns one normalized model input (C×H×W, C = 1 or 3) back
// into a picture: x·std + mean per channel, clipped to [0, 1].
func InputImage(x *tensor.T, mean, std []float64) image.Image {
	c, h, w := x.Shape[0], x.Shape[1], x.Shape[2]
	px := func(ch, i int) uint8 {
		v := float64(x.Data[ch*h*w+i])*std[ch] + mean[ch]
		return uint8(math.Round(255 * math.Max(0, math.Min(1, v))))
	}
	if c == 1 {
		img := image.NewGray(image.Rect(0, 0, w, h))
		for i := 0; i < h*w; i++ {
			img.Pix[i] = px(0, i)
		}
		return img
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < h*w; i++ {
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = px(0, i), px(1, i), px(2, i), 255
	}
	return img
}

// Upscale enlarges img by an integer factor with nearest-neighbour
// sampling, so small inputs (28×28) stay crisp.
func Upscale(img image.Image, factor int) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()*factor, b.Dy()*factor))
	for y := 0; y < b.Dy()*factor; y++ {
		for x := 0; x < b.Dx()*factor; x++ {
			out.Set(x, y, img.At(b.Min.X+x/factor, b.Min.Y+y/factor))
		}
	}
	return out
}
