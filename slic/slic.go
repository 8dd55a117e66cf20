// Package slic segments images into superpixels by SLIC (Achanta et al.,
// "SLIC Superpixels Compared to State-of-the-Art Superpixel Methods",
// IEEE TPAMI 2012), as scikit-image's skimage.segmentation.slic computes
// them with its defaults (n_segments=100, compactness=10, max_num_iter=10,
// sigma=0, enforce_connectivity=True, min_size_factor=0.5,
// max_size_factor=3) and start_label=0: the segmentation Quantus' IROF
// uses. No Go library implements SLIC this way (the labels must match
// scikit-image's for IROF to match Quantus').
//
// # Algorithm
//
// The image is rescaled as a whole to [0, 1] (minus its minimum, divided
// by the new maximum), converted from sRGB to CIE Lab (D65, 2°) when it
// has three channels, and multiplied by 1/compactness. Cluster centres
// start on skimage's regular grid (util.regular_grid) with zero colour;
// each of max_num_iter iterations assigns every pixel within 2·step of a
// centre (step the grid's spacing) to the centre of least
//
//	d = ((Δy² + Δx²) / S² + ‖Δcolour‖²),  S = max step,
//
// (the first centre on ties), then moves every centre to its pixels' mean
// position and colour, and stops early when no assignment changed.
// Finally connected components are relabelled in raster order (4-
// connectivity, a component split after max_size pixels), and components
// smaller than min_size join the last adjacent component met.
package slic

import (
	"fmt"
	"math"
)

// Options are SLIC's settings; zero fields take scikit-image's defaults.
type Options struct {
	Segments    int     // approximate number of segments (default 100)
	Compactness float64 // balance of colour and space (default 10)
	Iterations  int     // at most this many k-means iterations (default 10)
}

// Segment returns the superpixel label (0, 1, …) of every pixel of img,
// a C×H×W image in any value range (row-major H×W labels).
func Segment(img []float64, c, h, w int, opt Options) ([]int, error) {
	if c < 1 || h < 1 || w < 1 || len(img) != c*h*w {
		return nil, fmt.Errorf("slic: %d values for a %d×%d×%d image", len(img), c, h, w)
	}
	if opt.Segments == 0 {
		opt.Segments = 100
	}
	if opt.Compactness == 0 {
		opt.Compactness = 10
	}
	if opt.Iterations == 0 {
		opt.Iterations = 10
	}
	if opt.Segments < 1 || opt.Compactness < 0 || opt.Iterations < 0 {
		return nil, fmt.Errorf("slic: %d segments, compactness %g, %d iterations: must be positive", opt.Segments, opt.Compactness, opt.Iterations)
	}
	for _, v := range img {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("slic: the image has a non-finite value")
		}
	}
	hw := h * w
	// Pixel-major features, scaled as skimage does.
	feat := make([]float64, hw*c)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range img {
		lo, hi = min(lo, v), max(hi, v)
	}
	imax := hi - lo
	for ch := 0; ch < c; ch++ {
		for i := 0; i < hw; i++ {
			v := img[ch*hw+i] - lo
			if imax != 0 {
				v /= imax
			}
			feat[i*c+ch] = v
		}
	}
	if c == 3 {
		for i := 0; i < hw; i++ {
			rgbToLab(feat[i*3 : i*3+3])
		}
	}
	ratio := 1 / opt.Compactness
	for i := range feat {
		feat[i] *= ratio
	}
	// Centres on the regular grid, rows then columns.
	ys, xs := regularGrid(h, w, opt.Segments)
	var cy, cx []float64
	for y := ys.start; y < h; y += ys.step {
		for x := xs.start; x < w; x += xs.step {
			cy, cx = append(cy, float64(y)), append(cx, float64(x))
		}
	}
	n := len(cy)
	step := float64(max(ys.step, xs.step))
	col := make([]float64, n*c)
	labels := iterate(feat, c, h, w, cy, cx, col, step, opt.Iterations, n)
	size := float64(hw) / float64(n)
	return connect(labels, h, w, int(0.5*size), int(3*size)), nil
}

type grid struct{ start, step int }

// regularGrid follows skimage.util.regular_grid for the shape (1, h, w)
// (SLIC's depth axis of 2-D images).
func regularGrid(h, w, points int) (ys, xs grid) {
	shape := []int{1, h, w}
	space := float64(h * w)
	if space <= float64(points) {
		return grid{0, 1}, grid{0, 1}
	}
	// Sort the dimensions (stable, as numpy's argsort of a 3-vector is
	// for these small integers).
	idx := []int{0, 1, 2}
	for i := 1; i < 3; i++ {
		for j := i; j > 0 && shape[idx[j]] < shape[idx[j-1]]; j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	sorted := []float64{float64(shape[idx[0]]), float64(shape[idx[1]]), float64(shape[idx[2]])}
	steps := make([]float64, 3)
	for d := range steps {
		steps[d] = math.Pow(space/float64(points), 1.0/3)
	}
	anyBelow := false
	for d := range steps {
		anyBelow = anyBelow || sorted[d] < steps[d]
	}
	if anyBelow {
		for d := 0; d < 3; d++ {
			steps[d] = sorted[d]
			rest := 1.0
			for e := d + 1; e < 3; e++ {
				rest *= sorted[e]
			}
			for e := d + 1; e < 3; e++ {
				steps[e] = math.Pow(rest/float64(points), 1.0/float64(3-d-1))
			}
			all := true
			for e := range steps {
				all = all && sorted[e] >= steps[e]
			}
			if all {
				break
			}
		}
	}
	out := make([]grid, 3)
	for d := range steps {
		out[idx[d]] = grid{int(math.Floor(steps[d] / 2)), int(math.RoundToEven(steps[d]))}
	}
	return out[1], out[2]
}

// iterate is skimage's _slic_cython without mask and SLIC-zero: it
// returns every pixel's nearest centre.
func iterate(feat []float64, c, h, w int, cy, cx, col []float64, step float64, iters, n int) []int {
	ys, xs := regularGrid(h, w, n)
	sw := 1 / (float64(float32(step)) * float64(float32(step)))
	nearest := make([]int, h*w)
	for i := range nearest {
		nearest[i] = -1
	}
	dist := make([]float64, h*w)
	count := make([]int, n)
	dead := make([]bool, n) // centres that lost all pixels (NaN in skimage)
	for it := 0; it < iters; it++ {
		change := false
		for i := range dist {
			dist[i] = math.MaxFloat64
		}
		for k := 0; k < n; k++ {
			if dead[k] {
				continue
			}
			y0, y1 := int(max(cy[k]-2*float64(ys.step), 0)), int(min(cy[k]+2*float64(ys.step)+1, float64(h)))
			x0, x1 := int(max(cx[k]-2*float64(xs.step), 0)), int(min(cx[k]+2*float64(xs.step)+1, float64(w)))
			for y := y0; y < y1; y++ {
				dy := cy[k] - float64(y)
				dy *= dy
				for x := x0; x < x1; x++ {
					dx := cx[k] - float64(x)
					dx *= dx
					d := (0 + dy + dx) * sw
					p := y*w + x
					var dc float64
					for ch := 0; ch < c; ch++ {
						t := feat[p*c+ch] - col[k*c+ch]
						dc += t * t
					}
					d += dc
					if dist[p] > d {
						nearest[p], dist[p] = k, d
						change = true
					}
				}
			}
		}
		if !change {
			break
		}
		clear(count)
		for k := range cy {
			cy[k], cx[k] = 0, 0
		}
		clear(col)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				p := y*w + x
				k := nearest[p]
				count[k]++
				cy[k] += float64(y)
				cx[k] += float64(x)
				for ch := 0; ch < c; ch++ {
					col[k*c+ch] += feat[p*c+ch]
				}
			}
		}
		for k := 0; k < n; k++ {
			if count[k] == 0 {
				dead[k] = true
				continue
			}
			cy[k] /= float64(count[k])
			cx[k] /= float64(count[k])
			for ch := 0; ch < c; ch++ {
				col[k*c+ch] /= float64(count[k])
			}
		}
	}
	return nearest
}

// connect is skimage's _enforce_label_connectivity_cython for a 2-D image
// with start_label 0.
func connect(seg []int, h, w, minSize, maxSize int) []int {
	out := make([]int, len(seg))
	for i := range out {
		out[i] = -1
	}
	dy := [4]int{0, 0, 1, -1}
	dx := [4]int{1, -1, 0, 0}
	next := 0
	coords := make([]int, max(maxSize, 1))
	for p := range seg {
		if seg[p] == -1 || out[p] > -1 {
			continue
		}
		adjacent := next
		label := seg[p]
		out[p] = next
		size, visited := 1, 0
		coords[0] = p
		for visited < size && size < maxSize {
			y, x := coords[visited]/w, coords[visited]%w
			for i := 0; i < 4; i++ {
				yy, xx := y+dy[i], x+dx[i]
				if yy < 0 || yy >= h || xx < 0 || xx >= w {
					continue
				}
				q := yy*w + xx
				if seg[q] == label && out[q] == -1 {
					out[q] = next
					coords[size] = q
					size++
					if size >= maxSize {
						break
					}
				} else if out[q] > -1 && out[q] != next {
					adjacent = out[q]
				}
			}
			visited++
		}
		if size < minSize {
			for i := 0; i < size; i++ {
				out[coords[i]] = adjacent
			}
		} else {
			next++
		}
	}
	return out
}

var xyzFromRGB = [3][3]float64{
	{0.412453, 0.357580, 0.180423},
	{0.212671, 0.715160, 0.072169},
	{0.019334, 0.119193, 0.950227},
}

var d65 = [3]float64{0.95047, 1, 1.08883}

// rgbToLab converts one sRGB triple in place as skimage.color.rgb2lab.
func rgbToLab(v []float64) {
	var lin [3]float64
	for i, c := range v[:3] {
		if c > 0.04045 {
			lin[i] = math.Pow((c+0.055)/1.055, 2.4)
		} else {
			lin[i] = c / 12.92
		}
	}
	var f [3]float64
	for i := range f {
		t := (lin[0]*xyzFromRGB[i][0] + lin[1]*xyzFromRGB[i][1] + lin[2]*xyzFromRGB[i][2]) / d65[i]
		if t > 0.008856 {
			f[i] = math.Cbrt(t)
		} else {
			f[i] = 7.787*t + 16.0/116.0
		}
	}
	v[0], v[1], v[2] = 116*f[1]-16, 500*(f[0]-f[1]), 200*(f[1]-f[2])
}
