package main

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"

	"github.com/xai-go/lrp/internal/outfile"
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

// gridHeatmap draws the MoRF AUC over a 2-D grid (rows ordered x-major,
// as the sweep enumerates them) with the best point marked.
func gridHeatmap(t *sweep.Table, best int, path string) error {
	x, y := t.Settings.Axes[0], t.Settings.Axes[1]
	g := viz.Grid{Quantity: "MoRF AUC", Better: "lower", XName: x.Name, YName: y.Name,
		XTicks: valueLabels(x), YTicks: valueLabels(y), Z: make([][]float64, len(x.Values)),
		Best: [2]int{best / len(y.Values), best % len(y.Values)}}
	for c := range g.Z {
		g.Z[c] = make([]float64, len(y.Values))
		for r := range g.Z[c] {
			g.Z[c][r] = t.Rows[c*len(y.Values)+r].AUC["morf"]
		}
	}
	p, err := viz.PlotGrid(g)
	if err != nil {
		return err
	}
	return viz.SavePlot(p, path, 8, 6)
}

// valueLabels are an axis's values as tick labels.
func valueLabels(a sweep.Axis) []string {
	l := make([]string, len(a.Values))
	for i, v := range a.Values {
		l[i] = fmt.Sprintf("%.3g", v)
	}
	return l
}

// summarizeMetrics prints the best grid point of every metric of the
// sweep with its noise floor, and writes the Kendall τ between the
// metrics' rankings to agreement.csv and agreement.png.
func summarizeMetrics(stdout io.Writer, t *sweep.Table, out string) error {
	if len(t.Settings.Metrics) == 0 {
		return nil
	}
	for _, name := range t.Settings.Metrics {
		i := t.BestBy(name)
		if i < 0 {
			continue
		}
		r := t.Rows[i]
		s := r.Metrics[name]
		line := fmt.Sprintf("best %s (%.4f, SE over images %.4f", name, s.Mean, s.SE)
		if t.SeedDependent(name) {
			line += fmt.Sprintf(", std over %d seeds %.4f", t.Settings.Seeds, s.SeedStd)
		}
		tied := len(t.TiedWithBest(name)) - 1
		fmt.Fprintf(stdout, "%s): %s; %d other points within 2 paired SE\n", line, r.Point.Label(t.Settings.Axes), tied)
	}
	var b bytes.Buffer
	if err := t.WriteAgreementCSV(&b); err != nil {
		return err
	}
	path := filepath.Join(out, "agreement.csv")
	if err := outfile.Write(path, b.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Kendall τ between the metrics' rankings of the grid points: %s\n", path)
	names, tau := t.Agreement()
	if len(names) < 2 {
		return nil
	}
	// Long names do not fit under the columns: the columns are numbered
	// and the rows say which metric each number is.
	xt, yt := make([]string, len(names)), make([]string, len(names))
	for i, n := range names {
		xt[i], yt[i] = fmt.Sprint(i+1), fmt.Sprintf("%s (%d)", n, i+1)
	}
	g := viz.Grid{Quantity: "Kendall τ between rankings", XName: "metric (number)", YName: "metric",
		XTicks: xt, YTicks: yt, Z: tau, Best: [2]int{-1, -1}}
	p, err := viz.PlotGrid(g)
	if err != nil {
		return err
	}
	return viz.SavePlot(p, filepath.Join(out, "agreement.png"), 8, 7)
}
