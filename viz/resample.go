package viz

import (
	"fmt"
	"math"

	"github.com/xai-go/lrp/tensor"
)

// maxResample bounds the pixels ResampleRelevance writes (as
// data.MaxPixels bounds decoded images).
const maxResample = 1 << 28

// ResampleRelevance sums one sample's relevance (C×H×W) over channels and
// resamples it bilinearly onto a w×h grid on which the map covers the
// rectangle [x0, x1]×[y0, y1] (pixel coordinates, pixel edges at
// integers, as data.Preprocess.SourceRegion returns). Pixels whose centre
// lies in the rectangle are interpolated as PyTorch's
// F.interpolate(mode="bilinear", align_corners=False) does; the others
// get zero relevance. The result is 1×h×w, for HeatmapWith.
func ResampleRelevance(r *tensor.T, w, h int, x0, y0, x1, y1 float64) (*tensor.T, error) {
	if r.Dims() != 3 {
		return nil, fmt.Errorf("viz: relevance must be C×H×W, got %s", tensor.ShapeString(r.Shape))
	}
	if w < 1 || h < 1 || int64(w)*int64(h) > maxResample {
		return nil, fmt.Errorf("viz: cannot resample to %d×%d pixels", w, h)
	}
	if !(x1 > x0) || !(y1 > y0) || math.IsInf(x1-x0, 0) || math.IsInf(y1-y0, 0) {
		return nil, fmt.Errorf("viz: empty region [%g, %g]×[%g, %g]", x0, x1, y0, y1)
	}
	H, W := r.Shape[1], r.Shape[2]
	sum := channelSum(r)
	// src maps an output pixel index to the map's continuous index, or
	// reports that its centre lies outside the region.
	src := func(i int, lo, hi float64, n int) (i0, i1 int, f float64, ok bool) {
		centre := float64(i) + 0.5
		if centre < lo || centre > hi {
			return 0, 0, 0, false
		}
		s := math.Max(0, (centre-lo)*float64(n)/(hi-lo)-0.5)
		i0 = min(int(s), n-1)
		i1 = min(i0+1, n-1)
		return i0, i1, s - float64(i0), true
	}
	// The horizontal taps depend on x alone: computed once per column.
	type tap struct {
		i0, i1 int
		f      float64
		ok     bool
	}
	xs := make([]tap, w)
	for x := range xs {
		xs[x].i0, xs[x].i1, xs[x].f, xs[x].ok = src(x, x0, x1, W)
	}
	out := tensor.New(1, h, w)
	for y := 0; y < h; y++ {
		y0i, y1i, fy, oky := src(y, y0, y1, H)
		if !oky {
			continue
		}
		for x, t := range xs {
			if !t.ok {
				continue
			}
			x0i, x1i, fx := t.i0, t.i1, t.f
			top := (1-fx)*sum[y0i*W+x0i] + fx*sum[y0i*W+x1i]
			bot := (1-fx)*sum[y1i*W+x0i] + fx*sum[y1i*W+x1i]
			out.Data[y*w+x] = float32((1-fy)*top + fy*bot)
		}
	}
	return out, nil
}
