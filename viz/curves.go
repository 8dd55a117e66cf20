package viz

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	"github.com/xai-go/lrp/internal/outfile"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Curve is one perturbation curve set to draw: a method's per-image
// scores and their mean.
type Curve struct {
	Label  string      // e.g. "lrp:epsilon-gamma-box morf"
	Scores [][]float64 // per image, steps 0…S
	Mean   []float64
	AUC    float64
	// Method groups curves by colour: curves of one method share it
	// (default: Label).
	Method string
	// Order ("morf", "lrf", "random" or "") sets the line and marker, so
	// that the orders differ without colour: MoRF solid with circles,
	// LRF dashed with triangles, random dotted with squares.
	Order string
}

// palette holds distinct colours for the mean curves of several methods.
var palette = []color.RGBA{
	{31, 119, 180, 255}, {214, 39, 40, 255}, {44, 160, 44, 255}, {255, 127, 14, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {23, 190, 207, 255},
}

// orderStyle is the dash pattern and marker of a perturbation order.
func orderStyle(order string) ([]vg.Length, draw.GlyphDrawer) {
	switch order {
	case "lrf":
		return []vg.Length{vg.Points(6), vg.Points(3)}, draw.TriangleGlyph{}
	case "random":
		return []vg.Length{vg.Points(1.5), vg.Points(2.5)}, draw.SquareGlyph{}
	}
	return nil, draw.CircleGlyph{}
}

// PlotCurves draws pixel-flipping curves: every image's curve thin and
// grey, each method's mean thick in its own colour, with the order told
// apart by line and marker (see Curve.Order), and its AUC in the legend,
// which sits right of the data. x is the perturbation step (integer
// ticks), y the target class's logit.
func PlotCurves(title string, curves []Curve) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "perturbation step"
	p.Y.Label.Text = "logit of the explained class"
	p.X.Tick.Marker = IntegerTicks{}
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
	colours := map[string]color.Color{}
	steps := 0
	for _, c := range curves {
		steps = max(steps, len(c.Mean))
	}
	for _, c := range curves {
		method := c.Method
		if method == "" {
			method = c.Label
		}
		col, ok := colours[method]
		if !ok {
			col = palette[len(colours)%len(palette)]
			colours[method] = col
		}
		l, s, err := plotter.NewLinePoints(points(c.Mean))
		if err != nil {
			return nil, err
		}
		dashes, glyph := orderStyle(c.Order)
		l.Color, l.Width, l.Dashes = col, vg.Points(2), dashes
		s.Color, s.Shape, s.Radius = col, glyph, vg.Points(3.5)
		// At most about 15 markers per curve: enough to tell the shape.
		if every := (steps + 14) / 15; every > 1 {
			var thin plotter.XYs
			for i, pt := range s.XYs {
				if i%every == 0 || i == len(s.XYs)-1 {
					thin = append(thin, pt)
				}
			}
			s.XYs = thin
		}
		p.Add(l, s)
		p.Legend.Add(fmt.Sprintf("%s (AUC %.4g)", c.Label, c.AUC), l, s)
	}
	LegendOutside(p)
	return p, nil
}

// LegendOutside moves p's legend to the right of the data area: the data
// area shrinks by the legend's width, so no entry covers a curve. Call it
// after the legend's entries are added.
func LegendOutside(p *plot.Plot) {
	p.Legend.Top, p.Legend.Left = true, false
	p.Legend.XOffs = -vg.Points(4)
	p.Add(legendSpace{&p.Legend})
}

// legendSpace reserves room right of the data area for a legend.
type legendSpace struct{ l *plot.Legend }

// Plot draws nothing: the plot draws the legend itself.
func (legendSpace) Plot(draw.Canvas, *plot.Plot) {}

// GlyphBoxes returns a box at the right edge as wide as the legend, which
// makes the plot narrow its data area by as much.
func (s legendSpace) GlyphBoxes(*plot.Plot) []plot.GlyphBox {
	w := s.l.Rectangle(draw.Canvas{}).Size().X
	if w <= 0 {
		return nil
	}
	return []plot.GlyphBox{{X: 1, Y: 0.5, Rectangle: vg.Rectangle{Max: vg.Point{X: w + vg.Points(12)}}}}
}

// IntegerTicks is a plot.Ticker for a step axis: major ticks only at
// integers, 1, 2 or 5 times a power of ten apart, at most about ten.
type IntegerTicks struct{}

// Ticks returns the integer ticks in [min, max].
func (IntegerTicks) Ticks(min, max float64) []plot.Tick {
	lo, hi := math.Ceil(min), math.Floor(max)
	if hi < lo {
		return nil
	}
	step := 1.0
	for i := 0; (hi-lo)/step > 10; i++ {
		step = []float64{2, 5, 10}[i%3] * math.Pow(10, float64(i/3))
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	return ticks
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
