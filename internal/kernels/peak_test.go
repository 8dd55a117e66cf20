//go:build tune && amd64 && !purego

package kernels

import (
	"sync"
	"testing"
	"time"
)

func TestPeakPar(t *testing.T) {
	for _, th := range []int{1, 2} {
		t0 := time.Now()
		var wg sync.WaitGroup
		for range th {
			wg.Go(func() { peakFMA(1 << 24) })
		}
		wg.Wait()
		el := time.Since(t0)
		t.Logf("threads=%d: %v, %.1f GFLOP/s", th, el, 768*float64(1<<24)*float64(th)/el.Seconds()/1e9)
	}
}
