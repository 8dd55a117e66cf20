package nn

import (
	"sync/atomic"

	"github.com/xai-go/lrp/internal/kernels"
)

// Convolutions are computed as GEMMs on tiles of the column (im2col)
// matrix. The output of one image and group is cut into tiles of whole
// output rows; a tile's columns are built in a buffer small enough to stay
// in the core's cache and multiplied right away by the group's weights
// with the serial GEMM, writing the output tile in place. Tiles (and, when
// there are too few of them to keep every core busy, blocks of output
// channels of a tile) are independent work items that goroutines claim
// from a counter (parallelItems), so no goroutine ever waits for another
// except at the end of a layer.
//
// The transposed convolution (the input gradient, used by every LRP rule)
// of a stride-1 convolution is itself a stride-1 convolution of the output
// gradient, with the weights flipped in space and their input and output
// channels swapped, and padding (k−1)·d − p; it uses the same tiled forward
// path. Pointwise convolutions need no column matrix at all; strided ones
// fall back to a GEMM with the transposed weights and col2im.

// Tuning knobs (variables so that tests can exercise every path).
var (
	// convColBudget is the size in floats of a tile's column buffer per
	// output channel (of the GEMM's rows), within [convColMin,
	// convColMax]: a column is used for 2 flops per output channel, so
	// with few channels the tile must stay in the core's cache, while
	// with many the cost that counts is packing the weights once per tile.
	convColBudget = 1 << 13
	convColMin    = 1 << 18
	convColMax    = 1 << 22
	// convMinCols is the fewest output pixels per tile (the GEMM's
	// micro-kernel works on 32 columns at a time, and packs the weights
	// once per tile).
	convMinCols = 512
	// convItemsPerWorker is how many work items per goroutine a layer is
	// cut into, at least, when it is small: enough for goroutines to end
	// together when some run less than others, but splitting costs too
	// (smaller GEMMs, columns built by all goroutines before any GEMM
	// starts). Pointwise convolutions, which need no columns, are cut
	// into convItemsPerWorkerPointwise items.
	convItemsPerWorker          = 2
	convItemsPerWorkerPointwise = 4
	// convMinChannels is the fewest output channels per item when
	// channels are split (fewer make the GEMM reload its columns too
	// often); convPackCost is the cost, in multiply-adds per depth step,
	// of packing a row of weights or reading a column (see planConv).
	convMinChannels = 64
	convPackCost    = 32.0
	// convFlipMinChannels is the fewest input channels per group for which
	// the transposed stride-1 convolution is computed as a convolution
	// with flipped weights (its GEMM has that many rows).
	convFlipMinChannels = 16
	// convFlipMinPixels is the fewest input pixels (times the batch) for
	// which BackwardWith flips the weights itself: flipping costs about as
	// much as that many multiply-adds per weight.
	convFlipMinPixels = 2048
)

// convPlan is how a convolution is cut into work items: every image and
// group is cut into tiles of rows output rows (units), and every unit into
// mb blocks of mstep output channels.
type convPlan struct {
	rows, tiles, units int
	mb, mstep          int
}

func (p *convPlan) tile(g *convGeom, u int) (n, gr, i0, i1 int) {
	n, r := u/(g.groups*p.tiles), u%(g.groups*p.tiles)
	gr, t := r/p.tiles, r%p.tiles
	i0 = t * p.rows
	return n, gr, i0, min(i0+p.rows, g.oh)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func roundUp(a, b int) int { return ceilDiv(a, b) * b }

// planConv cuts a convolution of geometry g into tiles that fit the column
// budget. If that gives fewer than convItemsPerWorker items per goroutine,
// it chooses among finer cuts, by pixels (tiles of fewer rows, down to
// convMinCols pixels) and by output channels (blocks of at least
// convMinChannels), the one whose modelled time is least: rounds of items
// (ceil(items/workers)) times the cost of an item, its multiply-adds on
// whole micro-kernel tiles plus packing its weights and reading its
// columns, times 1 + 1/(4·rounds) because fewer rounds leave less room to
// even out goroutines that run at different speeds.
func planConv(g *convGeom) convPlan {
	minRows := max(1, ceilDiv(convMinCols, g.ow))
	rows := g.oh
	if !g.pointwise {
		budget := min(max(convColBudget*g.og, convColMin), convColMax)
		rows = budget / max(1, g.kdim*g.ow)
	}
	rows = min(max(rows, minRows), g.oh)
	p := convPlan{tiles: ceilDiv(g.oh, rows), mb: 1, mstep: g.og}
	p.rows = ceilDiv(g.oh, p.tiles)
	w := workers()
	target := convItemsPerWorker * w
	if g.pointwise {
		target = convItemsPerWorkerPointwise * w
	}
	per := g.n * g.groups
	if w > 1 && per*p.tiles < target {
		best := -1.0
		for t := p.tiles; ; {
			rows := ceilDiv(g.oh, t)
			cols := rows * g.ow
			for mb := 1; ; {
				mstep := roundUp(ceilDiv(g.og, mb), 8)
				mb = ceilDiv(g.og, mstep)
				items := per * t * mb
				rounds := ceilDiv(items, w)
				work := float64(roundUp(mstep, 8)*roundUp(cols, 32)) + convPackCost*float64(mstep+cols)
				cost := float64(rounds) * work * (1 + 0.25/float64(rounds))
				if best < 0 || cost < best {
					best = cost
					p = convPlan{rows: rows, tiles: t, mb: mb, mstep: mstep}
				}
				if items >= target || mstep < 2*convMinChannels {
					break
				}
				mb++
			}
			if per*t >= target || rows < 2*minRows {
				break
			}
			t = ceilDiv(g.oh, rows-1)
		}
	}
	p.units = per * p.tiles
	return p
}

// convForward computes y = conv(x; w) + b (b may be nil) for geometry g,
// overwriting y.
func convForward(g *convGeom, x, w, b, y []float32) { convForwardPacked(g, x, w, nil, b, y) }

// convForwardPacked is convForward, with the GEMMs in bfloat16 on the
// packed weight pw (w rounded, see Graph.SetPrecision) unless pw is nil.
func convForwardPacked(g *convGeom, x, w []float32, pw *kernels.BF16Matrix, b, y []float32) {
	p := planConv(g)
	chw, plane := g.c*g.h*g.w, g.h*g.w
	input := func(n, gr int) []float32 {
		return x[n*chw+gr*g.cg*plane : n*chw+(gr+1)*g.cg*plane]
	}
	// gemmTile multiplies output channels [m0, m1) of the unit's group by
	// the columns src (ldb apart) and adds the bias.
	gemmTile := func(u, m0, m1 int, src []float32, ldb int) {
		n, gr, i0, i1 := p.tile(g, u)
		cols := (i1 - i0) * g.ow
		o0 := gr*g.og + m0
		yt := y[n*g.o*g.pix+o0*g.pix+i0*g.ow:]
		if pw != nil {
			kernels.GemmBF16PackedSerial(pw, o0, m1-m0, false, cols, src, ldb, 0, yt, g.pix)
		} else {
			gemmSerial(false, false, m1-m0, cols, g.kdim, 1, w[o0*g.kdim:], g.kdim, src, ldb, 0, yt, g.pix)
		}
		if b != nil {
			for o := 0; o < m1-m0; o++ {
				addConst(yt[o*g.pix:o*g.pix+cols], b[o0+o])
			}
		}
	}
	mblock := func(k int) (int, int) { return k * p.mstep, min((k+1)*p.mstep, g.og) }
	switch {
	case g.pointwise:
		parallelItems(p.units*p.mb, func(_, it int) {
			u := it / p.mb
			n, gr, i0, _ := p.tile(g, u)
			m0, m1 := mblock(it % p.mb)
			gemmTile(u, m0, m1, input(n, gr)[i0*g.ow:], g.pix)
		})
	case p.mb == 1:
		// Every goroutine builds its tiles' columns in its own buffer.
		cols := newWorkerScratch(g.kdim * p.rows * g.ow)
		parallelItems(p.units, func(wk, u int) {
			n, gr, i0, i1 := p.tile(g, u)
			ld := (i1 - i0) * g.ow
			im2colRows(g, input(n, gr), cols.get(wk), ld, i0, i1, 0, g.cg)
			gemmTile(u, 0, g.og, cols.get(wk), ld)
		})
		cols.release()
	default:
		// Few units, each split by output channels: build all columns
		// first, shared by the items of a unit.
		size := g.kdim * p.rows * g.ow
		buf := getScratch(p.units * size)
		parallelFor(p.units*g.cg, max(1, g.cg/4), func(lo, hi int) {
			for k := lo; k < hi; {
				u, c0 := k/g.cg, k%g.cg
				c1 := min(g.cg, c0+hi-k)
				n, gr, i0, i1 := p.tile(g, u)
				im2colRows(g, input(n, gr), buf[u*size:(u+1)*size], (i1-i0)*g.ow, i0, i1, c0, c1)
				k += c1 - c0
			}
		})
		parallelItems(p.units*p.mb, func(_, it int) {
			u := it / p.mb
			_, _, i0, i1 := p.tile(g, u)
			m0, m1 := mblock(it % p.mb)
			gemmTile(u, m0, m1, buf[u*size:(u+1)*size], (i1-i0)*g.ow)
		})
		putScratch(buf)
	}
}

// addConst adds c to every element of dst, with the vectorized Axpy.
func addConst(dst []float32, c float32) {
	one := ones(len(dst))
	kernels.Axpy(c, one, dst)
}

// onesBuf holds a slice of ones, grown on demand.
var onesBuf atomic.Pointer[[]float32]

// ones returns n ones (read-only).
func ones(n int) []float32 {
	if p := onesBuf.Load(); p != nil && len(*p) >= n {
		return (*p)[:n]
	}
	b := make([]float32, max(n, 4096))
	for i := range b {
		b[i] = 1
	}
	onesBuf.Store(&b)
	return b[:n]
}

// im2colRows writes the column matrix of output rows [i0, i1) and input
// channels [c0, c1) of one group of one image x (cg×h×w): row (c·kh+u)·kw+v,
// column (i−i0)·ow+j (ld floats per row) holds
// x[c, i·sh−pt+u·dh, j·sw−pl+v·dw], or 0 outside the image.
func im2colRows(g *convGeom, x, col []float32, ld, i0, i1, c0, c1 int) {
	hw := g.h * g.w
	ow := g.ow
	for c := c0; c < c1; c++ {
		xc := x[c*hw : (c+1)*hw]
		for u := 0; u < g.kh; u++ {
			for v := 0; v < g.kw; v++ {
				row := col[((c*g.kh+u)*g.kw+v)*ld:][:ld]
				// Output columns [jlo, jhi) read inside the image.
				x0 := v*g.dw - g.pl
				jlo := 0
				if x0 < 0 {
					jlo = ceilDiv(-x0, g.sw)
				}
				jhi := min(ow, ceilDiv(g.w-x0, g.sw))
				jlo = min(jlo, ow)
				jhi = max(jhi, jlo)
				if g.sh == 1 && g.sw == 1 && ow == g.w && jhi > jlo {
					// Consecutive output rows read consecutive input rows
					// with the same stride: one copy for all rows inside
					// the image, then the few padding columns cleared.
					ia := max(i0, g.pt-u*g.dh)     // first row with y ≥ 0
					ib := min(i1, g.h+g.pt-u*g.dh) // rows with y < h
					if ia >= ib {
						clear(row[:(i1-i0)*ow])
						continue
					}
					clear(row[:(ia-i0)*ow])
					clear(row[(ib-i0)*ow : (i1-i0)*ow])
					y := ia - g.pt + u*g.dh
					lo, hi := (ia-i0)*ow+jlo, (ib-1-i0)*ow+jhi
					copy(row[lo:hi], xc[y*g.w+x0+jlo:])
					if jlo > 0 || jhi < ow {
						for base := (ia - i0) * ow; base < (ib-i0)*ow; base += ow {
							for j := base; j < base+jlo; j++ {
								row[j] = 0
							}
							for j := base + jhi; j < base+ow; j++ {
								row[j] = 0
							}
						}
					}
					continue
				}
				for i := i0; i < i1; i++ {
					dst := row[(i-i0)*ow : (i-i0+1)*ow]
					y := i*g.sh - g.pt + u*g.dh
					if y < 0 || y >= g.h {
						clear(dst)
						continue
					}
					xr := xc[y*g.w : (y+1)*g.w]
					clear(dst[:jlo])
					clear(dst[jhi:])
					if g.sw == 1 {
						copy(dst[jlo:jhi], xr[x0+jlo:])
						continue
					}
					for j := jlo; j < jhi; j++ {
						dst[j] = xr[x0+j*g.sw]
					}
				}
			}
		}
	}
}

// convTransposed computes gx = wᵀ·gy, the input gradient of the
// convolution of geometry g, overwriting gx. wf, if not nil, holds w
// flipped by flipWeights.
func convTransposed(g *convGeom, gy, w, wf, gx []float32) {
	switch {
	case g.pointwise:
		convTransposedPointwise(g, gy, w, gx)
	case g.flippable() && (wf != nil || g.n*g.h*g.w >= convFlipMinPixels):
		if wf == nil {
			buf := getScratch(len(w))
			defer putScratch(buf)
			flipWeights(g, w, buf)
			wf = buf
		}
		t := g.flipped()
		convForward(&t, gy, wf, nil, gx)
	default:
		convTransposedCol2im(g, gy, w, gx)
	}
}

// flippable reports whether the transposed convolution is computed as a
// convolution with flipped weights (see flipped).
func (g *convGeom) flippable() bool {
	return g.sh == 1 && g.sw == 1 && g.cg >= convFlipMinChannels && !g.pointwise
}

// flipped returns the geometry of the stride-1 convolution from the output
// gradient to the input gradient: with weights flipped in space and input
// and output channels swapped (flipWeights), and padding (k−1)·d − p.
func (g *convGeom) flipped() convGeom {
	t := convGeom{
		n: g.n, c: g.o, h: g.oh, w: g.ow,
		o: g.c, oh: g.h, ow: g.w,
		kh: g.kh, kw: g.kw,
		groups: g.groups, cg: g.og, og: g.cg,
		sh: 1, sw: 1, dh: g.dh, dw: g.dw,
		pt: (g.kh-1)*g.dh - g.pt, pl: (g.kw-1)*g.dw - g.pl,
	}
	t.finish()
	return t
}

// flipWeights writes to wf the weights of the transposed stride-1
// convolution: wf[g, c, o, kh−1−u, kw−1−v] = w[g, o, c, u, v] per group g,
// a (groups·cg) × og × kh × kw tensor.
func flipWeights(g *convGeom, w, wf []float32) {
	kk := g.kh * g.kw
	parallelFor(g.groups*g.og, 16, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			gr, o := k/g.og, k%g.og
			for c := 0; c < g.cg; c++ {
				src := w[((gr*g.og+o)*g.cg+c)*kk:][:kk]
				dst := wf[((gr*g.cg+c)*g.og+o)*kk:][:kk]
				for t, v := range src {
					dst[kk-1-t] = v
				}
			}
		}
	})
}

// convTransposedPointwise computes gx = wᵀ·gy for a pointwise convolution:
// per image and group a GEMM with the transposed weights, cut into tiles
// of pixels and blocks of input channels.
func convTransposedPointwise(g *convGeom, gy, w, gx []float32) {
	// Plan as the forward convolution from gy to gx.
	t := *g
	t.c, t.o, t.cg, t.og = g.o, g.c, g.og, g.cg
	t.finish()
	p := planConv(&t)
	parallelItems(p.units*p.mb, func(_, it int) {
		n, gr, i0, i1 := p.tile(&t, it/p.mb)
		k := it % p.mb
		m0, m1 := k*p.mstep, min((k+1)*p.mstep, g.cg)
		cols := (i1 - i0) * g.w
		wg := w[gr*g.og*g.cg:]
		src := gy[n*g.o*g.pix+gr*g.og*g.pix+i0*g.w:]
		dst := gx[n*g.c*g.pix+(gr*g.cg+m0)*g.pix+i0*g.w:]
		gemmSerial(true, false, m1-m0, cols, g.og, 1, wg[m0:], g.cg, src, g.pix, 0, dst, g.pix)
	})
}

// convTransposedCol2im computes gx = wᵀ·gy as the column matrix wᵀ·gy of
// each image and group, added back into the image by col2im; the work is
// cut by blocks of input channels, whose columns add into disjoint parts
// of gx.
func convTransposedCol2im(g *convGeom, gy, w, gx []float32) {
	kk := g.kh * g.kw
	per := g.n * g.groups
	blocks := 1
	if wk := workers(); wk > 1 {
		blocks = min(g.cg, ceilDiv(convItemsPerWorker*wk, per))
	}
	step := ceilDiv(g.cg, blocks)
	blocks = ceilDiv(g.cg, step)
	plane := g.h * g.w
	cols := newWorkerScratch(step * kk * g.pix)
	parallelItems(per*blocks, func(wk, it int) {
		n, gr, blk := it/(g.groups*blocks), it/blocks%g.groups, it%blocks
		c0, c1 := blk*step, min((blk+1)*step, g.cg)
		col := cols.get(wk)[:(c1-c0)*kk*g.pix]
		wg := w[gr*g.og*g.kdim:]
		src := gy[n*g.o*g.pix+gr*g.og*g.pix:]
		gemmSerial(true, false, (c1-c0)*kk, g.pix, g.og, 1, wg[c0*kk:], g.kdim, src, g.pix, 0, col, g.pix)
		xg := gx[n*g.c*plane+gr*g.cg*plane:]
		clear(xg[c0*plane : c1*plane])
		col2im(g, col, xg, c0, c1)
	})
	cols.release()
}

// col2im adds the column matrix col of input channels [c0, c1) (rows
// ((c−c0)·kh+u)·kw+v) back into the image gx (cg×h×w), the transpose of
// im2col.
func col2im(g *convGeom, col, gx []float32, c0, c1 int) {
	for c := c0; c < c1; c++ {
		gc := gx[c*g.h*g.w : (c+1)*g.h*g.w]
		for u := 0; u < g.kh; u++ {
			for v := 0; v < g.kw; v++ {
				row := col[(((c-c0)*g.kh+u)*g.kw+v)*g.pix:]
				x0 := v*g.dw - g.pl
				jlo := 0
				if x0 < 0 {
					jlo = ceilDiv(-x0, g.sw)
				}
				jhi := min(g.ow, ceilDiv(g.w-x0, g.sw))
				jlo = min(jlo, g.ow)
				jhi = max(jhi, jlo)
				for i := 0; i < g.oh; i++ {
					y := i*g.sh - g.pt + u*g.dh
					if y < 0 || y >= g.h {
						continue
					}
					src := row[i*g.ow : (i+1)*g.ow]
					gr := gc[y*g.w : (y+1)*g.w]
					if g.sw == 1 {
						dst := gr[x0+jlo : x0+jhi]
						for j, s := range src[jlo:jhi] {
							dst[j] += s
						}
						continue
					}
					for j := jlo; j < jhi; j++ {
						gr[x0+j*g.sw] += src[j]
					}
				}
			}
		}
	}
}
