package main

import (
	"path/filepath"

	"github.com/xai-go/lrp/sweep"
	"github.com/xai-go/lrp/viz"
)

// plotSweep draws the mean curves of the best and worst MoRF points.
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
	var curves []viz.Curve
	for _, i := range []int{morf, worst} {
		r := t.Rows[i]
		curves = append(curves, viz.Curve{Label: r.Point.Label(t.Settings.Axes) + " morf", Mean: r.Mean["morf"], AUC: r.AUC["morf"]})
	}
	p, err := viz.PlotCurves("sweep: best and worst MoRF settings", curves)
	if err != nil {
		return err
	}
	return viz.SavePlot(p, filepath.Join(out, "curves.png"), 7, 5)
}
