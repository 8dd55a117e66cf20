package viz

import (
	"image"
	"image/color"
	"image/draw"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// PlotFlips draws the number of patches flipped at each step and the
// cumulative share of the image flipped.
func PlotFlips(flips []int) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "patches flipped per step"
	p.X.Label.Text = "perturbation step"
	p.Y.Label.Text = "patches"
	var per, cum plotter.XYs
	total := 0
	for k, f := range flips {
		if k < len(flips)-1 || len(flips) < 2 {
			total += f
		}
		per = append(per, plotter.XY{X: float64(k), Y: float64(f)})
		cum = append(cum, plotter.XY{X: float64(k), Y: float64(total)})
	}
	bars, err := plotter.NewLine(per)
	if err != nil {
		return nil, err
	}
	bars.Color = palette[0]
	line, err := plotter.NewLine(cum)
	if err != nil {
		return nil, err
	}
	line.Color = palette[1]
	line.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	p.Add(bars, line)
	p.Legend.Add("flipped in the step", bars)
	p.Legend.Add("flipped so far", line)
	p.Legend.Top, p.Legend.Left = true, true
	return p, nil
}

// Mask draws the patches flipped after a step: black where flipped.
func Mask(order []int, flipped, patch, w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	m := w / patch
	for _, pi := range order[:min(flipped, len(order))] {
		py, px := pi/m, pi%m
		draw.Draw(img, image.Rect(px*patch, py*patch, (px+1)*patch, (py+1)*patch), image.NewUniform(color.Black), image.Point{}, draw.Src)
	}
	return img
}

// Row lays images side by side with a gap, each enlarged by scale.
func Row(imgs []image.Image, scale int) *image.RGBA {
	const gap = 4
	w, h := 0, 0
	for _, im := range imgs {
		w += im.Bounds().Dx()*scale + gap
		h = max(h, im.Bounds().Dy()*scale)
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	x := 0
	for _, im := range imgs {
		up := Upscale(im, scale)
		draw.Draw(out, up.Bounds().Add(image.Pt(x, 0)), up, image.Point{}, draw.Src)
		x += up.Bounds().Dx() + gap
	}
	return out
}
