package viz

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image"
	"image/png"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// Report is a self-contained HTML page (images inline) showing inputs,
// predictions, heatmaps per method, perturbation curves and an AUC table.
type Report struct {
	Title   string
	Notes   []string
	Methods []string
	Rows    []ReportRow
	Plots   []template.URL // data: URLs of the curve plots
	Table   []ReportMetric
}

// ReportRow is one input: its picture, prediction and a heatmap per method.
// A row with Methods starts a new heatmap header naming them (models that
// are explained by different methods, CNNs and transformers); rows without
// it follow the last header, or Report.Methods.
type ReportRow struct {
	Name       string
	Prediction string
	Input      template.URL
	Heatmaps   []template.URL
	Methods    []string
}

// ReportMetric is one line of the AUC table: AUC of the MoRF and LRF
// curves, ABPC, and AOPC of MoRF (AOPC) and LRF (AOPCLRF), formatted.
type ReportMetric struct {
	Method                         string
	MoRF, LRF, ABPC, AOPC, AOPCLRF string
}

// DataURL encodes an image as an inline PNG.
func DataURL(img image.Image) (template.URL, error) {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())), nil
}

// PlotURL renders a plot as an inline PNG of the given size in inches.
func PlotURL(p *plot.Plot, w, h float64) (template.URL, error) {
	wt, err := p.WriterTo(vg.Length(w)*vg.Inch, vg.Length(h)*vg.Inch, "png")
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())), nil
}

var reportTmpl = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font-family:sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:center;font-size:13px}
img.px{image-rendering:pixelated;width:112px;height:112px}
.num{text-align:right;font-family:monospace}
</style></head><body>
<h1>{{.Title}}</h1>
{{range .Notes}}<p>{{.}}</p>{{end}}
<h2>Faithfulness (pixel flipping)</h2>
<p>Patches are removed step by step, most relevant first (MoRF) or least relevant first (LRF),
and the model's score for the explained class is recorded after each step.</p>
<ul>
<li><b>AUC</b> is the area under that score curve (trapezoids, one unit per step):
a low MoRF AUC means the score collapses as soon as the patches the explanation calls relevant go, so lower MoRF AUC is more faithful, and a higher LRF AUC is better.</li>
<li><b>AOPC</b> (area over the perturbation curve) is the average drop of the score below its unperturbed value over the steps: higher is better for MoRF, lower for LRF.</li>
<li><b>ABPC</b> = AUC(LRF) − AUC(MoRF), the area between the two curves, is higher for more faithful explanations; it is the symmetric relevance gain (SRG) of Blücher et al. (2024).</li>
</ul>
<table><tr><th>method</th><th>AUC MoRF ↓</th><th>AUC LRF ↑</th><th>ABPC ↑</th><th>AOPC MoRF ↑</th><th>AOPC LRF ↓</th></tr>
{{range .Table}}<tr><td>{{.Method}}</td><td class="num">{{.MoRF}}</td><td class="num">{{.LRF}}</td><td class="num">{{.ABPC}}</td><td class="num">{{.AOPC}}</td><td class="num">{{.AOPCLRF}}</td></tr>
{{end}}</table>
<p>Curves: each method's mean in its colour, MoRF solid with circles, LRF dashed with triangles; single images thin and grey.</p>
{{range .Plots}}<img src="{{.}}" alt="perturbation curves, MoRF and LRF">{{end}}
<h2>Heatmaps</h2>
<p>Relevance summed over channels; red positive, blue negative, white zero (symmetric max-abs scale per image).</p>
<table>{{if .Methods}}<tr><th>input</th><th>prediction</th>{{range .Methods}}<th>{{.}}</th>{{end}}</tr>{{end}}
{{range .Rows}}{{if .Methods}}<tr><th>input</th><th>prediction</th>{{range .Methods}}<th>{{.}}</th>{{end}}</tr>
{{end}}<tr><td><img class="px" src="{{.Input}}" title="{{.Name}}"><br>{{.Name}}</td><td>{{.Prediction}}</td>
{{range .Heatmaps}}<td><img class="px" src="{{.}}"></td>{{end}}</tr>
{{end}}</table>
</body></html>
`))

// Write renders the report.
func (r *Report) Write(w io.Writer) error {
	if err := reportTmpl.Execute(w, r); err != nil {
		return fmt.Errorf("viz: report: %w", err)
	}
	return nil
}
