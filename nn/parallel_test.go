package nn

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestParallelItems runs every item exactly once, with worker numbers below
// workers(), from several goroutines at once and with GOMAXPROCS changing
// between calls (so the pool has more workers than a job may use).
func TestParallelItems(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{4, 2, 3, 1, 2} {
		runtime.GOMAXPROCS(procs)
		var wg sync.WaitGroup
		for c := 0; c < 3; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, n := range []int{1, 2, 5, 37, 200} {
					counts := make([]atomic.Int32, n)
					var bad atomic.Int32
					parallelItems(n, func(worker, item int) {
						if worker < 0 || worker >= procs {
							bad.Add(1)
						}
						counts[item].Add(1)
						if item%7 == 0 {
							time.Sleep(50 * time.Microsecond)
						}
					})
					if bad.Load() != 0 {
						t.Errorf("procs %d, n %d: worker number out of range", procs, n)
					}
					for i := range counts {
						if c := counts[i].Load(); c != 1 {
							t.Errorf("procs %d, n %d: item %d ran %d times", procs, n, i, c)
						}
					}
				}
			}()
		}
		wg.Wait()
		// Sleeping workers are woken again.
		time.Sleep(2 * spinTime)
		var sum atomic.Int64
		parallelFor(1000, 10, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				sum.Add(int64(i))
			}
		})
		if sum.Load() != 999*1000/2 {
			t.Errorf("procs %d: parallelFor sum %d", procs, sum.Load())
		}
	}
}

func TestScratch(t *testing.T) {
	a := getScratch(100)
	if len(a) != 100 {
		t.Fatalf("len %d", len(a))
	}
	putScratch(a)
	b := getScratch(50)
	if len(b) != 50 {
		t.Fatalf("len %d", len(b))
	}
	putScratch(b)
	// Too many and too large buffers are dropped.
	for i := 0; i < 2*maxScratch; i++ {
		putScratch(make([]float32, 10))
	}
	putScratch(make([]float32, maxScratchFloats+1))
	scratchBufs.mu.Lock()
	n, total := len(scratchBufs.free), scratchBufs.total
	scratchBufs.mu.Unlock()
	if n > maxScratch || total > maxScratchFloats {
		t.Errorf("%d buffers, %d floats kept", n, total)
	}
}
