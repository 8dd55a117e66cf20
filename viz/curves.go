package viz

import (
	"fmt"
	"image/color"
	"io"

	"github.com/xai-go/lrp/internal/outfile"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Curve is one perturbation curve set to draw: a method's per-image
// scores and their mean.
type Curve struct {
	Label  string      // e.g. "lrp:epsilon-gamma-box morf"
	Scores [][]float64 // per image, steps 0…S
	Mean   []float64
	AUC    float64
}

// palette holds distinct colours for the mean curves of several methods.
var palette = []color.RGBA{
	{31, 119, 180, 255}, {214, 39, 40, 255}, {44, 160, 44, 255}, {255, 127, 14, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {23, 190, 207, 255},
}

// PlotCurves draws pixel-flipping curves: every image's curve thin and
// grey, each method's mean thick in its own colour with its AUC in the
// legend. x is the perturbation step, y the target class's logit.
func PlotCurves(title string, curves []Curve) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "perturbation step"
	p.Y.Label.Text = "logit of the explained class"
	p.Legend.Top = true
	grey := color.RGBA{170, 170, 170, 255}
	for _, c := range curves {
		for _, s := range c.Scores {
			l, err := plotter.NewLine(points(s))
			if err != nil {
				return nil, err
			}
			l.Color = grey
			l.Width = vg.Points(0.5)
			p.Add(l)
		}
	}
	for i, c := range curves {
		l, err := plotter.NewLine(points(c.Mean))
		if err != nil {
			return nil, err
		}
		l.Color = palette[i%len(palette)]
		l.Width = vg.Points(2.5)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (AUC %.4g)", c.Label, c.AUC), l)
	}
	return p, nil
}

func points(y []float64) plotter.XYs {
	pts := make(plotter.XYs, len(y))
	for i, v := range y {
		pts[i].X, pts[i].Y = float64(i), v
	}
	return pts
}

// SavePlot writes a plot as a PNG of the given size in inches, as SavePNG
// writes images.
func SavePlot(p *plot.Plot, path string, w, h float64) error {
	wt, err := p.WriterTo(vg.Length(w)*vg.Inch, vg.Length(h)*vg.Inch, "png")
	if err != nil {
		return err
	}
	return outfile.WriteWith(path, func(w io.Writer) error {
		_, err := wt.WriteTo(w)
		return err
	})
}
