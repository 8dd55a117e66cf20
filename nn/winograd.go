package nn

import (
	"sync"

	"github.com/xai-go/lrp/internal/kernels"
)

// 3×3 convolutions with stride 1 by Winograd's minimal filtering algorithm
// F(4×4, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", CVPR 2016): every 4×4 output tile of every channel is
//
//	Y = Aᵀ [ Σ_c (G g_oc Gᵀ) ⊙ (Bᵀ d_c B) ] A
//
// for the 6×6 input tiles d_c; the sum over the input channels c is, for
// each of the 36 positions ξ of a transformed tile, one GEMM
// M_ξ = U_ξ · V_ξ of the transformed weights U_ξ (O × C) and the
// transformed input tiles V_ξ (C × tiles). That is 36 multiply-adds per
// tile, channel pair where the direct convolution needs 16·9 = 144: a
// quarter of the arithmetic, for the transforms' memory traffic and about
// ten times the direct convolution's rounding error (see
// TestWinogradConv). Graph.SetPrecision(Winograd) selects it.
//
// The input is cut into chunks of tile rows (whole images when they are
// small), each computed in three parallel phases: the input transform per
// input channel, the 36 GEMMs, the output transform per block of output
// channels. Inside a chunk a tile row holds X = ⌈OW/4⌉+1 tiles, the last
// of which is computed and dropped: it lets the transforms run over whole
// rows of the chunk as single vectors.
//
// Layouts, for a chunk of I images and R tile rows (T = I·R·X tiles):
//
//	D[p][q][i][r'][x] = x_c[4(r0+r')+q−pt][4x+p−pl]    (r' ≤ R; zero outside the image)
//	E[k][q][i][r'][x] = Σ_j Bᵀ[k][j] D[j%4][q][i][r'][x + j/4]
//	V[6a+k][c][i][r][x] = Σ_j Bᵀ[a][j] E[k][j%4][i][r + j/4][x]
//	M[ξ][o][t] = Σ_c U[ξ][o][c] V[ξ][c][t]
//	S[b][a][o][t] = Σ_j Aᵀ[b][j] M[6a+j][o][t]
//	Y[a][b][o][t] = Σ_i Aᵀ[a][i] S[b][i][o][t]
//
// D and E are per input channel, S and Y per block of output channels.

// Tuning knobs (variables so that tests can exercise every path).
var (
	// winoMinChannels is the fewest input and output channels for which
	// SetPrecision(Winograd) uses the algorithm: with fewer, the GEMMs are
	// too thin to pay for the transforms.
	winoMinChannels = 16
	// winoMinTiles is the fewest tiles (with the dropped ones) of a whole
	// batch for which the algorithm is used: the 36 GEMMs have that many
	// columns, and with fewer they run below the direct convolution's
	// GEMM (BenchmarkConv: ResNet50's 7×7 layers at batch 1, 6 tiles,
	// 2.2× slower than direct, at batch 8, 48 tiles, 1.6× faster; VGG16's
	// 14×14 layers at batch 1, 20 tiles, as fast; its 28×28 ones, 56
	// tiles, 2.1× faster).
	winoMinTiles = 16
	// winoChunkFloats bounds V and M of a chunk together, in floats.
	winoChunkFloats = 1 << 23
	// winoBlockFloats bounds S and Y of a block of output channels.
	winoBlockFloats = 1 << 20
)

// winoWeights is a layer's weight transformed for F(4×4, 3×3), made on
// first use: U[ξ][o][c] = (G w_oc Gᵀ)[ξ/6][ξ%6], computed in float64. It
// takes 4 times the memory of the 3×3 weight (36 values for 9).
type winoWeights struct {
	once sync.Once
	u    []float32
}

func (ww *winoWeights) transformed(w []float32, o, c int) []float32 {
	ww.once.Do(func() {
		u := make([]float32, 36*o*c)
		parallelFor(o, 1, func(lo, hi int) {
			var t [6][3]float64
			for oc := lo * c; oc < hi*c; oc++ {
				g := w[oc*9 : oc*9+9]
				for i := range 6 {
					for b := range 3 {
						var s float64
						for a := range 3 {
							s += kernels.WinogradG[i][a] * float64(g[3*a+b])
						}
						t[i][b] = s
					}
				}
				for i := range 6 {
					for j := range 6 {
						var s float64
						for b := range 3 {
							s += t[i][b] * kernels.WinogradG[j][b]
						}
						u[(6*i+j)*o*c+oc] = float32(s)
					}
				}
			}
		})
		ww.u = u
	})
	return ww.u
}

// winoApplies reports whether convolutions of geometry g run by Winograd
// when the layer's precision asks for it.
func winoApplies(g *convGeom) bool {
	return g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 &&
		g.groups == 1 && g.c >= winoMinChannels && g.o >= winoMinChannels &&
		g.n*ceilDiv(g.oh, 4)*(ceilDiv(g.ow, 4)+1) >= winoMinTiles
}

// convForwardWinograd computes the convolution of geometry g (for which
// winoApplies) of x with the transformed weight u and bias b (or nil) into
// y.
func convForwardWinograd(g *convGeom, x, u, b, y []float32) {
	if g.n == 0 {
		return
	}
	ty, tw := ceilDiv(g.oh, 4), ceilDiv(g.ow, 4)
	nx := tw + 1
	perRow := 36 * (g.c + g.o) * nx // floats of V and M per tile row
	// A chunk is imgs images of all ty tile rows, or one image's band of
	// rows tile rows.
	imgs, rows := 1, ty
	if per := perRow * ty; per <= winoChunkFloats {
		imgs = max(1, min(g.n, winoChunkFloats/per))
		imgs = ceilDiv(g.n, ceilDiv(g.n, imgs)) // even chunks
	} else {
		rows = max(1, winoChunkFloats/perRow)
		rows = ceilDiv(ty, ceilDiv(ty, rows))
	}
	buf := getScratch(perRow * imgs * rows)
	defer putScratch(buf)
	for n0 := 0; n0 < g.n; n0 += imgs {
		for r0 := 0; r0 < ty; r0 += rows {
			c := winoChunk{g: g, n0: n0, imgs: min(imgs, g.n-n0), r0: r0, rows: min(rows, ty-r0), nx: nx}
			c.t = c.imgs * c.rows * nx
			v := buf[:36*g.c*c.t]
			m := buf[36*g.c*c.t : 36*(g.c+g.o)*c.t]
			c.input(x, v)
			parallelItems(36, func(_, xi int) {
				gemmSerial(false, false, g.o, c.t, g.c, 1, u[xi*g.o*g.c:], g.c, v[xi*g.c*c.t:], c.t, 0, m[xi*g.o*c.t:], c.t)
			})
			c.output(m, b, y)
		}
	}
}

// winoChunk is a chunk of imgs images from n0 and rows tile rows from r0,
// of t tiles, nx per tile row.
type winoChunk struct {
	g                  *convGeom
	n0, imgs, r0, rows int
	nx, t              int
}

// input computes V of the chunk from x, in parallel over input channels.
func (c *winoChunk) input(x, v []float32) {
	g := c.g
	plane := c.imgs * (c.rows + 1) * c.nx // one (p, q) or (k, q) plane of D or E
	scratch := newWorkerScratch(40*plane + 1 + 4*c.nx)
	parallelItems(g.c, func(wk, ch int) {
		buf := scratch.get(wk)
		d, e, row := buf[:16*plane+1], buf[16*plane+1:40*plane+1], buf[40*plane+1:]
		// D: the input's rows 4(r0+r')+q−pt and columns 4x+p−pl, each row
		// first copied with its padding into row, then split by phase.
		for i := range c.imgs {
			src := x[((c.n0+i)*g.c+ch)*g.h*g.w:][:g.h*g.w]
			for r := 0; r <= c.rows; r++ {
				for q := range 4 {
					yy := 4*(c.r0+r) + q - g.pt
					base := q*plane + (i*(c.rows+1)+r)*c.nx
					if yy < 0 || yy >= g.h {
						for p := range 4 {
							clear(d[4*p*plane+base:][:c.nx])
						}
						continue
					}
					pl := min(g.pl, len(row))
					clear(row[:pl])
					n := copy(row[pl:], src[yy*g.w:(yy+1)*g.w])
					clear(row[pl+n:])
					kernels.WinogradSplit4(d[base:], 4*plane, row, c.nx)
				}
			}
		}
		d[16*plane] = 0 // read (for dropped tiles) past the last plane
		// E: Bᵀ along the columns, one call per row phase q over the whole
		// chunk (the last tile of each row reads the next row's first
		// column: it is dropped).
		var off [6]int
		for q := range 4 {
			for j := range 6 {
				off[j] = (4*(j%4)+q)*plane + j/4
			}
			kernels.WinogradInput(e[q*plane:], 4*plane, d, &off, plane)
		}
		// V: Bᵀ along the rows, per column phase k and image.
		rowsX := c.rows * c.nx
		for k := range 6 {
			for i := range c.imgs {
				for j := range 6 {
					off[j] = (4*k+j%4)*plane + i*(c.rows+1)*c.nx + (j/4)*c.nx
				}
				kernels.WinogradInput(v[(k*g.c+ch)*c.t+i*rowsX:], 6*g.c*c.t, e, &off, rowsX)
			}
		}
	})
	scratch.release()
}

// output computes the chunk's output tiles from M, adds the bias and
// writes them into y, in parallel over blocks of output channels.
func (c *winoChunk) output(m, b, y []float32) {
	g := c.g
	kb := max(1, min(ceilDiv(g.o, 4*workers()), winoBlockFloats/(40*c.t)))
	blocks := ceilDiv(g.o, kb)
	// Of a tile row's nx tiles, the last is dropped; full tiles fit the
	// output row whole, the columns after them come from a partial one.
	full := min(c.nx-1, g.ow/4)
	scratch := newWorkerScratch(40 * kb * c.t)
	parallelItems(blocks, func(wk, blk int) {
		k0, k1 := blk*kb, min(g.o, (blk+1)*kb)
		n := (k1 - k0) * c.t
		buf := scratch.get(wk)
		s, yt := buf[:24*n], buf[24*n:40*n]
		var off [6]int
		for a := range 6 {
			for j := range 6 {
				off[j] = (6*a+j)*g.o*c.t + k0*c.t
			}
			kernels.WinogradOutput(s[a*n:], 6*n, m, &off, n)
		}
		for bb := range 4 {
			for i := range 6 {
				off[i] = (6*bb + i) * n
			}
			kernels.WinogradOutput(yt[bb*n:], 4*n, s, &off, n)
		}
		for k := k0; k < k1; k++ {
			var bias float32
			if b != nil {
				bias = b[k]
			}
			for i := range c.imgs {
				out := y[((c.n0+i)*g.o+k)*g.pix:][:g.pix]
				for r := range c.rows {
					t0 := (k-k0)*c.t + (i*c.rows+r)*c.nx
					for a := range 4 {
						yy := 4*(c.r0+r) + a
						if yy >= g.oh {
							break
						}
						row := out[yy*g.ow : (yy+1)*g.ow]
						ya := yt[4*a*n+t0:]
						kernels.WinogradJoin4(row, ya, n, full, bias)
						for col := 4 * full; col < g.ow; col++ {
							row[col] = ya[(col%4)*n+col/4] + bias
						}
					}
				}
			}
		}
	})
	scratch.release()
}
