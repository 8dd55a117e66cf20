package data

import "math"

// This file reimplements the arithmetic of Pillow's 8-bit two-pass
// resampler (libImaging/Resample.c, unchanged in substance from Pillow 7
// through 11) for the bilinear (triangle) filter, so that resizing here gives
// the same uint8 pixels as PIL's Image.resize(size, Image.BILINEAR) with no
// box and reducing_gap=None, which is what torchvision's Resize calls.
//
// Per output axis of input length in and output length out:
//
//	scale   = in / out
//	fscale  = max(scale, 1)            // widen the filter only when shrinking
//	support = 1 * fscale               // triangle filter has support 1
//	center  = (i + 0.5) * scale        // for output index i
//	xmin    = max(int(center - support + 0.5), 0)      // int truncates
//	xmax    = min(int(center + support + 0.5), in)
//	w[x]    = tri((x + xmin - center + 0.5) / fscale), tri(t) = max(1-|t|, 0)
//	          (computed as a product with 1/fscale), for x in [0, xmax-xmin)
//	w[x]   /= sum(w)                   // when the sum is not zero
//	k[x]    = int32(w[x]*2^22 ± 0.5)   // rounded away from zero
//
// and each output sample is clip8((2^21 + Σ pixel*k) >> 22), clip8 clamping
// to [0, 255]. The horizontal pass runs first, over only the input rows the
// vertical pass will read, and its result is stored as uint8; the vertical
// pass then runs on that. A pass whose size does not change is skipped.

// precisionBits is Pillow's PRECISION_BITS for 8-bit images: 32 - 8 - 2.
const precisionBits = 32 - 8 - 2

// coeffs holds the fixed-point filter taps of one resampling axis.
type coeffs struct {
	ksize  int     // taps per output sample (stride of k)
	bounds []int   // 2 per output sample: first input index, tap count
	k      []int32 // out*ksize taps, fixed point with precisionBits
}

// bilinearCoeffs computes the taps for resizing an axis of inSize samples
// to outSize samples with Pillow's triangle filter.
func bilinearCoeffs(inSize, outSize int) coeffs {
	// Pillow passes the box edges as C floats; for whole-image resizing they
	// are 0 and inSize, exact in float32 for any size we accept.
	in0 := float64(float32(0))
	in1 := float64(float32(inSize))
	scale := (in1 - in0) / float64(outSize)
	filterscale := scale
	if filterscale < 1.0 {
		filterscale = 1.0
	}
	const filterSupport = 1.0 // bilinear
	support := filterSupport * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	invFilterscale := 1.0 / filterscale

	c := coeffs{
		ksize:  ksize,
		bounds: make([]int, 2*outSize),
		k:      make([]int32, outSize*ksize),
	}
	w := make([]float64, ksize)
	for xx := 0; xx < outSize; xx++ {
		// The explicit float64 conversions forbid fused multiply-add, so each
		// operation rounds as Pillow's C code does.
		center := in0 + float64(float64(xx)+0.5)*scale
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			v := triangle(float64(float64(x+xmin)-center+0.5) * invFilterscale)
			w[x] = v
			ww += v
		}
		if ww != 0.0 {
			for x := 0; x < xmax; x++ {
				w[x] /= ww
			}
		}
		k := c.k[xx*ksize : (xx+1)*ksize]
		for x := 0; x < xmax; x++ {
			// Multiplying by a power of two is exact, so no fusion issue.
			if w[x] < 0 {
				k[x] = int32(-0.5 + w[x]*(1<<precisionBits))
			} else {
				k[x] = int32(0.5 + w[x]*(1<<precisionBits))
			}
		}
		c.bounds[2*xx] = xmin
		c.bounds[2*xx+1] = xmax
	}
	return c
}

// triangle is Pillow's bilinear_filter: 1-|x| on (-1, 1), else 0.
func triangle(x float64) float64 {
	if x < 0.0 {
		x = -x
	}
	if x < 1.0 {
		return 1.0 - x
	}
	return 0.0
}

// clip8 converts a fixed-point accumulator to a uint8 as Pillow does:
// an arithmetic shift right by precisionBits, then clamping to [0, 255].
func clip8(ss int32) uint8 {
	v := ss >> precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// resizePlane resizes one w×h uint8 channel plane (row-major) to ow×oh
// with Pillow's 8-bit bilinear resampler and returns a new plane.
// Sizes must be positive.
func resizePlane(src []uint8, w, h, ow, oh int) []uint8 {
	needH := ow != w
	needV := oh != h
	if !needH && !needV {
		return append([]uint8(nil), src...)
	}
	vc := bilinearCoeffs(h, oh)
	if needH {
		// Only the rows the vertical pass reads are resampled.
		first := vc.bounds[0]
		last := vc.bounds[2*oh-2] + vc.bounds[2*oh-1]
		hc := bilinearCoeffs(w, ow)
		rows := last - first
		tmp := make([]uint8, ow*rows)
		const half = int32(1) << (precisionBits - 1)
		for y := 0; y < rows; y++ {
			line := src[(y+first)*w : (y+first+1)*w]
			out := tmp[y*ow : (y+1)*ow]
			for xx := 0; xx < ow; xx++ {
				xmin, n := hc.bounds[2*xx], hc.bounds[2*xx+1]
				k := hc.k[xx*hc.ksize : xx*hc.ksize+n]
				px := line[xmin : xmin+n]
				ss := half
				for x, kv := range k {
					ss += int32(px[x]) * kv
				}
				out[xx] = clip8(ss)
			}
		}
		for i := 0; i < oh; i++ {
			vc.bounds[2*i] -= first
		}
		src, w, h = tmp, ow, rows
	}
	if !needV {
		return src
	}
	out := make([]uint8, w*oh)
	acc := make([]int32, w)
	const half = int32(1) << (precisionBits - 1)
	for yy := 0; yy < oh; yy++ {
		ymin, n := vc.bounds[2*yy], vc.bounds[2*yy+1]
		k := vc.k[yy*vc.ksize : yy*vc.ksize+n]
		for x := range acc {
			acc[x] = half
		}
		// Row-wise accumulation adds the same integer products per output
		// sample as Pillow's column loop; integer addition is exact.
		for y, kv := range k {
			row := src[(ymin+y)*w : (ymin+y+1)*w]
			for x, p := range row {
				acc[x] += int32(p) * kv
			}
		}
		o := out[yy*w : (yy+1)*w]
		for x, ss := range acc {
			o[x] = clip8(ss)
		}
	}
	return out
}
