// Package inpaint fills masked regions of 8-bit images with A. Telea's
// fast-marching inpainting ("An Image Inpainting Technique Based on the
// Fast Marching Method", J. Graphics Tools 9(1), 2004), following OpenCV's
// cv::inpaint(src, mask, radius, INPAINT_TELEA) closely enough to give the
// same pixels (see Telea for the method and the details that are matched).
package inpaint

import (
	"fmt"
	"math"
)

// far is the arrival time of cells the marches never reach.
const far = 1.0e6

// Telea returns a copy of src in which every pixel with mask[y*W+x] != 0 is
// filled; the other pixels are copied unchanged. radius is the radius of
// the neighbourhood a filled pixel takes its value from, as in OpenCV (3 in
// pixel flipping); it is rounded half to even and clamped to [1, 100].
// len(mask) must be src.W*src.H; src must have 1 or 3 channels.
//
// The method (Telea 2004, as implemented by OpenCV's inpaint.cpp):
//
// Distance. The unknown region Ω is filled from its boundary inward in
// order of the arrival time T of a front that starts at T = 0 on the narrow
// band (the known pixels 4-adjacent to Ω) and moves with unit speed: T
// solves the eikonal equation |∇T| = 1 with the first-order upwind update
// of Sethian's fast marching method. For an unknown pixel and each of its
// four quadrants, with a, b the times of the vertical and horizontal
// neighbours,
//
//	T = (a + b + √(2 − (a−b)²)) / 2   if both are known and |a − b| < 1,
//	T = 1 + min(a, b)                  otherwise (1 + the known one's time
//	                                    when only one is known),
//
// and T is the minimum over the four quadrants. A pixel's time is set once,
// when a neighbour leaves the band. Before filling, the same march runs
// outward from the band over the known pixels within radius (Chebyshev) of
// Ω and those times are negated, so T grows monotonically across ∂Ω.
//
// Filling. A pixel p leaves the band in order of increasing T (ties: first
// in, first out) and each unknown 4-neighbour q gets its time and then its
// value from the known pixels k with |q−k| ≤ radius (Euclidean, in the
// image), r = q − k:
//
//	w(q,k) = |dir · dst · lev|,  dir = r·∇T(q)  (1e-6 when |r·∇T| ≤ 0.01),
//	                             dst = 1/|r|³,   lev = 1/(1 + |T(k) − T(q)|)
//	Ia = Σ w·I(k),  J = −Σ w·(∂x I(k)·r.x, ∂y I(k)·r.y),  s = 1e-20 + Σ w
//	I(q) = round(Ia/s + (Jx + Jy)/(|J| + 1e-20) + 0.5)   saturated to 0…255
//
// ∇T(q) is a central difference where both neighbours along an axis are
// known, else a one-sided one, else 0; ∇I(k) likewise but with the
// central difference scaled by 2 instead of 1/2, and "round" rounds half to
// even, so the +0.5 biases it (OpenCV's arithmetic, kept on purpose).
// Known pixels in the image's first row (column) read their value and
// ∇I from the second, and ∇I in the last row (column) is shifted one pixel
// inward (OpenCV's index clamps). The +0.5 and the normalised (Jx+Jy)/|J|
// term are OpenCV's, not the paper's I(q) = Σ w·(I(k) + ∇I(k)·r) / Σ w.
// Each call allocates its buffers; an Inpainter reuses them.
//
// Matching OpenCV: the grids are padded by one pixel of border that is
// known and has T = 1e6 (so ∇T is steep next to the image's edge); times
// are float32, the eikonal update is computed in float64 and rounded, and
// the weights and sums are float32 in OpenCV's order of operations (the
// disk in raster order, float overloads of fabs and sqrt where OpenCV's C++
// picks them). The result is identical to OpenCV 4.6.0's on every golden
// in testdata (224×224 photos with 1% to 90% of 8×8 patches, single pixels
// and blobs masked; small crops with radii 1 to 7). Images one pixel wide
// or high differ: there OpenCV's index clamps read outside the image, this
// package stays inside it. A full mask leaves no known pixel to start from
// and, as in OpenCV, returns the image unchanged.
func Telea(src *Image, mask []uint8, radius float64) (*Image, error) {
	p, err := NewInpainter(radius)
	if err != nil {
		return nil, err
	}
	dst := &Image{}
	if err := p.Into(dst, src, mask); err != nil {
		return nil, err
	}
	return dst, nil
}

// Inpainter runs Telea's method with a fixed radius and keeps its working
// buffers between calls, so that inpainting many images of one size
// allocates nothing after the first call. An Inpainter is not safe for
// concurrent use; use one per goroutine.
type Inpainter struct {
	radius int

	// The grids are padded by one cell on each side: (h+2)×(w+2), the
	// image pixel (x, y) is cell (y+1)*(w+2) + x+1.
	w, h int       // the image size the buffers are laid out for
	f    []uint8   // 1 where known, 0 where still unknown (the mask), for the filling march
	o    []uint8   // 0 on the cells the outward march has still to reach, 1 elsewhere
	t    []float32 // arrival times
	tmp  []uint8   // dilation scratch
	ring []int32   // narrow band cells in raster order
	seen []int32   // cells the outward march reached
	q    queue

	taps []tap // the disk of radius, in OpenCV's raster order

	// Per padded row k (column l): offsets of the source rows (columns)
	// that OpenCV reads for a known pixel there, clamped into the image.
	rowM, rowMm, rowP, rowPp []int32 // k-1+(k==1), that −1, k-1-(k==h), that +1; times w·c
	colM, colMm, colP, colPp []int32 // same for columns, times c
	c                        int     // channels the column tables are scaled for
}

// tap is one offset of the disk: (dk, dl) in rows and columns, d in the
// padded grid, r = q − k and OpenCV's distance factor 1/|r|³.
type tap struct {
	dk, dl int
	d      int // offset in the padded grid
	po     int // offset in the image's Pix
	rx, ry float32
	dst    float32
}

// NewInpainter returns an Inpainter for the given radius (as in Telea).
func NewInpainter(radius float64) (*Inpainter, error) {
	if math.IsNaN(radius) || math.IsInf(radius, 0) {
		return nil, fmt.Errorf("inpaint: radius %v is not a finite number", radius)
	}
	r := 1
	if radius > 1 {
		r = int(math.Min(math.RoundToEven(radius), 100))
		if r < 1 {
			r = 1
		}
	}
	return &Inpainter{radius: r}, nil
}

// Radius returns the integer radius the Inpainter uses.
func (p *Inpainter) Radius() int { return p.radius }

// Into inpaints src into dst: dst gets src's size and channels (its Pix is
// reused when its capacity suffices, else reallocated) and every pixel with
// mask[y*W+x] != 0 is filled as Telea describes. dst may be src itself.
func (p *Inpainter) Into(dst, src *Image, mask []uint8) error {
	if dst == nil {
		return fmt.Errorf("inpaint: nil destination image")
	}
	if err := src.check("source"); err != nil {
		return err
	}
	if len(mask) != src.W*src.H {
		return fmt.Errorf("inpaint: mask has %d pixels, want %d×%d = %d", len(mask), src.W, src.H, src.W*src.H)
	}
	n := len(src.Pix)
	if cap(dst.Pix) < n {
		dst.Pix = make([]uint8, n)
	}
	dst.Pix = dst.Pix[:n]
	if &dst.Pix[0] != &src.Pix[0] {
		copy(dst.Pix, src.Pix)
	}
	dst.W, dst.H, dst.C = src.W, src.H, src.C

	p.layout(src.W, src.H, src.C)
	if !p.setup(mask) {
		return nil // nothing to fill
	}
	p.outward()
	p.fill(dst.Pix)
	return nil
}

// layout sizes the buffers and tables for a w×h image with c channels.
func (p *Inpainter) layout(w, h, c int) {
	if p.w == w && p.h == h && p.c == c && p.taps != nil {
		return
	}
	p.w, p.h, p.c = w, h, c
	ew, eh := w+2, h+2
	n := ew * eh
	p.f = grow(p.f, n)
	p.o = grow(p.o, n)
	p.tmp = grow(p.tmp, n)
	p.t = growF(p.t, n)

	r := p.radius
	p.taps = p.taps[:0]
	for dk := -r; dk <= r; dk++ {
		for dl := -r; dl <= r; dl++ {
			if dk*dk+dl*dl > r*r || (dk == 0 && dl == 0) {
				continue
			}
			rx, ry := float32(-dl), float32(-dk)
			l2 := rx*rx + ry*ry
			// OpenCV: (float)(1./(len*sqrt(len))), the square root in
			// double for 3 channels and in float for 1 channel.
			dst := float32(1 / (float64(l2) * math.Sqrt(float64(l2))))
			if c == 1 {
				dst = float32(1 / float64(l2*sqrt32(l2)))
			}
			p.taps = append(p.taps, tap{dk: dk, dl: dl, d: dk*ew + dl, po: (dk*w + dl) * c, rx: rx, ry: ry, dst: dst})
		}
	}

	clamp := func(v, hi int) int32 { return int32(min(max(v, 0), hi-1)) }
	p.rowM, p.rowMm, p.rowP, p.rowPp = grow32(p.rowM, eh), grow32(p.rowMm, eh), grow32(p.rowP, eh), grow32(p.rowPp, eh)
	for k := 0; k < eh; k++ {
		m := k - 1
		if k == 1 {
			m++
		}
		pp := k - 1
		if k == eh-2 {
			pp--
		}
		s := int32(w * c)
		p.rowM[k], p.rowMm[k] = clamp(m, h)*s, clamp(m-1, h)*s
		p.rowP[k], p.rowPp[k] = clamp(pp, h)*s, clamp(pp+1, h)*s
	}
	p.colM, p.colMm, p.colP, p.colPp = grow32(p.colM, ew), grow32(p.colMm, ew), grow32(p.colP, ew), grow32(p.colPp, ew)
	for l := 0; l < ew; l++ {
		m := l - 1
		if l == 1 {
			m++
		}
		pp := l - 1
		if l == ew-2 {
			pp--
		}
		s := int32(c)
		p.colM[l], p.colMm[l] = clamp(m, w)*s, clamp(m-1, w)*s
		p.colP[l], p.colPp[l] = clamp(pp, w)*s, clamp(pp+1, w)*s
	}
}

func grow(b []uint8, n int) []uint8 {
	if cap(b) < n {
		return make([]uint8, n)
	}
	return b[:n]
}

func growF(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

func grow32(b []int32, n int) []int32 {
	if cap(b) < n {
		return make([]int32, n)
	}
	return b[:n]
}

// setup builds the padded grids as OpenCV does: f marks the mask as
// unknown (the border row and column around the image are known), the
// narrow band is the cross-shaped dilation of the mask minus the mask
// (border excluded), T is 0 on the band and 1e6 elsewhere, and o leaves
// unreached the known cells within radius (a square: OpenCV dilates with a
// rectangle) of the mask that are neither band nor border, for the outward
// march. It reports whether there is anything to fill.
func (p *Inpainter) setup(mask []uint8) bool {
	w, h := p.w, p.h
	ew := w + 2
	f, t := p.f, p.t
	for i := range f {
		f[i] = 1
	}
	masked := false
	for y := 0; y < h; y++ {
		row := f[(y+1)*ew+1 : (y+1)*ew+1+w]
		for x, m := range mask[y*w : (y+1)*w] {
			if m != 0 {
				row[x] = 0
				masked = true
			}
		}
	}
	if !masked {
		return false
	}
	for i := range t {
		t[i] = far
	}
	p.ring = p.ring[:0]
	for i := 1; i <= h; i++ {
		for j := 1; j <= w; j++ {
			c := i*ew + j
			if f[c] != 0 && f[c-ew]&f[c-1]&f[c+1]&f[c+ew] == 0 {
				p.ring = append(p.ring, int32(c))
				t[c] = 0
			}
		}
	}
	p.dilate()
	for _, c := range p.ring {
		p.o[c] = 1
	}
	return true
}

// dilate sets o to 0 on the padded cells within Chebyshev distance radius
// of a masked cell that are not masked themselves and not on the border,
// and to 1 elsewhere (the caller sets the band cells to 1).
func (p *Inpainter) dilate() {
	w, h, r := p.w, p.h, p.radius
	ew, eh := w+2, h+2
	f, tmp, o := p.f, p.tmp, p.o
	// Rows: tmp = 1 where a masked cell is within r columns.
	for i := 0; i < eh; i++ {
		row := f[i*ew : (i+1)*ew]
		out := tmp[i*ew : (i+1)*ew]
		last := -1 << 30
		for j := range row {
			if row[j] == 0 {
				last = j
			}
			out[j] = 0
			if j-last <= r {
				out[j] = 1
			}
		}
		next := 1 << 30
		for j := ew - 1; j >= 0; j-- {
			if row[j] == 0 {
				next = j
			}
			if next-j <= r {
				out[j] = 1
			}
		}
	}
	// Columns: o = 0 where tmp is 1 within r rows.
	for j := 0; j < ew; j++ {
		last := -1 << 30
		for i := 0; i < eh; i++ {
			c := i*ew + j
			if tmp[c] != 0 {
				last = i
			}
			o[c] = 1
			if i-last <= r {
				o[c] = 0
			}
		}
		next := 1 << 30
		for i := eh - 1; i >= 0; i-- {
			c := i*ew + j
			if tmp[c] != 0 {
				next = i
			}
			if next-i <= r {
				o[c] = 0
			}
		}
	}
	// Not the mask, not the border.
	for c, v := range f {
		if v == 0 {
			o[c] = 1
		}
	}
	for j := 0; j < ew; j++ {
		o[j], o[(eh-1)*ew+j] = 1, 1
	}
	for i := 0; i < eh; i++ {
		o[i*ew], o[i*ew+ew-1] = 1, 1
	}
}

// solve is OpenCV's FastMarching_solve: the arrival time at the cell whose
// vertical neighbour is a and horizontal neighbour is b (known where
// k[·] != 0), computed in float64 from the float32 times and rounded to
// float32.
func solve(k []uint8, t []float32, a, b int) float32 {
	a11, a22 := float64(t[a]), float64(t[b])
	m12 := a11
	if a11 > a22 {
		m12 = a22
	}
	var sol float64
	if k[a] != 0 {
		if k[b] != 0 {
			if d := a11 - a22; math.Abs(d) >= 1 {
				sol = 1 + m12
			} else {
				sol = (a11 + a22 + math.Sqrt(2-float64(d*d))) * 0.5
			}
		} else {
			sol = 1 + a11
		}
	} else if k[b] != 0 {
		sol = 1 + a22
	} else {
		sol = 1 + m12
	}
	return float32(sol)
}

func min2(a, b float32) float32 {
	if a > b {
		return b
	}
	return a
}

// arrival is the minimum of the four quadrant updates at cell c, in
// OpenCV's order.
func arrival(k []uint8, t []float32, c, ew int) float32 {
	a := solve(k, t, c-ew, c-1)
	b := solve(k, t, c+ew, c-1)
	d := solve(k, t, c-ew, c+1)
	e := solve(k, t, c+ew, c+1)
	return min2(min2(a, b), min2(d, e))
}

// outward marches from the band over the unreached cells of o and then
// negates the times of every cell it popped (OpenCV's icvCalcFMM with
// negate): the band and the cells it reached.
func (p *Inpainter) outward() {
	ew := p.w + 2
	o, t, q := p.o, p.t, &p.q
	q.reset()
	for _, c := range p.ring {
		q.push(int(c), 0)
	}
	p.seen = p.seen[:0]
	for {
		c, ok := q.pop()
		if !ok {
			break
		}
		for _, nb := range [4]int{c - ew, c - 1, c + ew, c + 1} {
			if o[nb] == 0 {
				d := arrival(o, t, nb, ew)
				t[nb] = d
				o[nb] = 1
				p.seen = append(p.seen, int32(nb))
				q.push(nb, d)
			}
		}
	}
	for _, c := range p.ring {
		t[c] = -t[c]
	}
	for _, c := range p.seen {
		t[c] = -t[c]
	}
}

// fill runs the filling march over pix (the destination image).
func (p *Inpainter) fill(pix []uint8) {
	ew := p.w + 2
	f, t, q := p.f, p.t, &p.q
	q.reset()
	for _, c := range p.ring {
		q.push(int(c), 0)
	}
	for {
		c, ok := q.pop()
		if !ok {
			break
		}
		for _, nb := range [4]int{c - ew, c - 1, c + ew, c + 1} {
			if f[nb] == 0 {
				d := arrival(f, t, nb, ew)
				t[nb] = d
				p.pixel(pix, nb, d)
				f[nb] = 1
				q.push(nb, d)
			}
		}
	}
}

// gradScale is the factor OpenCV applies to an image difference by which
// neighbours are known: bit 0 the next one (right or below), bit 1 the
// previous one. Both give the central difference, times 2 (not 1/2).
var gradScale = [4]float32{0, 1, 1, 2}

// u8f converts a byte to float32 by a table look-up; differences of two
// entries are exact, like OpenCV's int differences converted to float.
var u8f = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i)
	}
	return
}()

// pixel computes the value of the unknown cell c (arrival time tc).
func (p *Inpainter) pixel(pix []uint8, c int, tc float32) {
	w, h, r, C := p.w, p.h, p.radius, p.c
	ew := w + 2
	f, t := p.f, p.t
	i, j := c/ew, c%ew

	// ∇T at c: central where both neighbours are known, else one-sided.
	var gx, gy float32
	switch f[c+1] | f[c-1]<<1 {
	case 3:
		gx = (t[c+1] - t[c-1]) * 0.5
	case 1:
		gx = t[c+1] - t[c]
	case 2:
		gx = t[c] - t[c-1]
	}
	switch f[c+ew] | f[c-ew]<<1 {
	case 3:
		gy = (t[c+ew] - t[c-ew]) * 0.5
	case 1:
		gy = t[c+ew] - t[c]
	case 2:
		gy = t[c] - t[c-ew]
	}

	var ia0, ia1, ia2, jx0, jx1, jx2, jy0, jy1, jy2 float32
	s := float32(1.0e-20)
	out := ((i-1)*w + (j - 1)) * C
	wc := w * C
	// Away from the image's border OpenCV's index clamps are inactive and
	// every tap lies inside the image.
	interior := i-r >= 2 && i+r <= h-1 && j-r >= 2 && j+r <= w-1
	for ti := range p.taps {
		tp := &p.taps[ti]
		var k, l int
		if !interior {
			k, l = i+tp.dk, j+tp.dl
			if k < 1 || k > h || l < 1 || l > w {
				continue
			}
		}
		kl := c + tp.d
		if f[kl] == 0 {
			continue
		}
		// OpenCV: (float)(1./(1+fabs(T(k)-T(q)))) with the float fabs;
		// float32 division gives the same rounding as the double one.
		lev := 1 / (1 + abs32(t[kl]-tc))
		dir := float32(tp.rx*gx) + float32(tp.ry*gy)
		if abs32(dir) <= 0.01 {
			dir = 0.000001
		}
		wt := abs32(float32(tp.dst*lev) * dir)
		s += wt

		right, left := f[kl+1], f[kl-1]
		down, up := f[kl+ew], f[kl-ew]
		sx, sy := gradScale[right|left<<1], gradScale[down|up<<1]
		var base, x0, x1, y0, y1 int // samples: value; ∂x = x0−x1; ∂y = y0−y1
		if interior {
			base = out + tp.po
			x0, x1 = base+int(right)*C, base-int(left)*C
			y0, y1 = base+int(down)*wc, base-int(up)*wc
		} else {
			ym, xm := int(p.rowM[k]), int(p.colM[l])
			base = ym + xm
			x0, x1 = ym+int(p.colP[l]), base
			if right != 0 {
				x0 = ym + int(p.colPp[l])
			}
			if left != 0 {
				x1 = ym + int(p.colMm[l])
			}
			y0, y1 = int(p.rowP[k])+xm, base
			if down != 0 {
				y0 = int(p.rowPp[k]) + xm
			}
			if up != 0 {
				y1 = int(p.rowMm[k]) + xm
			}
		}
		if C == 3 {
			v := pix[base : base+3 : base+3]
			a, b := pix[x0:x0+3:x0+3], pix[x1:x1+3:x1+3]
			d, e := pix[y0:y0+3:y0+3], pix[y1:y1+3:y1+3]
			ia0 += float32(wt * u8f[v[0]])
			ia1 += float32(wt * u8f[v[1]])
			ia2 += float32(wt * u8f[v[2]])
			jx0 -= float32(wt * float32(float32((u8f[a[0]]-u8f[b[0]])*sx)*tp.rx))
			jx1 -= float32(wt * float32(float32((u8f[a[1]]-u8f[b[1]])*sx)*tp.rx))
			jx2 -= float32(wt * float32(float32((u8f[a[2]]-u8f[b[2]])*sx)*tp.rx))
			jy0 -= float32(wt * float32(float32((u8f[d[0]]-u8f[e[0]])*sy)*tp.ry))
			jy1 -= float32(wt * float32(float32((u8f[d[1]]-u8f[e[1]])*sy)*tp.ry))
			jy2 -= float32(wt * float32(float32((u8f[d[2]]-u8f[e[2]])*sy)*tp.ry))
		} else {
			ia0 += float32(wt * u8f[pix[base]])
			jx0 -= float32(wt * float32(float32((u8f[pix[x0]]-u8f[pix[x1]])*sx)*tp.rx))
			jy0 -= float32(wt * float32(float32((u8f[pix[y0]]-u8f[pix[y1]])*sy)*tp.ry))
		}
	}
	pix[out] = value(ia0, jx0, jy0, s)
	if C == 3 {
		pix[out+1] = value(ia1, jx1, jy1, s)
		pix[out+2] = value(ia2, jx2, jy2, s)
	}
}

// value is OpenCV's final step, all in float32 (the sqrt of a float is the
// float overload): Ia/s + (Jx+Jy)/(|J|+1e-20) + 0.5, saturated to a byte.
func value(ia, jx, jy, s float32) uint8 {
	norm := sqrt32(float32(jx*jx) + float32(jy*jy))
	return saturate(float32(ia/s) + float32((jx+jy)/(norm+1.0e-20)) + 0.5)
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// sqrt32 is the correctly rounded float32 square root (rounding the float64
// root once is exact for float32 arguments).
func sqrt32(v float32) float32 { return float32(math.Sqrt(float64(v))) }

// saturate is OpenCV's saturate_cast<uchar>(float): round half to even,
// then clamp to 0…255 (NaN gives 0).
func saturate(v float32) uint8 {
	r := math.RoundToEven(float64(v))
	switch {
	case !(r >= 0):
		return 0
	case r > 255:
		return 255
	}
	return uint8(r)
}
