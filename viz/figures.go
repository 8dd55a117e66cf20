package viz

import (
	"image"
	"image/color"
	"image/draw"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// PlotFlips draws the number of patches flipped at each step (solid) and
// the cumulative number flipped (dashed), legend right of the data.
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
	p.X.Tick.Marker = IntegerTicks{}
	LegendOutside(p)
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

// rowGap is the white gap between Row's images, in pixels.
const rowGap = 4

// Row lays images side by side with a gap, each enlarged by scale.
func Row(imgs []image.Image, scale int) *image.RGBA {
	w, h := 0, 0
	for _, im := range imgs {
		w += im.Bounds().Dx()*scale + rowGap
		h = max(h, im.Bounds().Dy()*scale)
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	x := 0
	for _, im := range imgs {
		up := Upscale(im, scale)
		draw.Draw(out, up.Bounds().Add(image.Pt(x, 0)), up, image.Point{}, draw.Src)
		x += up.Bounds().Dx() + rowGap
	}
	return out
}

// LabelledRow lays images side by side like Row, with a title line above
// and each image's caption (lines separated by "\n") below it, in a
// 7×13-pixel bitmap font. Each image gets a thin grey frame.
func LabelledRow(title string, imgs []image.Image, captions []string, scale int) *image.RGBA {
	row := Row(imgs, scale)
	face := basicfont.Face7x13
	lineH := face.Metrics().Height.Ceil() + 2
	lines := 0
	for _, c := range captions {
		lines = max(lines, strings.Count(c, "\n")+1)
	}
	top := 0
	if title != "" {
		top = lineH + 4
	}
	w := row.Bounds().Dx() + 1
	if title != "" {
		w = max(w, font.MeasureString(face, title).Ceil()+4)
	}
	out := image.NewRGBA(image.Rect(0, 0, w, top+row.Bounds().Dy()+lines*lineH+4))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(out, row.Bounds().Add(image.Pt(1, top)), row, image.Point{}, draw.Src)
	d := &font.Drawer{Dst: out, Src: image.NewUniform(color.Black), Face: face}
	text := func(s string, x, y int) {
		d.Dot = fixed.P(x, y+face.Metrics().Ascent.Ceil())
		d.DrawString(s)
	}
	if title != "" {
		text(title, 2, 2)
	}
	frame := image.NewUniform(color.Gray{190})
	x := 1
	for i, im := range imgs {
		pw, ph := im.Bounds().Dx()*scale, im.Bounds().Dy()*scale
		// A thin frame, so a white panel (an empty mask) stays visible.
		for _, r := range []image.Rectangle{
			image.Rect(x-1, top-1, x+pw+1, top), image.Rect(x-1, top+ph, x+pw+1, top+ph+1),
			image.Rect(x-1, top, x, top+ph), image.Rect(x+pw, top, x+pw+1, top+ph),
		} {
			draw.Draw(out, r, frame, image.Point{}, draw.Src)
		}
		if i < len(captions) {
			for l, s := range strings.Split(captions[i], "\n") {
				// Centred under the image; a long caption starts at its left edge.
				cx := x + max(0, (pw-font.MeasureString(face, s).Ceil())/2)
				text(s, cx, top+row.Bounds().Dy()+2+l*lineH)
			}
		}
		x += pw + rowGap
	}
	return out
}
