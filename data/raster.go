package data

import (
	"image"
	"image/color"
	"math"
)

// raster is an 8-bit image stored as c planes of w×h samples, the form in
// which PIL keeps an "RGB" or "L" image for resampling.
type raster struct {
	c, w, h int
	pix     []uint8 // plane p, row y, column x at pix[(p*h+y)*w+x]
}

func newRaster(c, w, h int) *raster {
	return &raster{c: c, w: w, h: h, pix: make([]uint8, c*w*h)}
}

func (r *raster) plane(p int) []uint8 { return r.pix[p*r.w*r.h : (p+1)*r.w*r.h] }

// toRGB converts img to three 8-bit planes as PIL's Image.convert("RGB")
// does for the image PIL would have decoded from the same file:
// alpha is dropped without compositing (colors are taken non-premultiplied),
// gray is replicated, palettes are looked up, and 16-bit samples keep their
// high byte.
func toRGB(img image.Image) *raster {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := newRaster(3, w, h)
	R, G, B := out.plane(0), out.plane(1), out.plane(2)
	switch m := img.(type) {
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			r, g, bl := R[y*w:(y+1)*w], G[y*w:(y+1)*w], B[y*w:(y+1)*w]
			for x := range r {
				p := row[4*x : 4*x+4 : 4*x+4]
				r[x], g[x], bl[x] = p[0], p[1], p[2]
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			r, g, bl := R[y*w:(y+1)*w], G[y*w:(y+1)*w], B[y*w:(y+1)*w]
			for x := range r {
				p := row[4*x : 4*x+4 : 4*x+4]
				if p[3] == 0xff {
					r[x], g[x], bl[x] = p[0], p[1], p[2]
				} else {
					c := color.NRGBAModel.Convert(color.RGBA{p[0], p[1], p[2], p[3]}).(color.NRGBA)
					r[x], g[x], bl[x] = c.R, c.G, c.B
				}
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			i := y * w
			copy(R[i:i+w], row)
			copy(G[i:i+w], row)
			copy(B[i:i+w], row)
		}
	case *image.YCbCr:
		ycbcrToRGB(m, R, G, B)
	case *image.Paletted:
		lut := make([][3]uint8, 256)
		for j, c := range m.Palette {
			if j >= len(lut) {
				break
			}
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			lut[j] = [3]uint8{n.R, n.G, n.B}
		}
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range row {
				i := y*w + x
				R[i], G[i], B[i] = lut[v][0], lut[v][1], lut[v][2]
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				c := color.NRGBA64Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
				i := y*w + x
				R[i], G[i], B[i] = uint8(c.R>>8), uint8(c.G>>8), uint8(c.B>>8)
			}
		}
	}
	return out
}

// ycbcrToRGB converts a decoded JPEG to RGB planes the way libjpeg-turbo,
// which PIL uses, finishes decoding: subsampled chroma is enlarged with its
// "fancy" triangle filters (4:2:0, 4:2:2 and 4:4:0; other ratios replicate
// samples, as libjpeg does) and converted with its fixed-point tables.
func ycbcrToRGB(m *image.YCbCr, R, G, B []uint8) {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	cb := upsampleChroma(m, m.Cb)
	cr := upsampleChroma(m, m.Cr)
	for y := 0; y < h; y++ {
		yrow := m.Y[m.YOffset(m.Rect.Min.X, m.Rect.Min.Y+y):]
		for x := 0; x < w; x++ {
			i := y*w + x
			R[i], G[i], B[i] = jpegYCbCrToRGB(yrow[x], cb[i], cr[i])
		}
	}
}

// libjpeg's SCALEBITS and FIX(): 16-bit fixed-point constants.
const (
	jScale = 16
	jHalf  = 1 << (jScale - 1)
	fixCrR = 91881  // FIX(1.40200)
	fixCbB = 116130 // FIX(1.77200)
	fixCrG = 46802  // FIX(0.71414)
	fixCbG = 22554  // FIX(0.34414)
)

// jpegYCbCrToRGB is libjpeg's ycc_rgb_convert for one pixel:
//
//	R = Y + ((91881*Cr' + 2^15) >> 16)
//	G = Y + ((-22554*Cb' + 2^15 - 46802*Cr') >> 16)
//	B = Y + ((116130*Cb' + 2^15) >> 16)
//
// with Cb' = Cb-128, Cr' = Cr-128, arithmetic shifts, clamped to [0, 255].
func jpegYCbCrToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	yy, cb1, cr1 := int32(y), int32(cb)-128, int32(cr)-128
	r := yy + (fixCrR*cr1+jHalf)>>jScale
	g := yy + (-fixCbG*cb1+jHalf-fixCrG*cr1)>>jScale
	b := yy + (fixCbB*cb1+jHalf)>>jScale
	return clamp8(r), clamp8(g), clamp8(b)
}

func clamp8(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// upsampleChroma returns the chroma plane c of m enlarged to the full
// w×h luma size with libjpeg-turbo's fancy upsampling (jdsample.c):
//
//	4:2:2 (h2v1): out = (3*near + far + 1 or 2) >> 2, edges replicated
//	4:4:0 (h1v2): the same vertically, bias 1 above and 2 below
//	4:2:0 (h2v2): col sums s = 3*near_row + far_row, then
//	              out = (3*s + s_far + 8 or 7) >> 4
//
// The row above the first and below the last chroma row are copies of
// them, as libjpeg's context rows are. Chroma planes two or fewer samples
// wide are replicated horizontally (libjpeg's box upsampling), and so are
// 4:1:1 and 4:1:0, which libjpeg never filters.
func upsampleChroma(m *image.YCbCr, c []uint8) []uint8 {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := make([]uint8, w*h)
	// Chroma plane size as libjpeg computes it: ceil(size / factor).
	var hf, vf int
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		hf, vf = 2, 1
	case image.YCbCrSubsampleRatio420:
		hf, vf = 2, 2
	case image.YCbCrSubsampleRatio440:
		hf, vf = 1, 2
	default:
		hf, vf = 0, 0
	}
	cw, ch := 0, 0
	if hf != 0 {
		cw, ch = (w+hf-1)/hf, (h+vf-1)/vf
	}
	// Go's planes are laid out relative to Rect.Min, and decoded JPEGs start
	// at (0, 0); anything else, or a plane too small, is converted plainly.
	if hf == 0 || m.Rect.Min != (image.Point{}) || (hf == 2 && cw <= 2) || len(c) < (ch-1)*m.CStride+cw {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				out[y*w+x] = c[m.COffset(m.Rect.Min.X+x, m.Rect.Min.Y+y)]
			}
		}
		return out
	}
	row := func(y int) []uint8 {
		y = min(max(y, 0), ch-1)
		return c[y*m.CStride : y*m.CStride+cw]
	}
	// Vertical step: for each full-height output row, the column sums
	// (h2v2), or the finished samples (h1v2), or the plain row (h2v1).
	col := make([]int32, cw)
	line := make([]uint8, 2*cw)
	for y := 0; y < h; y++ {
		var near, far []uint8
		bias := int32(0)
		if vf == 2 {
			near = row(y / 2)
			if y%2 == 0 {
				far, bias = row(y/2-1), 1
			} else {
				far, bias = row(y/2+1), 2
			}
			for x := range col {
				col[x] = 3*int32(near[x]) + int32(far[x])
			}
		} else {
			near = row(y)
			for x := range col {
				col[x] = int32(near[x])
			}
		}
		o := out[y*w : (y+1)*w]
		switch {
		case hf == 1: // h1v2
			for x := 0; x < w; x++ {
				o[x] = uint8((col[x] + bias) >> 2)
			}
		case vf == 1: // h2v1
			line[0] = uint8(col[0])
			line[1] = uint8((col[0]*3 + col[1] + 2) >> 2)
			for x := 1; x < cw-1; x++ {
				v := col[x] * 3
				line[2*x] = uint8((v + col[x-1] + 1) >> 2)
				line[2*x+1] = uint8((v + col[x+1] + 2) >> 2)
			}
			line[2*cw-2] = uint8((col[cw-1]*3 + col[cw-2] + 1) >> 2)
			line[2*cw-1] = uint8(col[cw-1])
			copy(o, line[:w])
		default: // h2v2
			line[0] = uint8((col[0]*4 + 8) >> 4)
			line[1] = uint8((col[0]*3 + col[1] + 7) >> 4)
			for x := 1; x < cw-1; x++ {
				v := col[x] * 3
				line[2*x] = uint8((v + col[x-1] + 8) >> 4)
				line[2*x+1] = uint8((v + col[x+1] + 7) >> 4)
			}
			line[2*cw-2] = uint8((col[cw-1]*3 + col[cw-2] + 8) >> 4)
			line[2*cw-1] = uint8((col[cw-1]*4 + 7) >> 4)
			copy(o, line[:w])
		}
	}
	return out
}

// toL converts RGB planes to one luminance plane as PIL's convert("L")
// does: L = (19595*R + 38470*G + 7471*B + 0x8000) >> 16, PIL's 16-bit
// fixed-point form of L = R*299/1000 + G*587/1000 + B*114/1000 rounded
// to nearest.
func toL(rgb *raster) *raster {
	out := newRaster(1, rgb.w, rgb.h)
	R, G, B, L := rgb.plane(0), rgb.plane(1), rgb.plane(2), out.pix
	for i := range L {
		L[i] = uint8((uint32(R[i])*19595 + uint32(G[i])*38470 + uint32(B[i])*7471 + 0x8000) >> 16)
	}
	return out
}

// resize returns r resized to w×h with Pillow's bilinear resampler.
func (r *raster) resize(w, h int) *raster {
	if w == r.w && h == r.h {
		return r
	}
	out := &raster{c: r.c, w: w, h: h, pix: make([]uint8, 0, r.c*w*h)}
	for p := 0; p < r.c; p++ {
		out.pix = append(out.pix, resizePlane(r.plane(p), r.w, r.h, w, h)...)
	}
	return out
}

// centerCrop returns the w×h center of r as torchvision's CenterCrop cuts
// it: offsets int(round((size - crop) / 2.0)) with Python's round half to
// even, and where the crop is larger than the image, zero padding of
// (crop-size)//2 before and the rest after, as torchvision pads first.
func (r *raster) centerCrop(w, h int) *raster {
	if w == r.w && h == r.h {
		return r
	}
	left := cropOffset(r.w, w)
	top := cropOffset(r.h, h)
	out := newRaster(r.c, w, h)
	for p := 0; p < r.c; p++ {
		src, dst := r.plane(p), out.plane(p)
		for y := 0; y < h; y++ {
			sy := y + top
			if sy < 0 || sy >= r.h {
				continue
			}
			for x := 0; x < w; x++ {
				sx := x + left
				if sx < 0 || sx >= r.w {
					continue
				}
				dst[y*w+x] = src[sy*r.w+sx]
			}
		}
	}
	return out
}

// cropOffset returns the index in an axis of length size at which
// torchvision's center crop of length crop starts (negative: padding).
func cropOffset(size, crop int) int {
	if crop > size {
		return -((crop - size) / 2)
	}
	return int(math.RoundToEven(float64(size-crop) / 2.0))
}

// shorterSide returns the size torchvision's Resize(s) with an int s gives
// a w×h image: the shorter side becomes s and the longer
// int(s * long / short), truncated.
func shorterSide(w, h, s int) (nw, nh int) {
	short, long := w, h
	if w > h {
		short, long = h, w
	}
	newLong := int(float64(s*long) / float64(short))
	if w <= h {
		return s, newLong
	}
	return newLong, s
}
