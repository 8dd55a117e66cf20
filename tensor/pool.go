package tensor

import (
	"sync"
	"unsafe"
)

// Large tensors are recycled: a program that runs a network many times
// allocates the same activation sizes over and over, and on virtual
// machines handing memory back to the kernel and touching fresh pages costs
// more than the arithmetic of a layer (measured: filling 54 MB of fresh
// memory takes 5 to 8 times as long as filling reused memory). Recycle
// hands a dead tensor's memory to a free list from which New serves later
// requests of the same size. A request that the free list cannot serve
// evicts about as many elements of smaller buffers: a program's sizes move
// (an explanation's relevance pass goes from the last, small layers to the
// first, large ones), and buffers of sizes left behind would otherwise
// stay live beside the fresh ones (measured with VGG16 at batch 8: the
// explanation's peak fell from 2.21 to 2.01 GB).

const (
	// minPooled is the fewest elements a recycled buffer must have:
	// smaller ones are cheap for the Go allocator.
	minPooled = 1 << 16
	// maxPooled bounds the elements kept in the free list (512 MB): the
	// free list counts as live memory. Measured with VGG16 at batch 8:
	// 256 MB made forward passes 25% slower (the recycled activations no
	// longer fit), 1 GiB raised the explanations' peak from 2.3 to 2.6 GB.
	maxPooled = 1 << 27
)

var pooled struct {
	mu    sync.Mutex
	free  [][]float32 // oldest first
	total int         // elements held
}

// Recycle gives t's memory back for reuse by a later New of the same size
// and empties t. The caller must hold the only reference to that memory:
// neither t nor any tensor sharing its Data (a Reshape of it, a slice of
// its Data) may be used afterwards. Small tensors are left to the garbage
// collector; when the free list is full, its oldest buffers make room (a
// pass through a network frees last the sizes that the next pass asks for
// first). Recycle(nil) does nothing.
func Recycle(t *T) {
	if t == nil {
		return
	}
	d := t.Data[:cap(t.Data)]
	t.Data, t.Shape = nil, nil
	n := len(d)
	if n < minPooled || n > maxPooled {
		return
	}
	pooled.mu.Lock()
	defer pooled.mu.Unlock()
	drop := 0
	for pooled.total+n > maxPooled {
		pooled.total -= len(pooled.free[drop])
		pooled.free[drop] = nil
		drop++
	}
	pooled.free = append(pooled.free[drop:], d)
	pooled.total += n
}

// alloc returns n zeros, from the free list when it holds a buffer of
// that length.
func alloc(n int) []float32 {
	if d := take(n); d != nil {
		clear(d)
		return d
	}
	return make([]float32, n)
}

// emptyData returns n floats of unspecified value, recycled if possible.
func emptyData(n int) []float32 {
	if d := take(n); d != nil {
		return d
	}
	return make([]float32, n)
}

// take removes the newest buffer of length n from the free list, or
// returns nil after evicting up to n elements of smaller buffers (see
// below).
func take(n int) []float32 {
	if n < minPooled {
		return nil
	}
	pooled.mu.Lock()
	defer pooled.mu.Unlock()
	for i := len(pooled.free) - 1; i >= 0; i-- {
		if d := pooled.free[i]; len(d) == n {
			pooled.free = append(pooled.free[:i], pooled.free[i+1:]...)
			pooled.total -= n
			return d
		}
	}
	// A miss: the caller allocates n elements afresh. Give up to n elements
	// of smaller buffers, oldest first, to the garbage collector in
	// exchange, so that the free list does not hold on to sizes that the
	// program has moved away from while it grows.
	dropped := 0
	kept := pooled.free[:0]
	for _, d := range pooled.free {
		if dropped < n && len(d) < n {
			dropped += len(d)
			pooled.total -= len(d)
			continue
		}
		kept = append(kept, d)
	}
	clear(pooled.free[len(kept):])
	pooled.free = kept
	return nil
}

// SharesMemory reports whether the data of a and b overlap (up to their
// capacities), as a tensor and its Reshape do.
func SharesMemory(a, b *T) bool {
	if a == nil || b == nil || cap(a.Data) == 0 || cap(b.Data) == 0 {
		return false
	}
	const size = unsafe.Sizeof(float32(0))
	a0 := uintptr(unsafe.Pointer(unsafe.SliceData(a.Data)))
	b0 := uintptr(unsafe.Pointer(unsafe.SliceData(b.Data)))
	return a0 < b0+uintptr(cap(b.Data))*size && b0 < a0+uintptr(cap(a.Data))*size
}
