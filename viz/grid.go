package viz

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Grid is a table of values over two parameter axes, drawn by PlotGrid
// as a heat map: a sweep's MoRF AUC over γ × ε, for example.
type Grid struct {
	// Quantity names the values ("MoRF AUC"); Better is "lower" or
	// "higher" (or "" to say nothing).
	Quantity, Better string
	// XName and YName name the axes; XTicks and YTicks label each column
	// and row (the parameter values).
	XName, YName   string
	XTicks, YTicks []string
	// Z[c][r] is the value in column c (x) and row r (y); NaN for a
	// missing cell.
	Z [][]float64
	// Best is the marked cell {c, r}, or {-1, -1} for none.
	Best [2]int
}

// PlotGrid draws g as a heat map with a colour bar that carries the
// numeric range, each cell's value printed in it (in black or white,
// whichever contrasts with the cell), the best cell boxed in green, and
// a title that states the range: the colours span only the values'
// range, so deep red and deep blue may differ in the fourth digit.
func PlotGrid(g Grid) (*plot.Plot, error) {
	cols := len(g.Z)
	if cols == 0 || len(g.Z[0]) == 0 {
		return nil, fmt.Errorf("viz: empty grid")
	}
	rows := len(g.Z[0])
	if len(g.XTicks) != cols || len(g.YTicks) != rows {
		return nil, fmt.Errorf("viz: grid of %d×%d cells has %d×%d tick labels", cols, rows, len(g.XTicks), len(g.YTicks))
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for c, col := range g.Z {
		if len(col) != rows {
			return nil, fmt.Errorf("viz: grid column %d has %d cells, column 0 has %d", c, len(col), rows)
		}
		for _, v := range col {
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if lo > hi {
		return nil, fmt.Errorf("viz: grid has no values")
	}
	digits := gridDigits(lo, hi)
	format := func(v float64) string { return strconv.FormatFloat(v, 'f', digits, 64) }

	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s, range %s–%s", g.Quantity, format(lo), format(hi))
	if g.Better != "" {
		p.Title.Text += ": " + g.Better + " is better"
	}
	if g.Best[0] >= 0 {
		p.Title.Text += " (the best boxed)"
	}
	p.X.Label.Text, p.Y.Label.Text = g.XName, g.YName
	pal := moreland.SmoothBlueRed().Palette(64)
	hm := plotter.NewHeatMap(gridXYZ(g.Z), pal)
	hm.NaN = color.White
	if lo == hi {
		d := math.Max(math.Abs(lo)*1e-6, 1e-12)
		hm.Min, hm.Max = lo-d, hi+d
	}
	p.Add(hm)
	p.Add(&cellValues{g: g, hm: hm, format: format})
	if g.Best[0] >= 0 {
		p.Add(cellBox{c: g.Best[0], r: g.Best[1]})
	}
	p.Add(&colourBar{pal: pal.Colors(), min: hm.Min, max: hm.Max, format: format})
	p.X.Tick.Marker = indexTicks(g.XTicks)
	p.Y.Tick.Marker = indexTicks(g.YTicks)
	return p, nil
}

// cellBox outlines one cell of a grid, leaving its value readable.
type cellBox struct{ c, r int }

func (b cellBox) Plot(c draw.Canvas, p *plot.Plot) {
	x0, x1 := c.X(p.X.Norm(float64(b.c)-0.5)), c.X(p.X.Norm(float64(b.c)+0.5))
	y0, y1 := c.Y(p.Y.Norm(float64(b.r)-0.5)), c.Y(p.Y.Norm(float64(b.r)+0.5))
	in := vg.Points(2)
	pts := []vg.Point{{X: x0 + in, Y: y0 + in}, {X: x1 - in, Y: y0 + in}, {X: x1 - in, Y: y1 - in}, {X: x0 + in, Y: y1 - in}, {X: x0 + in, Y: y0 + in}}
	c.StrokeLines(draw.LineStyle{Color: color.RGBA{0, 170, 0, 255}, Width: vg.Points(3)}, pts)
}

// gridDigits is the number of decimals that resolves the range [lo, hi]
// to two significant digits and shows the smallest magnitude to three,
// capped at 6.
func gridDigits(lo, hi float64) int {
	d := 0
	if span := hi - lo; span > 0 {
		d = max(d, 1-int(math.Floor(math.Log10(span))))
	}
	if m := math.Min(math.Abs(lo), math.Abs(hi)); m > 0 {
		d = max(d, 2-int(math.Floor(math.Log10(m))))
	}
	return min(d, 6)
}

// gridXYZ adapts Z[c][r] to plotter.GridXYZ with cells at integer x, y.
type gridXYZ [][]float64

func (g gridXYZ) Dims() (c, r int)   { return len(g), len(g[0]) }
func (g gridXYZ) Z(c, r int) float64 { return g[c][r] }
func (g gridXYZ) X(c int) float64    { return float64(c) }
func (g gridXYZ) Y(r int) float64    { return float64(r) }

// indexTicks labels integer positions with the given strings.
type indexTicks []string

func (t indexTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for i, l := range t {
		if float64(i) >= math.Floor(min) && float64(i) <= math.Ceil(max) {
			ticks = append(ticks, plot.Tick{Value: float64(i), Label: l})
		}
	}
	return ticks
}

// cellValues prints each cell's value at its centre.
type cellValues struct {
	g      Grid
	hm     *plotter.HeatMap
	format func(float64) string
}

func (cv *cellValues) Plot(c draw.Canvas, p *plot.Plot) {
	cols, rows := len(cv.g.Z), len(cv.g.Z[0])
	// The text fits a cell: about 0.6 em per character.
	cellW := (c.Max.X - c.Min.X) / vg.Length(cols)
	cellH := (c.Max.Y - c.Min.Y) / vg.Length(rows)
	size := vg.Points(9)
	n := len(cv.format(cv.hm.Max))
	size = min(size, cellW/(0.62*vg.Length(n+1)), cellH*0.6)
	sty := draw.TextStyle{Font: font.From(p.Title.TextStyle.Font, size), XAlign: draw.XCenter, YAlign: draw.YCenter, Handler: p.Title.TextStyle.Handler}
	pal := cv.hm.Palette.Colors()
	for col, zs := range cv.g.Z {
		for row, v := range zs {
			if math.IsNaN(v) {
				continue
			}
			sty.Color = contrast(paletteColour(pal, cv.hm.Min, cv.hm.Max, v))
			pt := vg.Point{X: c.X(p.X.Norm(float64(col))), Y: c.Y(p.Y.Norm(float64(row)))}
			c.FillText(sty, pt, cv.format(v))
		}
	}
}

// paletteColour is the colour plotter.HeatMap gives v.
func paletteColour(pal []color.Color, lo, hi, v float64) color.Color {
	i := int((v-lo)*float64(len(pal)-1)/(hi-lo) + 0.5)
	return pal[max(0, min(len(pal)-1, i))]
}

// contrast is black on light colours and white on dark ones (relative
// luminance, sRGB weights, threshold 0.5).
func contrast(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	if (0.2126*float64(r)+0.7152*float64(g)+0.0722*float64(b))/0xffff > 0.5 {
		return color.Black
	}
	return color.White
}

// colourBar draws the palette as a vertical bar right of the data area,
// with min, max and intermediate values written beside it.
type colourBar struct {
	pal      []color.Color
	min, max float64
	format   func(float64) string
}

const (
	barGap   = vg.Length(10)
	barWidth = vg.Length(14)
)

func (b *colourBar) labelStyle(p *plot.Plot) draw.TextStyle {
	sty := p.Y.Tick.Label
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YCenter
	return sty
}

func (b *colourBar) values() []float64 {
	const n = 5
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = b.min + (b.max-b.min)*float64(i)/(n-1)
	}
	return vs
}

func (b *colourBar) Plot(c draw.Canvas, p *plot.Plot) {
	cols := b.pal
	x0 := c.Max.X + barGap
	h := (c.Max.Y - c.Min.Y) / vg.Length(len(cols))
	for i, col := range cols {
		y := c.Min.Y + vg.Length(i)*h
		c.SetColor(col)
		c.Fill(vg.Rectangle{Min: vg.Point{X: x0, Y: y}, Max: vg.Point{X: x0 + barWidth, Y: y + h + 0.3}}.Path())
	}
	line := draw.LineStyle{Color: color.Black, Width: vg.Points(0.5)}
	c.StrokeLines(line, []vg.Point{{X: x0, Y: c.Min.Y}, {X: x0 + barWidth, Y: c.Min.Y}, {X: x0 + barWidth, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}, {X: x0, Y: c.Min.Y}})
	sty := b.labelStyle(p)
	for _, v := range b.values() {
		y := c.Min.Y + (c.Max.Y-c.Min.Y)*vg.Length((v-b.min)/(b.max-b.min))
		c.StrokeLine2(line, x0+barWidth, y, x0+barWidth+3, y)
		c.FillText(sty, vg.Point{X: x0 + barWidth + 5, Y: y}, b.format(v))
	}
}

// GlyphBoxes reserves the bar's width and its labels' right of the data.
func (b *colourBar) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	sty := b.labelStyle(p)
	w := vg.Length(0)
	for _, v := range b.values() {
		w = max(w, sty.Width(b.format(v)))
	}
	return []plot.GlyphBox{{X: 1, Y: 0.5, Rectangle: vg.Rectangle{Max: vg.Point{X: barGap + barWidth + 5 + w + 4}}}}
}
