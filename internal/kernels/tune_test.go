//go:build tune && linux && amd64 && !purego

// Tuning helpers for a shared machine: they measure the calling thread's CPU
// time rather than wall time, so that other processes time-sharing the
// cores do not distort single-core results.
//
//	go test -tags tune -run Tune -v ./internal/kernels/
package kernels

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuGFLOPS runs f (flops each) for about d of thread CPU time and returns
// the best rate of five slices.
func cpuGFLOPS(flops float64, d time.Duration, f func()) float64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	f()
	best := 0.0
	for range 5 {
		n := 0
		t0 := threadCPU()
		for threadCPU()-t0 < d/5 {
			f()
			n++
		}
		best = max(best, flops*float64(n)/(threadCPU()-t0).Seconds()/1e9)
	}
	return best
}

// TestTuneKernel measures the AVX-512 micro-kernels with all operands in L1
// against the register-only FMA peak.
func TestTuneKernel(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512")
	}
	t.Logf("peak: %.1f GFLOP/s", cpuGFLOPS(768*1<<16, 500*time.Millisecond, func() { peakFMA(1 << 16) }))
	for _, ki := range []*kernelInfo{&avx512Kernel, &avx512Kernel8} {
		for _, k := range []int{32, 256} {
			a := make([]float32, ki.mr*k)
			b := make([]float32, ki.nr*k)
			c := make([]float32, ki.mr*ki.nr)
			g := cpuGFLOPS(2*float64(ki.mr*ki.nr*k)*100, 500*time.Millisecond, func() {
				for range 100 {
					callKernel(ki, k, a, b, c, ki.nr, 1)
				}
			})
			t.Logf("%s %d×%d k=%d: %.1f GFLOP/s", ki.name, ki.mr, ki.nr, k, g)
		}
	}
}

// TestTuneSerial measures SgemmSerial on the benchmark shapes.
func TestTuneSerial(t *testing.T) {
	for _, s := range benchShapes {
		a, b, c := benchMatrices(s.m, s.n, s.k)
		g := cpuGFLOPS(2*float64(s.m*s.n*s.k), time.Second, func() {
			SgemmSerial(false, false, s.m, s.n, s.k, 1, a, s.k, b, s.n, 0, c, s.n)
		})
		t.Logf("%-18s %.1f GFLOP/s", s.name, g)
	}
}
