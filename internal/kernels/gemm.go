package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// kernelInfo describes a micro-kernel and the cache blocking tuned for it.
type kernelInfo struct {
	id      int // kernGeneric, kernAVX2 or kernAVX512
	name    string
	mr, nr  int  // register tile: mr rows of A (broadcast) × nr columns of B (vectors)
	mc      int  // rows of A per packed block Ã (mc×kc, lives in L2); multiple of mr
	kc      int  // depth of a packed block; a kc×nr sliver of B̃ lives in L1
	nc      int  // columns of B per packed block B̃ (kc×nc, lives in L3); multiple of nr
	half    bool // callKernelHalf computes the first nr/2 columns of a tile
	strided bool // callKernelStrided reads a full sliver of B in place
}

const (
	kernGeneric = iota
	kernAVX2
	kernAVX512
	kernAVX512x8
)

// minBlocks is the number of compute items per goroutine and phase below
// which Ã blocks are made smaller.
const minBlocks = 2

// directMaxM is the largest m for which B is used in place rather than
// packed (when it is not transposed and the kernel can).
const directMaxM = 512

// directB forces B to be used in place (1) or packed (-1) when it can be;
// 0 leaves the choice to m. Tests set it.
var directB = 0

// tailSplit is how many times finer the last phase's items are cut.
const tailSplit = 4

// parallelThreshold is the m*n*k below which Sgemm runs on the calling
// goroutine only (about 20µs of work on one core): below it, waking a
// helper costs more than it saves.
const parallelThreshold = 128 * 128 * 128

var threadLimit atomic.Int32

// Threads reports how many goroutines a single Sgemm call may use: the limit
// set by SetThreads, or runtime.GOMAXPROCS(0) when none is set.
func Threads() int {
	if t := int(threadLimit.Load()); t > 0 {
		return t
	}
	return runtime.GOMAXPROCS(0)
}

// SetThreads limits the number of goroutines a single Sgemm call may use to n.
// n <= 0 restores the default, runtime.GOMAXPROCS(0).
func SetThreads(n int) {
	if n < 0 {
		n = 0
	}
	threadLimit.Store(int32(n))
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices, where
// op(A) is m×k (A is m×k with leading dimension lda, or k×m if transA), op(B)
// is k×n (B is k×n with leading dimension ldb, or n×k if transB), and C is m×n
// with leading dimension ldc. beta == 0 means C is overwritten (NaNs in C are
// ignored). Only the m×n elements of C addressed through ldc are written.
//
// It runs on up to Threads() goroutines of a worker pool shared by all
// concurrent callers; problems with m*n*k below a small threshold run on the
// calling goroutine only. It panics if a dimension is negative, a leading
// dimension is too small or a slice is too short.
//
// The reference loop is
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			var s float32
//			for p := 0; p < k; p++ {
//				s += opA(i, p) * opB(p, j)
//			}
//			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j] // c not read if beta == 0
//		}
//	}
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	threads := Threads()
	if int64(m)*int64(n)*int64(k) < parallelThreshold {
		threads = 1
	}
	sgemm(threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmSerial is Sgemm computed on the calling goroutine only, for callers
// that already parallelise over a batch. It has the same reference loop.
func SgemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(1, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func sgemm(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	ki := selectKernel(m)
	j := getJob()
	j.setup(ki, threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	if h := j.helpers(threads); h > 0 {
		postHelpers(j, &j.refs, h)
	}
	j.run()
	<-j.doneCh
	j.release()
}

func checkArgs(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic("kernels: negative dimension")
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkMatrix("a", ar, ac, a, lda)
	checkMatrix("b", br, bc, b, ldb)
	checkMatrix("c", m, n, c, ldc)
}

func checkMatrix(name string, rows, cols int, s []float32, ld int) {
	if ld < max(1, cols) {
		panic("kernels: bad leading dimension of " + name)
	}
	if rows > 0 && cols > 0 && len(s) < (rows-1)*ld+cols {
		panic("kernels: slice " + name + " too short")
	}
}

// scaleC sets C = beta*C (C = 0 when beta == 0).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// A gemmJob is one Sgemm call, cut into a sequence of work items that any
// number of goroutines claim in order from an atomic counter. The items are
// grouped in phases, one per (jc, pc) block of the loop nest; a phase has
// npack items that pack a share of B̃ into one of two buffers (so packing the
// next phase overlaps computing the current one), followed by ncomp items
// that each pack one Ã block and multiply it by a range of B̃'s column
// panels. A goroutine only ever waits for items that were claimed before the
// one it holds, by goroutines that are running, so the scheme cannot deadlock
// however few pool workers join.
type gemmJob struct {
	ki                   kernelInfo // a copy: tests modify the originals
	transA, transB       bool
	m, n, k              int
	alpha, beta          float32
	a, b, c              []float32
	lda, ldb, ldc        int
	mc, kc, nc           int
	nic, njr             int // Ã blocks per phase, panel ranges per Ã block
	npc                  int // phases per column block
	npack, ncomp, nitems int
	direct               bool // B is read in place, not packed into B̃
	perPhase             int
	regular              int // items before the last phase
	tail                 int // the last phase has tail times more compute items

	next     atomic.Int64    // next item to claim
	done     atomic.Int64    // items finished
	packDone [2]atomic.Int64 // pack items finished per B̃ buffer
	compDone [2]atomic.Int64 // compute items finished per B̃ buffer
	itemDone []atomic.Int64  // per compute item: 1 + the last phase that finished it
	bpack    [2][]float32    // B̃ of even and odd phases (may be the same buffer)
	bufs     [2][]float32    // memory behind bpack
	refs     atomic.Int32
	doneCh   chan struct{}
}

var jobs = freeList[gemmJob]{
	max: 4,
	new: func() *gemmJob { return &gemmJob{doneCh: make(chan struct{}, 1)} },
}

func getJob() *gemmJob { return jobs.get() }

func (j *gemmJob) release() {
	if j.refs.Add(-1) == 0 {
		j.a, j.b, j.c = nil, nil, nil
		j.bpack = [2][]float32{}
		jobs.put(j)
	}
}

// A freeList recycles packing buffers. The last few objects put back are
// kept on a stack that the garbage collector does not empty (allocating and
// zeroing megabytes of B̃ after each collection would cost more than many
// small GEMMs), and reused most recent first so that the buffers that grew
// for the current problem size are the ones reused; the rest go to a
// sync.Pool.
type freeList[T any] struct {
	mu    sync.Mutex
	stack []*T
	max   int
	pool  sync.Pool
	new   func() *T
}

func (f *freeList[T]) get() *T {
	f.mu.Lock()
	if n := len(f.stack); n > 0 {
		x := f.stack[n-1]
		f.stack[n-1] = nil
		f.stack = f.stack[:n-1]
		f.mu.Unlock()
		return x
	}
	f.mu.Unlock()
	if x, ok := f.pool.Get().(*T); ok {
		return x
	}
	return f.new()
}

func (f *freeList[T]) put(x *T) {
	f.mu.Lock()
	if len(f.stack) < f.max {
		if f.stack == nil {
			f.stack = make([]*T, 0, f.max)
		}
		f.stack = append(f.stack, x)
		f.mu.Unlock()
		return
	}
	f.mu.Unlock()
	f.pool.Put(x)
}

func (j *gemmJob) setup(ki *kernelInfo, threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	j.ki = *ki
	j.transA, j.transB = transA, transB
	j.m, j.n, j.k = m, n, k
	j.alpha, j.beta = alpha, beta
	j.a, j.b, j.c = a, b, c
	j.lda, j.ldb, j.ldc = lda, ldb, ldc

	mr, nr := ki.mr, ki.nr
	// Split k into equal blocks of at most ki.kc rather than leaving a
	// thin last block.
	j.kc = roundUp(ceilDiv(k, ceilDiv(k, ki.kc)), 8)
	j.nc = min(ki.nc, roundUp(n, nr))
	j.mc = min(ki.mc, roundUp(m, mr))
	j.nic = ceilDiv(m, j.mc)
	j.njr = 1
	if threads > 1 {
		// Make sure every goroutine gets work: with few Ã blocks, split
		// the column panels of each phase into several ranges.
		if j.nic < minBlocks*threads {
			// Prefer smaller Ã blocks over splitting the panels, which
			// makes goroutines pack the same Ã.
			j.mc = max(mr, roundUp(ceilDiv(m, minBlocks*threads), mr))
			if j.mc < 4*mr && m >= 4*mr {
				j.mc = 4 * mr
			}
			j.nic = ceilDiv(m, j.mc)
		}
		if j.nic < minBlocks*threads {
			j.njr = min(ceilDiv(minBlocks*threads, j.nic), ceilDiv(j.nc, nr))
		}
	}
	j.npc = ceilDiv(k, j.kc)
	phases := ceilDiv(n, j.nc) * j.npc
	// For small m, B̃ is not worth packing: each sliver of B would be
	// used by few micro-tiles, and copying it costs about as much memory
	// traffic as using it. The micro-kernel then reads B in place.
	j.direct = !transB && ki.strided && (directB > 0 || directB == 0 && m <= directMaxM)
	j.npack = 1
	if j.direct {
		j.npack = 0
	} else if threads > 1 {
		j.npack = min(threads, ceilDiv(j.nc, nr))
	}
	j.ncomp = j.nic * j.njr
	j.perPhase = j.npack + j.ncomp
	// The last phase is cut finer, so that goroutines finish together.
	j.tail = 1
	if threads > 1 {
		_, ncur, _, _ := j.phaseBlock(phases - 1)
		j.tail = max(1, min(tailSplit, ceilDiv(ncur, nr)/j.njr))
	}
	j.regular = (phases - 1) * j.perPhase
	j.nitems = j.regular + j.npack + j.ncomp*j.tail

	j.next.Store(0)
	j.done.Store(0)
	for s := range 2 {
		j.packDone[s].Store(0)
		j.compDone[s].Store(0)
	}
	if cap(j.itemDone) < j.ncomp {
		j.itemDone = make([]atomic.Int64, j.ncomp)
	}
	j.itemDone = j.itemDone[:j.ncomp]
	for i := range j.itemDone {
		j.itemDone[i].Store(0)
	}
	// Two B̃ buffers let one goroutine pack the next phase while others
	// still compute with the current one; a lone goroutine needs one.
	size := j.kc * j.nc
	if j.direct {
		size = 0
	}
	for s := range 2 {
		if s == 1 && (threads == 1 || phases == 1) {
			j.bpack[1] = j.bpack[0]
			break
		}
		if cap(j.bufs[s]) < size {
			j.bufs[s] = make([]float32, size)
		}
		j.bpack[s] = j.bufs[s][:size]
	}
	j.refs.Store(1)
}

// helpers returns how many pool workers are worth waking for this job.
func (j *gemmJob) helpers(threads int) int {
	if threads <= 1 {
		return 0
	}
	return min(threads-1, j.nitems-j.npack-1)
}

// workspace is one goroutine's private packing memory.
type workspace struct {
	apack []float32 // Ã, mc×kc
	tmp   []float32 // an mr×nr tile for the edges of C
	bedge []float32 // the last, partial sliver of B when B is used in place
	key   int       // phase*nic+ic of the block held in apack, or -1
}

var workspaces = freeList[workspace]{
	max: 16,
	new: func() *workspace { return new(workspace) },
}

// run claims and executes items until none is left.
func (j *gemmJob) run() {
	ws := workspaces.get()
	ki := &j.ki
	if size := j.mc * j.kc; cap(ws.apack) < size {
		ws.apack = make([]float32, roundUp(size, 4096))
	}
	if size := ki.mr * ki.nr; cap(ws.tmp) < size {
		ws.tmp = make([]float32, size)
	}
	if size := j.kc * ki.nr; j.direct && cap(ws.bedge) < size {
		ws.bedge = make([]float32, size)
	}
	ws.key = -1
	for {
		it := int(j.next.Add(1) - 1)
		if it >= j.nitems {
			break
		}
		phase, r, split := it/j.perPhase, it%j.perPhase, 1
		if it >= j.regular {
			phase, r, split = j.regular/j.perPhase, it-j.regular, j.tail
		}
		slot := phase & 1
		use := int64(phase / 2) // earlier phases that used this B̃ buffer
		if r < j.npack {
			// B̃ may be overwritten once the phase two back is computed.
			spinUntil(&j.compDone[slot], use*int64(j.ncomp))
			j.packB(phase, r)
			j.packDone[slot].Add(1)
		} else {
			// Item q covers part split of the panel range q of the
			// regular phases, which nests in it.
			q, part := (r-j.npack)/split, (r-j.npack)%split
			spinUntil(&j.packDone[slot], (use+1)*int64(j.npack))
			// Item q of the previous phase must be done: it wrote the
			// previous k block's contribution to the same block of C
			// (and waiting for it also in the first k block keeps
			// itemDone[q] in phase order).
			spinUntil(&j.itemDone[q], int64(phase))
			j.compute(ws, phase, q, part, split)
			if split == 1 {
				j.itemDone[q].Store(int64(phase + 1))
			}
			j.compDone[slot].Add(1)
		}
		if j.done.Add(1) == int64(j.nitems) {
			j.doneCh <- struct{}{}
		}
	}
	workspaces.put(ws)
}

func spinUntil(v *atomic.Int64, target int64) {
	for i := 0; v.Load() < target; i++ {
		if i > 64 {
			runtime.Gosched()
		}
	}
}

// phaseBlock returns the column and depth ranges of a phase.
func (j *gemmJob) phaseBlock(phase int) (jc, ncur, pc, kcur int) {
	jc = (phase / j.npc) * j.nc
	pc = (phase % j.npc) * j.kc
	return jc, min(j.nc, j.n-jc), pc, min(j.kc, j.k-pc)
}

// packB packs share r of B̃ for a phase.
func (j *gemmJob) packB(phase, r int) {
	jc, ncur, pc, kcur := j.phaseBlock(phase)
	nr := j.ki.nr
	panels := ceilDiv(ncur, nr)
	p0, p1 := r*panels/j.npack, (r+1)*panels/j.npack
	dst := j.bpack[phase&1]
	if !j.transB {
		// Full panels row by row: the source is read sequentially,
		// which matters when rows are far apart.
		full := min(p1, ncur/nr)
		if full > p0 && packRowsFast(dst[p0*nr*kcur:], j.b[pc*j.ldb+jc+p0*nr:], j.ldb, nr, kcur, full-p0) {
			p0 = full
		}
	}
	for jr := p0; jr < p1; jr++ {
		cols := min(nr, ncur-jr*nr)
		d := dst[jr*nr*kcur : (jr+1)*nr*kcur]
		if j.transB {
			packBT(d, j.b, j.ldb, pc, kcur, jc+jr*nr, cols, nr)
		} else {
			packBN(d, j.b, j.ldb, pc, kcur, jc+jr*nr, cols, nr)
		}
	}
}

// compute multiplies Ã block ic by a range of B̃'s panels: part of split
// parts of compute item q of a phase.
func (j *gemmJob) compute(ws *workspace, phase, q, part, split int) {
	ki := &j.ki
	mr, nr := ki.mr, ki.nr
	ic, jq := q/j.njr, q%j.njr*split+part
	jc, ncur, pc, kcur := j.phaseBlock(phase)
	panels := ceilDiv(ncur, nr)
	jr0, jr1 := jq*panels/(j.njr*split), (jq+1)*panels/(j.njr*split)
	i0 := ic * j.mc
	mcur := min(j.mc, j.m-i0)
	if jr0 >= jr1 || mcur <= 0 {
		return
	}
	if key := phase*j.nic + ic; ws.key != key {
		ws.key = key
		if j.transA {
			packAT(ws.apack, j.a, j.lda, i0, mcur, pc, kcur, mr, j.alpha)
		} else {
			packAN(ws.apack, j.a, j.lda, i0, mcur, pc, kcur, mr, j.alpha)
		}
	}
	beta := j.beta
	if pc > 0 {
		beta = 1
	}
	c, ldc := j.c, j.ldc
	bp := j.bpack[phase&1]
	ap := ws.apack
	tmp := ws.tmp[:mr*nr]
	for jr := jr0; jr < jr1; jr++ {
		cols := min(nr, ncur-jr*nr)
		col := jc + jr*nr
		var bpanel []float32
		inPlace := false // bpanel is B itself, rows ldb apart
		switch {
		case !j.direct:
			bpanel = bp[jr*nr*kcur : (jr+1)*nr*kcur]
		case cols == nr:
			bpanel, inPlace = j.b[pc*j.ldb+col:], true
		default:
			// The last, partial sliver is packed with zero padding.
			bpanel = ws.bedge[:nr*kcur]
			packBN(bpanel, j.b, j.ldb, pc, kcur, col, cols, nr)
		}
		for ir := 0; ir*mr < mcur; ir++ {
			rows := min(mr, mcur-ir*mr)
			apanel := ap[ir*mr*kcur : (ir+1)*mr*kcur]
			row := i0 + ir*mr
			if rows == mr && cols == nr {
				if inPlace {
					callKernelStrided(ki, kcur, apanel, bpanel, j.ldb, c[row*ldc+col:], ldc, beta)
				} else {
					callKernel(ki, kcur, apanel, bpanel, c[row*ldc+col:], ldc, beta)
				}
				continue
			}
			switch {
			case inPlace:
				callKernelStrided(ki, kcur, apanel, bpanel, j.ldb, tmp, nr, 0)
			case ki.half && cols <= nr/2:
				callKernelHalf(ki, kcur, apanel, bpanel, tmp, nr, 0)
			default:
				callKernel(ki, kcur, apanel, bpanel, tmp, nr, 0)
			}
			for i := 0; i < rows; i++ {
				dst := c[(row+i)*ldc+col:][:cols]
				src := tmp[i*nr:][:cols]
				switch beta {
				case 0:
					copy(dst, src)
				case 1:
					for x, v := range src {
						dst[x] += v
					}
				default:
					for x, v := range src {
						dst[x] = v + beta*dst[x]
					}
				}
			}
		}
	}
}

// packAN packs rows i0..i0+mcur, columns p0..p0+kcur of A (not transposed)
// into micro-panels of mr rows: dst[ir*mr*kcur + p*mr + i] = alpha*A[i0+ir*mr+i, p0+p].
// Rows past mcur are zero.
func packAN(dst, a []float32, lda, i0, mcur, p0, kcur, mr int, alpha float32) {
	for ir := 0; ir*mr < mcur; ir++ {
		rows := min(mr, mcur-ir*mr)
		packT(dst[ir*mr*kcur:(ir+1)*mr*kcur], a[(i0+ir*mr)*lda+p0:], lda, mr, rows, kcur, alpha)
	}
}

// packAT is packAN for a transposed A (k×m, op(A)[i,p] = A[p,i]).
func packAT(dst, a []float32, lda, i0, mcur, p0, kcur, mr int, alpha float32) {
	for ir := 0; ir*mr < mcur; ir++ {
		rows := min(mr, mcur-ir*mr)
		packN(dst[ir*mr*kcur:(ir+1)*mr*kcur], a[p0*lda+i0+ir*mr:], lda, mr, rows, kcur, alpha)
	}
}

// packBN packs rows p0..p0+kcur, columns j0..j0+cols of B (not transposed)
// into one micro-panel: dst[p*nr + j] = B[p0+p, j0+j], zero for j >= cols.
func packBN(dst, b []float32, ldb, p0, kcur, j0, cols, nr int) {
	packN(dst, b[p0*ldb+j0:], ldb, nr, cols, kcur, 1)
}

// packBT is packBN for a transposed B (n×k, op(B)[p,j] = B[j,p]).
func packBT(dst, b []float32, ldb, p0, kcur, j0, cols, nr int) {
	packT(dst, b[j0*ldb+p0:], ldb, nr, cols, kcur, 1)
}

// packT packs k columns of rows rows of src (leading dimension ld)
// transposed into a panel of width w: dst[p*w+i] = alpha*src[i*ld+p] for
// i < rows, zero for rows <= i < w.
func packT(dst, src []float32, ld, w, rows, k int, alpha float32) {
	dst = dst[:w*k]
	done := 0
	if rows == w {
		done = packTFast(dst, src, ld, w, k, alpha)
	}
	if done == k {
		return
	}
	for i := 0; i < rows; i++ {
		s := src[i*ld+done : i*ld+k]
		d := dst[done*w+i:]
		for p, v := range s {
			d[p*w] = alpha * v
		}
	}
	for p := done; p < k; p++ {
		clear(dst[p*w+rows : p*w+w])
	}
}

// packN packs k rows of cols columns of src (leading dimension ld) into a
// panel of width w: dst[p*w+j] = alpha*src[p*ld+j] for j < cols, zero for
// cols <= j < w.
func packN(dst, src []float32, ld, w, cols, k int, alpha float32) {
	dst = dst[:w*k]
	if cols == w && packNFast(dst, src, ld, w, k, alpha) {
		return
	}
	for p := 0; p < k; p++ {
		d := dst[p*w : p*w+w]
		s := src[p*ld : p*ld+cols]
		if alpha == 1 {
			copy(d, s)
		} else {
			for j, v := range s {
				d[j] = alpha * v
			}
		}
		clear(d[cols:])
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func roundUp(a, b int) int { return ceilDiv(a, b) * b }
