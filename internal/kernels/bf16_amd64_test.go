//go:build !purego

package kernels

import (
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// TestAMXPermissionRefused pretends the CPU has AMX and the OS refuses the
// tile state: the GEMM must fall back (AVX-512 BF16 if present, else
// float32) with a note naming the refusal, compute correctly, and never
// run a tile instruction.
func TestAMXPermissionRefused(t *testing.T) {
	oa, ov, op := useAMX, useAVX512BF16, amxPermission
	defer func() {
		useAMX, useAVX512BF16, amxPermission = oa, ov, op
		amxOnce, amxErr = sync.Once{}, nil
	}()
	for _, avx := range []bool{false, ov} {
		amxOnce, amxErr = sync.Once{}, nil
		calls := 0
		amxPermission = func() error { calls++; return errors.New("operation not permitted") }
		useAMX, useAVX512BF16 = true, avx
		want := "float32"
		if avx {
			want = "avx512bf16"
		}
		if got := BF16Kernel(); got != want {
			t.Errorf("avx512bf16=%v: kernel %q, want %q", avx, got, want)
		}
		note := BF16Note()
		if !strings.Contains(note, "AMX") || !strings.Contains(note, "operation not permitted") || strings.Contains(note, "\n") {
			t.Errorf("note %q", note)
		}
		p := newBF16Problem(rand.New(rand.NewPCG(1, 1)), false, 40, 50, 70, 0, 1, 0.5)
		p.check(t, "refused", p.run(false))
		if calls != 1 {
			t.Errorf("permission asked %d times, want once", calls)
		}
	}
}
