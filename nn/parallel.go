package nn

import (
	"runtime"
	"sync"
)

// workers returns how many goroutines the layers use for work split over
// independent items.
func workers() int { return runtime.GOMAXPROCS(0) }

// parallelFor calls fn(lo, hi) on disjoint ranges covering [0, n), on up to
// workers() goroutines. Ranges hold at least grain items.
func parallelFor(n, grain int, fn func(lo, hi int)) {
	if grain < 1 {
		grain = 1
	}
	w := workers()
	if w > (n+grain-1)/grain {
		w = (n + grain - 1) / grain
	}
	if w <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	chunk := (n + w - 1) / w
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}
