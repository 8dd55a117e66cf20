package main

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/xai-go/lrp/sweep"
	"github.com/xai-go/lrp/viz"
)

// plotSweep draws the mean MoRF curves of the best, the worst and (if on
// the grid) the default point, and for a 2-D grid the MoRF AUC over the
// grid with the best point marked.
func plotSweep(t *sweep.Table, out string) error {
	morf, _, _ := t.Best()
	if morf < 0 {
		return nil
	}
	worst := 0
	for i, r := range t.Rows {
		if r.AUC["morf"] > t.Rows[worst].AUC["morf"] {
			worst = i
		}
	}
	picks := []struct {
		i    int
		what string
	}{{morf, "best"}, {worst, "worst"}}
	if d := defaultPoint(t); d >= 0 && d != morf && d != worst {
		picks = append(picks, struct {
			i    int
			what string
		}{d, "default"})
	}
	var curves []viz.Curve
	for _, p := range picks {
		r := t.Rows[p.i]
		curves = append(curves, viz.Curve{Label: p.what + ": " + r.Point.Label(t.Settings.Axes), Order: "morf", Mean: r.Mean["morf"], AUC: r.AUC["morf"]})
	}
	p, err := viz.PlotCurves("sweep: mean MoRF curves", curves)
	if err != nil {
		return err
	}
	if err := viz.SavePlot(p, filepath.Join(out, "curves.png"), 7, 5); err != nil {
		return err
	}
	if len(t.Settings.Axes) == 2 {
		return gridHeatmap(t, morf, filepath.Join(out, "grid.png"))
	}
	return nil
}

// defaultPoint is the grid point with the presets' default γ = ε = 0.25,
// or −1.
func defaultPoint(t *sweep.Table) int {
	for i, r := range t.Rows {
		ok := true
		for _, a := range t.Settings.Axes {
			if (a.Name == "gamma" || a.Name == "epsilon") && r.Point.Values[a.Name] != 0.25 {
				ok = false
			}
		}
		if ok {
			return i
		}
	}
	return -1
}

// aucGrid adapts a 2-D sweep to plotter.GridXYZ (cells by value index).
type aucGrid struct {
	t    *sweep.Table
	x, y sweep.Axis
}

func (g aucGrid) Dims() (c, r int) { return len(g.x.Values), len(g.y.Values) }
func (g aucGrid) Z(c, r int) float64 {
	return g.t.Rows[c*len(g.y.Values)+r].AUC["morf"]
}
func (g aucGrid) X(c int) float64 { return float64(c) }
func (g aucGrid) Y(r int) float64 { return float64(r) }

func gridHeatmap(t *sweep.Table, best int, path string) error {
	g := aucGrid{t: t, x: t.Settings.Axes[0], y: t.Settings.Axes[1]}
	pal := moreland.SmoothBlueRed().Palette(64)
	hm := plotter.NewHeatMap(g, pal)
	p := plot.New()
	p.Title.Text = "MoRF AUC over the grid (lower is better; × marks the best)"
	p.X.Label.Text = g.x.Name + " (value index)"
	p.Y.Label.Text = g.y.Name + " (value index)"
	p.Add(hm)
	bx, by := float64(best/len(g.y.Values)), float64(best%len(g.y.Values))
	sc, err := plotter.NewScatter(plotter.XYs{{X: bx, Y: by}})
	if err != nil {
		return err
	}
	sc.GlyphStyle.Shape = draw.CrossGlyph{}
	sc.GlyphStyle.Radius = vg.Points(8)
	sc.GlyphStyle.Color = color.Black
	p.Add(sc)
	p.X.Tick.Marker = valueTicks(g.x)
	p.Y.Tick.Marker = valueTicks(g.y)
	return viz.SavePlot(p, path, 7, 6)
}

type valueTicks sweep.Axis

func (v valueTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for i, x := range v.Values {
		if float64(i) >= math.Floor(min) && float64(i) <= math.Ceil(max) {
			ticks = append(ticks, plot.Tick{Value: float64(i), Label: fmt.Sprintf("%.3g", x)})
		}
	}
	return ticks
}
