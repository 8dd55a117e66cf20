package viz

import (
	"bytes"
	"image"
	"image/color"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// render draws p on a w×h-inch image and returns it with the data area
// in image pixels (y down).
func render(p *plot.Plot, w, h float64) (*image.RGBA, image.Rectangle) {
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(w)*vg.Inch, vg.Length(h)*vg.Inch), vgimg.UseDPI(96))
	dc := draw.New(c)
	p.Draw(dc)
	da := p.DataCanvas(dc)
	img := c.Image().(*image.RGBA)
	px := func(l vg.Length) int { return int(math.Round(float64(l) / 72 * 96)) }
	H := img.Bounds().Dy()
	r := image.Rect(px(da.Min.X), H-px(da.Max.Y), px(da.Max.X), H-px(da.Min.Y))
	return img, r
}

// countColour counts pixels within r close to c.
func countColour(img *image.RGBA, r image.Rectangle, c color.RGBA) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			p := img.RGBAAt(x, y)
			if absDiff(p.R, c.R) < 30 && absDiff(p.G, c.G) < 30 && absDiff(p.B, c.B) < 30 {
				n++
			}
		}
	}
	return n
}

func absDiff(a, b uint8) int { return int(math.Abs(float64(a) - float64(b))) }

func testCurves() []Curve {
	var cs []Curve
	for m, name := range []string{"lrp", "gradient"} {
		for _, o := range []string{"morf", "lrf"} {
			var mean []float64
			for k := 0; k <= 29; k++ {
				v := 10 - float64(k)*0.3*float64(m+1)
				if o == "lrf" {
					v = 10 - float64(k)*0.05
				}
				mean = append(mean, v)
			}
			cs = append(cs, Curve{Label: name + " " + o, Method: name, Order: o, Mean: mean, AUC: AUCForTest(mean)})
		}
	}
	return cs
}

// AUCForTest is the trapezoid area, for legend text only.
func AUCForTest(y []float64) float64 {
	a := 0.0
	for k := 0; k+1 < len(y); k++ {
		a += (y[k] + y[k+1]) / 2
	}
	return a
}

// TestCurvesLegendOutside: the legend (with the methods' colours) lies
// right of the data area, and the data area leaves room for it.
func TestCurvesLegendOutside(t *testing.T) {
	p, err := PlotCurves("t", testCurves())
	if err != nil {
		t.Fatal(err)
	}
	img, data := render(p, 8, 5)
	right := image.Rect(data.Max.X+2, data.Min.Y, img.Bounds().Max.X, data.Max.Y)
	if right.Dx() < 100 {
		t.Fatalf("only %d pixels right of the data area %v in a %v image", right.Dx(), data, img.Bounds())
	}
	for i, c := range palette[:2] {
		if n := countColour(img, right, c); n < 20 {
			t.Errorf("method %d's colour appears %d times right of the data area: no legend there", i, n)
		}
	}
	// Without LegendOutside the data area spans (almost) the whole width.
	q := plot.New()
	q.X.Min, q.X.Max, q.Y.Min, q.Y.Max = 0, 1, 0, 1
	_, full := render(q, 8, 5)
	if full.Max.X-data.Max.X < 100 {
		t.Errorf("data area ends at x=%d with the legend, %d without", data.Max.X, full.Max.X)
	}
}

func TestOrderStyles(t *testing.T) {
	md, mg := orderStyle("morf")
	ld, lg := orderStyle("lrf")
	rd, rg := orderStyle("random")
	if len(md) != 0 || len(ld) == 0 || len(rd) == 0 || ld[0] == rd[0] {
		t.Errorf("dashes morf %v, lrf %v, random %v: want solid, dashed, dotted", md, ld, rd)
	}
	if mg == lg || lg == rg || mg == rg {
		t.Errorf("markers %T %T %T not distinct", mg, lg, rg)
	}
}

func TestIntegerTicks(t *testing.T) {
	for _, c := range []struct{ min, max float64 }{{0, 29}, {0, 3}, {-0.4, 7.6}, {0, 200}, {0, 1}, {3, 3}} {
		ticks := IntegerTicks{}.Ticks(c.min, c.max)
		if len(ticks) == 0 || len(ticks) > 11 {
			t.Errorf("[%g, %g]: %d ticks", c.min, c.max, len(ticks))
		}
		for _, tk := range ticks {
			if tk.Value != math.Trunc(tk.Value) || tk.Value < c.min || tk.Value > c.max || strings.Contains(tk.Label, ".") {
				t.Errorf("[%g, %g]: tick %v", c.min, c.max, tk)
			}
		}
	}
}

func TestReportExplainsMetrics(t *testing.T) {
	r := &Report{Title: "t", Methods: []string{"m"}, Table: []ReportMetric{{Method: "m", MoRF: "1.25", LRF: "7.50", ABPC: "6.25", AOPC: "0.50", AOPCLRF: "0.125"}}}
	var b bytes.Buffer
	if err := r.Write(&b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{"<b>AUC</b> is the area under", "<b>AOPC</b>", "<b>ABPC</b> = AUC(LRF) − AUC(MoRF)", "symmetric relevance gain (SRG)", "AUC LRF", "AOPC LRF", ">7.50<", ">0.125<", "LRF dashed"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestLabelledRow: the title sits above the images and each caption under
// its own image.
func TestLabelledRow(t *testing.T) {
	grey := func() image.Image {
		m := image.NewGray(image.Rect(0, 0, 28, 28))
		for i := range m.Pix {
			m.Pix[i] = 128
		}
		return m
	}
	imgs := []image.Image{grey(), grey(), grey()}
	plain := Row(imgs, 4)
	out := LabelledRow("input 0, lrp, MORF", imgs, []string{"heatmap", "", "step 3: flipped\n(12 patches)"}, 4)
	if out.Bounds().Dx() != plain.Bounds().Dx()+1 || out.Bounds().Dy() < plain.Bounds().Dy()+3*13 {
		t.Fatalf("labelled row %v, plain row %v: no room for title and two caption lines", out.Bounds(), plain.Bounds())
	}
	dark := func(p color.RGBA) bool { return max(p.R, p.G, p.B) < 60 }
	top := out.Bounds().Dy() - plain.Bounds().Dy() - 2*15 - 4 // title strip height
	if n := countWhere(out, image.Rect(0, 0, out.Bounds().Dx(), top), dark); n < 20 {
		t.Errorf("title strip has %d dark pixels", n)
	}
	below := plain.Bounds().Dy() + top
	for i, want := range []bool{true, false, true} {
		x := 1 + i*(112+rowGap)
		n := countWhere(out, image.Rect(x, below, x+112, out.Bounds().Dy()), dark)
		if (n > 10) != want {
			t.Errorf("caption %d: %d dark pixels, want text: %v", i, n, want)
		}
	}
	// The images themselves are unchanged, just moved down.
	if got := out.RGBAAt(50, top+50); got != (color.RGBA{128, 128, 128, 255}) {
		t.Errorf("image pixel %v", got)
	}
}
