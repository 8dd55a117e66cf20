package kernels

import (
	"sync"
	"sync/atomic"
)

// The worker pool is shared by all Sgemm and bfloat16 GEMM calls. A call
// posts at most Threads()-1 helper requests and works on its own task too,
// so a call always makes progress even when every worker is busy with
// other calls, and concurrent callers never start more than the pool's
// workers.
var pool struct {
	mu      sync.Mutex
	workers int
	queue   chan task
}

// A task is work that several goroutines share by claiming items; run
// returns when no item is left to claim, release drops a helper's
// reference.
type task interface {
	run()
	release()
}

// maxQueue bounds the pending helper requests; when it is full, callers
// simply do more of their own work.
const maxQueue = 256

// postHelpers asks up to count pool workers to join task j; refs counts
// the references the helpers hold.
func postHelpers(j task, refs *atomic.Int32, count int) {
	pool.mu.Lock()
	if pool.queue == nil {
		pool.queue = make(chan task, maxQueue)
	}
	for pool.workers < count {
		pool.workers++
		go worker(pool.queue)
	}
	q := pool.queue
	pool.mu.Unlock()
	for range count {
		refs.Add(1)
		select {
		case q <- j:
		default:
			refs.Add(-1)
			return
		}
	}
}

func worker(q chan task) {
	for j := range q {
		j.run()
		j.release()
	}
}

// rangeTask runs f(0) … f(n−1), each once, on whoever claims them.
type rangeTask struct {
	f          func(int)
	n          int64
	next, done atomic.Int64
	refs       atomic.Int32
	doneCh     chan struct{}
}

func (r *rangeTask) run() {
	for {
		i := r.next.Add(1) - 1
		if i >= r.n {
			return
		}
		r.f(int(i))
		if r.done.Add(1) == r.n {
			r.doneCh <- struct{}{}
		}
	}
}

func (r *rangeTask) release() { r.refs.Add(-1) }

// parallelRange runs f(0) … f(n−1) on the caller and up to n−1 pool
// workers, and returns when all have returned.
func parallelRange(n int, f func(t int)) {
	if n <= 0 {
		return
	}
	r := &rangeTask{f: f, n: int64(n), doneCh: make(chan struct{}, 1)}
	if n > 1 {
		postHelpers(r, &r.refs, n-1)
	}
	r.run()
	<-r.doneCh
}
