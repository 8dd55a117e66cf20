package viz

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"sort"

	"github.com/xai-go/lrp/tensor"
)

// stop is a colour at a position in [0, 1] of a colormap.
type stop struct {
	at      float64
	r, g, b float64
}

// Colormaps maps names to piecewise-linear colormaps over [0, 1], where
// 0.5 is zero relevance.
var Colormaps = map[string][]stop{
	// matplotlib's bwr: blue, white, red.
	"bwr": {{0, 0, 0, 1}, {0.5, 1, 1, 1}, {1, 1, 0, 0}},
	// matplotlib's seismic: dark blue, blue, white, red, dark red.
	"seismic": {{0, 0, 0, 0.3}, {0.25, 0, 0, 1}, {0.5, 1, 1, 1}, {0.75, 1, 0, 0}, {1, 0.5, 0, 0}},
	// Zennit's coldnhot: cyan, blue, black, red, yellow.
	"coldnhot": {{0, 0, 1, 1}, {0.25, 0, 0, 1}, {0.5, 0, 0, 0}, {0.75, 1, 0, 0}, {1, 1, 1, 0}},
	// gray: black (most negative) to white (most positive).
	"gray": {{0, 0, 0, 0}, {1, 1, 1, 1}},
}

// ColormapNames lists the colormaps.
func ColormapNames() []string {
	var names []string
	for k := range Colormaps {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func lookup(stops []stop, t float64) (r, g, b float64) {
	t = math.Max(0, math.Min(1, t))
	for i := 1; i < len(stops); i++ {
		if t <= stops[i].at {
			a, z := stops[i-1], stops[i]
			f := (t - a.at) / (z.at - a.at)
			return a.r + f*(z.r-a.r), a.g + f*(z.g-a.g), a.b + f*(z.b-a.b)
		}
	}
	s := stops[len(stops)-1]
	return s.r, s.g, s.b
}

// HeatmapOptions sets how relevance is drawn.
type HeatmapOptions struct {
	// Colormap is one of Colormaps (default "bwr").
	Colormap string
	// Thesis uses the thesis code's heuristic (from Montavon's LRP
	// tutorial): colour range ±10·(mean |R|³)^(1/3) and colours scaled by
	// 0.85. Otherwise the range is the symmetric max |R|.
	Thesis bool
	// Overlay, if set, is the input picture the heatmap is blended over.
	// Each pixel's opacity is Alpha·|R|/bound (clipped to 1), bound being
	// the colour range (max |R|, or the thesis range): where relevance is
	// near zero the picture shows through unchanged, where it is largest
	// the heatmap covers it with opacity Alpha (0 < Alpha ≤ 1).
	Overlay image.Image
	Alpha   float64
	// Scale enlarges the result by an integer factor with nearest
	// neighbours (default 1).
	Scale int
}

// HeatmapWith renders one sample's relevance (C×H×W, summed over
// channels), centred at zero.
func HeatmapWith(r *tensor.T, opt HeatmapOptions) (*image.RGBA, error) {
	name := opt.Colormap
	if name == "" {
		name = "bwr"
	}
	stops, ok := Colormaps[name]
	if !ok {
		return nil, fmt.Errorf("viz: unknown colormap %q (known: %v)", name, ColormapNames())
	}
	if r.Dims() != 3 {
		return nil, fmt.Errorf("viz: relevance must be C×H×W, got %s", tensor.ShapeString(r.Shape))
	}
	h, w := r.Shape[1], r.Shape[2]
	sum := channelSum(r)
	var bound, cube float64
	for _, v := range sum {
		bound = math.Max(bound, math.Abs(v))
		cube += math.Abs(v * v * v)
	}
	scale := 1.0
	if opt.Thesis {
		bound = 10 * math.Cbrt(cube/float64(len(sum)))
		scale = 0.85
	}
	if bound == 0 {
		bound = 1
	}
	if opt.Overlay != nil && (opt.Overlay.Bounds().Dx() != w || opt.Overlay.Bounds().Dy() != h) {
		return nil, fmt.Errorf("viz: overlay of %v does not match relevance %dx%d", opt.Overlay.Bounds().Size(), w, h)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i, v := range sum {
		cr, cg, cb := lookup(stops, 0.5+0.5*v/bound)
		cr, cg, cb = cr*scale, cg*scale, cb*scale
		if opt.Overlay != nil {
			or, og, ob, _ := opt.Overlay.At(opt.Overlay.Bounds().Min.X+i%w, opt.Overlay.Bounds().Min.Y+i/w).RGBA()
			a := opt.Alpha * math.Min(1, math.Abs(v)/bound)
			cr = a*cr + (1-a)*float64(or)/0xffff
			cg = a*cg + (1-a)*float64(og)/0xffff
			cb = a*cb + (1-a)*float64(ob)/0xffff
		}
		img.SetRGBA(i%w, i/w, color.RGBA{uint8(math.Round(255 * cr)), uint8(math.Round(255 * cg)), uint8(math.Round(255 * cb)), 255})
	}
	if opt.Scale > 1 {
		img = Upscale(img, opt.Scale)
	}
	return img, nil
}

// channelSum sums a C×H×W relevance over its channels, per pixel.
func channelSum(r *tensor.T) []float64 {
	c, hw := r.Shape[0], r.Shape[1]*r.Shape[2]
	sum := make([]float64, hw)
	for ch := 0; ch < c; ch++ {
		for i := range sum {
			sum[i] += float64(r.Data[ch*hw+i])
		}
	}
	return sum
}
