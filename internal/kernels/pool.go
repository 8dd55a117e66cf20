package kernels

import "sync"

// The worker pool is shared by all Sgemm calls. A call posts at most
// Threads()-1 helper requests and works on its own job too, so a call
// always makes progress even when every worker is busy with other calls,
// and concurrent callers never start more than the pool's workers.
var pool struct {
	mu      sync.Mutex
	workers int
	queue   chan *gemmJob
}

// maxQueue bounds the pending helper requests; when it is full, callers
// simply do more of their own work.
const maxQueue = 256

// postHelpers asks up to count pool workers to join job j.
func postHelpers(j *gemmJob, count int) {
	pool.mu.Lock()
	if pool.queue == nil {
		pool.queue = make(chan *gemmJob, maxQueue)
	}
	for pool.workers < count {
		pool.workers++
		go worker(pool.queue)
	}
	q := pool.queue
	pool.mu.Unlock()
	for range count {
		j.refs.Add(1)
		select {
		case q <- j:
		default:
			j.refs.Add(-1)
			return
		}
	}
}

func worker(q chan *gemmJob) {
	for j := range q {
		j.run()
		j.release()
	}
}
