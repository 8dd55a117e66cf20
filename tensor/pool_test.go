package tensor

import "testing"

func TestRecycle(t *testing.T) {
	a := New(2, minPooled)
	for i := range a.Data {
		a.Data[i] = 1
	}
	p := &a.Data[0]
	Recycle(a)
	if a.Data != nil || a.Shape != nil {
		t.Fatal("Recycle left the tensor usable")
	}
	b := New(minPooled, 2)
	if &b.Data[0] != p {
		t.Error("New of the same size did not reuse the recycled buffer")
	}
	for i, v := range b.Data {
		if v != 0 {
			t.Fatalf("reused buffer not cleared at %d: %g", i, v)
		}
	}
	b.Data[3] = 7
	Recycle(b)
	c := b // already recycled: a second Recycle is harmless
	Recycle(c)
	d := New(5).Clone()
	Recycle(d) // small: left to the collector
	e := FromData(make([]float32, 2*minPooled), 2*minPooled).Clone()
	if &e.Data[0] != p || e.Data[3] != 0 {
		t.Error("Clone did not reuse and overwrite the recycled buffer")
	}
	Recycle(nil)
	// The free list is bounded.
	for i := 0; i < 2*maxPooled/minPooled; i++ {
		Recycle(FromData(make([]float32, minPooled), minPooled))
	}
	pooled.mu.Lock()
	total := pooled.total
	pooled.mu.Unlock()
	if total > maxPooled {
		t.Errorf("free list holds %d elements, bound %d", total, maxPooled)
	}
	// When full, the oldest buffers make room for new ones.
	last := make([]float32, 3*minPooled)
	Recycle(FromData(last, len(last)))
	if got := New(len(last)); &got.Data[0] != &last[0] {
		t.Error("a full free list refused the newest buffer")
	}
}

func TestSharesMemory(t *testing.T) {
	a := New(4, 6)
	b := a.Reshape(6, 4)
	tail := FromData(a.Data[20:], 4)
	head := FromData(a.Data[:4:4], 4)
	other := New(24)
	for _, c := range []struct {
		x, y *T
		want bool
	}{{a, b, true}, {a, tail, true}, {tail, a, true}, {head, tail, false}, {a, other, false}, {a, nil, false}, {New(0), a, false}} {
		if got := SharesMemory(c.x, c.y); got != c.want {
			t.Errorf("SharesMemory(%v, %v) = %v", c.x.Shape, c.y, got)
		}
	}
}

// TestRecycleMissEvictsSmaller checks that a request the free list cannot
// serve gives up about as many elements of smaller buffers, oldest first,
// and keeps larger ones.
func TestRecycleMissEvictsSmaller(t *testing.T) {
	pooled.mu.Lock()
	pooled.free, pooled.total = nil, 0
	pooled.mu.Unlock()
	small := make([][]float32, 4)
	for i := range small {
		small[i] = make([]float32, minPooled)
		Recycle(FromData(small[i], minPooled))
	}
	big := make([]float32, 4*minPooled)
	Recycle(FromData(big, len(big)))
	_ = New(2 * minPooled) // a miss: two small buffers make way
	pooled.mu.Lock()
	var held [][]float32
	held = append(held, pooled.free...)
	total := pooled.total
	pooled.mu.Unlock()
	if len(held) != 3 || total != 6*minPooled {
		t.Fatalf("after the miss the free list holds %d buffers, %d elements; want 3, %d", len(held), total, 6*minPooled)
	}
	if &held[0][0] != &small[2][0] || &held[1][0] != &small[3][0] || &held[2][0] != &big[0] {
		t.Error("the miss did not evict the two oldest small buffers and keep the rest")
	}
	if got := New(4 * minPooled); &got.Data[0] != &big[0] {
		t.Error("the larger buffer was not kept for reuse")
	}
}
