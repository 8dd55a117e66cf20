package kernels

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestParallelRange checks that concurrent parallelRange calls on the
// shared pool run every item of each exactly once and return only after
// all of them, including items that call the pool again (a bfloat16 block
// running Sgemm).
func TestParallelRange(t *testing.T) {
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Go(func() {
			n := 1 + c*3
			counts := make([]atomic.Int32, n)
			parallelRange(n, func(i int) {
				if i%2 == 0 {
					parallelRange(2, func(int) {})
				}
				counts[i].Add(1)
			})
			for i := range counts {
				if got := counts[i].Load(); got != 1 {
					t.Errorf("call %d: item %d ran %d times", c, i, got)
				}
			}
		})
	}
	wg.Wait()
}
