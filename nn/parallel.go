package nn

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// workers returns how many goroutines the layers use for work split over
// independent items.
func workers() int { return runtime.GOMAXPROCS(0) }

// parallelFor calls fn(lo, hi) on disjoint ranges covering [0, n), on up to
// workers() goroutines (the caller being one of them). Ranges hold at least
// grain items.
func parallelFor(n, grain int, fn func(lo, hi int)) {
	if grain < 1 {
		grain = 1
	}
	w := min(workers(), (n+grain-1)/grain)
	if w <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	chunk := (n + w - 1) / w
	parallelItems((n+chunk-1)/chunk, func(_, k int) {
		fn(k*chunk, min((k+1)*chunk, n))
	})
}

// ParallelFor calls fn(lo, hi) on disjoint ranges of at least grain items
// covering [0, n), on the layers' worker goroutines (the caller being one
// of them), and returns when all have returned. Element-wise work outside
// package nn (the relevance rules) uses it to share the layers' pool.
func ParallelFor(n, grain int, fn func(lo, hi int)) { parallelFor(n, grain, fn) }

// parallelItems calls fn(worker, item) once for every item in [0, n), on up
// to workers() goroutines (the caller being worker 0) that claim items in
// order from a shared counter: a goroutine the operating system runs less
// than the others simply claims fewer items, and nobody waits for another
// goroutine except at the end. worker is in [0, workers()), one per
// goroutine, for per-goroutine scratch memory.
//
// The other goroutines come from a pool whose idle workers spin for a
// while (spinTime) before they sleep: waking a sleeping goroutine takes
// the operating system long enough (100 µs and more on a virtual machine)
// to serialize the short parallel sections of a forward pass, which come
// one after the other.
func parallelItems(n int, fn func(worker, item int)) {
	w := min(workers(), n)
	if w <= 1 {
		for i := 0; i < n; i++ {
			fn(0, i)
		}
		return
	}
	j := &poolJob{fn: fn, n: int64(n), workers: int32(w)}
	pool.post(j, w-1)
	j.run(0)
	// Wait for items other goroutines still run, and for them to leave.
	for i := 0; j.done.Load() < j.n || j.active.Load() > 0; i++ {
		if i&63 == 63 {
			runtime.Gosched()
		}
	}
}

// spinTime is how long an idle pool worker looks for new work before it
// sleeps.
const spinTime = 200 * time.Microsecond

// A poolJob is one parallelItems call.
type poolJob struct {
	fn      func(worker, item int)
	n       int64
	workers int32        // goroutines that may take part, the caller included
	next    atomic.Int64 // next item to claim
	done    atomic.Int64 // items finished
	active  atomic.Int32 // pool workers inside run
}

// run claims and runs items as the given worker until none is left.
func (j *poolJob) run(worker int) {
	for {
		i := j.next.Add(1) - 1
		if i >= j.n {
			return
		}
		j.fn(worker, int(i))
		j.done.Add(1)
	}
}

// workerPool holds the helper goroutines of parallelItems. Worker k (from
// 1) joins the most recently posted job if the job lets k goroutines take
// part.
type workerPool struct {
	mu       sync.Mutex
	started  atomic.Int32            // workers started, numbered 1 to started
	job      atomic.Pointer[poolJob] // most recent job
	seq      atomic.Uint64           // jobs posted
	sleeping atomic.Int32            // workers blocked on wake
	wake     chan struct{}
}

var pool = workerPool{wake: make(chan struct{}, 64)}

// post publishes j, starting workers 1 to helpers if they are not running,
// and wakes sleeping ones.
func (p *workerPool) post(j *poolJob, helpers int) {
	if int(p.started.Load()) < helpers {
		p.mu.Lock()
		for int(p.started.Load()) < helpers {
			go p.worker(int(p.started.Add(1)))
		}
		p.mu.Unlock()
	}
	p.job.Store(j)
	p.seq.Add(1)
	for k := min(int(p.sleeping.Load()), helpers); k > 0; k-- {
		select {
		case p.wake <- struct{}{}:
		default:
			return
		}
	}
}

func (p *workerPool) worker(id int) {
	var seen uint64
	for {
		// Look for a new job, spinning for spinTime, then sleeping.
		start := time.Now()
		for i := 0; p.seq.Load() == seen; i++ {
			if i&255 != 255 {
				continue
			}
			if time.Since(start) < spinTime {
				runtime.Gosched()
				continue
			}
			p.sleeping.Add(1)
			if p.seq.Load() == seen {
				<-p.wake
			}
			p.sleeping.Add(-1)
			start = time.Now()
		}
		seen = p.seq.Load()
		j := p.job.Load()
		if j == nil || int32(id) >= j.workers {
			continue
		}
		j.active.Add(1)
		j.run(id)
		j.active.Add(-1)
	}
}

// scratchBufs recycles float32 buffers between calls, so that layers
// neither allocate nor have the runtime zero their temporary memory each
// time. It keeps a few buffers out of the garbage collector's reach.
var scratchBufs struct {
	mu    sync.Mutex
	free  [][]float32
	total int // floats held in free
}

// maxScratch and maxScratchFloats bound the idle buffers kept.
const (
	maxScratch       = 16
	maxScratchFloats = 1 << 24
)

// getScratch returns a buffer of n floats with arbitrary contents; give it
// back with putScratch.
func getScratch(n int) []float32 {
	s := &scratchBufs
	s.mu.Lock()
	best := -1
	for i, b := range s.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(s.free[best])) {
			best = i
		}
	}
	if best >= 0 {
		b := s.free[best]
		s.total -= cap(b)
		last := len(s.free) - 1
		s.free[best] = s.free[last]
		s.free[last] = nil
		s.free = s.free[:last]
		s.mu.Unlock()
		return b[:n]
	}
	s.mu.Unlock()
	return make([]float32, n)
}

// workerScratch holds one scratch buffer of size floats per goroutine of a
// parallelItems call, taken on the goroutine's first item.
type workerScratch struct {
	size int
	bufs [][]float32
}

func newWorkerScratch(size int) *workerScratch {
	return &workerScratch{size: size, bufs: make([][]float32, workers())}
}

// get returns worker wk's buffer (arbitrary contents).
func (w *workerScratch) get(wk int) []float32 {
	if w.bufs[wk] == nil {
		w.bufs[wk] = getScratch(w.size)
	}
	return w.bufs[wk]
}

// release gives every buffer back (putScratch).
func (w *workerScratch) release() {
	for _, b := range w.bufs {
		putScratch(b)
	}
}

// putScratch gives a buffer from getScratch back for reuse.
func putScratch(b []float32) {
	if cap(b) == 0 || cap(b) > maxScratchFloats {
		return
	}
	s := &scratchBufs
	s.mu.Lock()
	s.free = append(s.free, b[:0])
	s.total += cap(b)
	for len(s.free) > maxScratch || s.total > maxScratchFloats {
		// Drop the smallest buffer.
		small := 0
		for i, f := range s.free {
			if cap(f) < cap(s.free[small]) {
				small = i
			}
		}
		s.total -= cap(s.free[small])
		last := len(s.free) - 1
		s.free[small] = s.free[last]
		s.free[last] = nil
		s.free = s.free[:last]
	}
	s.mu.Unlock()
}
