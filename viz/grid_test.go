package viz

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"strings"
	"testing"
)

// testGrid is a 6×5 grid with values 1.244 … 1.254 and its minimum at
// column 2, row 3.
func testGrid() Grid {
	g := Grid{Quantity: "MoRF AUC", Better: "lower", XName: "gamma", YName: "epsilon", Best: [2]int{2, 3}}
	for c := 0; c < 6; c++ {
		g.XTicks = append(g.XTicks, fmt.Sprint(c))
		var col []float64
		for r := 0; r < 5; r++ {
			d := math.Hypot(float64(c-2), float64(r-3)) / math.Hypot(3, 3)
			col = append(col, 1.244+0.010*math.Min(1, d))
		}
		g.Z = append(g.Z, col)
	}
	for r := 0; r < 5; r++ {
		g.YTicks = append(g.YTicks, fmt.Sprint(r))
	}
	return g
}

func TestGridDigits(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   string // lo formatted
	}{
		{1.244, 1.254, "1.244"},
		{26.9, 117.6, "26.9"},
		{0.5, 0.52, "0.500"},
		{1000, 3000, "1000"},
		{2, 2, "2.00"},
	} {
		d := gridDigits(c.lo, c.hi)
		if got := fmt.Sprintf("%.*f", d, c.lo); got != c.want {
			t.Errorf("[%g, %g]: %s, want %s", c.lo, c.hi, got, c.want)
		}
	}
}

func TestPlotGrid(t *testing.T) {
	g := testGrid()
	p, err := PlotGrid(g)
	if err != nil {
		t.Fatal(err)
	}
	if want := "MoRF AUC, range 1.244–1.254: lower is better"; !strings.HasPrefix(p.Title.Text, want) {
		t.Errorf("title %q, want it to start with %q", p.Title.Text, want)
	}
	img, data := render(p, 8, 6)
	if os.Getenv("VIZ_SAVE") != "" {
		SavePNG(os.Getenv("VIZ_SAVE"), img)
	}
	// The colour bar right of the data area holds both ends of the
	// palette, deep blue at the bottom and deep red at the top.
	right := image.Rect(data.Max.X+1, data.Min.Y, img.Bounds().Max.X, data.Max.Y)
	blue, red := color.RGBA{59, 76, 192, 255}, color.RGBA{180, 4, 38, 255}
	if n := countColour(img, right, blue); n < 30 {
		t.Errorf("no deep blue right of the data area (%d pixels)", n)
	}
	if n := countColour(img, right, red); n < 30 {
		t.Errorf("no deep red right of the data area (%d pixels)", n)
	}
	// Each cell shows its value: the deep-blue best cell carries white
	// text, and a light cell near the middle of the range black text.
	cell := func(c, r int) image.Rectangle {
		w, h := data.Dx()/len(g.Z), data.Dy()/len(g.Z[0])
		x, y := data.Min.X+c*w, data.Max.Y-(r+1)*h
		return image.Rect(x+w/5, y+h/3, x+4*w/5, y+2*h/3)
	}
	mid, top := [2]int{-1, -1}, [2]int{0, 0}
	for c, col := range g.Z {
		for r, v := range col {
			if math.Abs(v-1.249) < 0.0003 {
				mid = [2]int{c, r}
			}
			if v > g.Z[top[0]][top[1]] {
				top = [2]int{c, r}
			}
		}
	}
	for _, c := range [][2]int{top, g.Best} {
		if n := countWhere(img, cell(c[0], c[1]), func(p color.RGBA) bool { return min(p.R, p.G, p.B) > 170 }); n < 10 {
			t.Errorf("the deep-coloured cell %v has %d light text pixels", c, n)
		}
	}
	// The best cell is boxed in green.
	if n := countColour(img, cell(g.Best[0], g.Best[1]).Inset(-40), color.RGBA{0, 170, 0, 255}); n < 50 {
		t.Errorf("the best cell has %d green pixels around it", n)
	}
	if mid[0] < 0 {
		t.Fatal("test grid has no mid-range cell")
	}
	if n := countWhere(img, cell(mid[0], mid[1]), func(p color.RGBA) bool { return max(p.R, p.G, p.B) < 90 }); n < 10 {
		t.Errorf("the mid-range cell %v has %d black text pixels", mid, n)
	}
	if _, err := PlotGrid(Grid{Z: [][]float64{{1}}, XTicks: []string{"a", "b"}, YTicks: []string{"c"}}); err == nil {
		t.Error("tick labels that do not match the grid accepted")
	}
}

// countWhere counts the pixels within r for which f holds.
func countWhere(img *image.RGBA, r image.Rectangle, f func(color.RGBA) bool) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if f(img.RGBAAt(x, y)) {
				n++
			}
		}
	}
	return n
}
