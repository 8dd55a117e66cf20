package inpaint

import "math"

// queue is the narrow band's priority queue. OpenCV keeps the band in a
// sorted doubly linked list: a new element is inserted after every element
// whose arrival time T is ≤ its own, and Pop takes the first element. That
// order is exactly the lexicographic order of (T, insertion number), which
// this binary min-heap reproduces in O(log n) per operation: equal times
// leave first in, first out.
//
// Every time pushed is ≥ 0 (the band starts at 0 and the eikonal update
// adds at least 1), so the float32 bit pattern orders like the value and
// (T, insertion number) packs into one uint64 key.
type queue struct {
	keys []uint64
	idx  []int32 // cell index in the padded grid, parallel to keys
	seq  uint32
}

func (q *queue) reset() {
	q.keys = q.keys[:0]
	q.idx = q.idx[:0]
	q.seq = 0
}

func (q *queue) push(cell int, t float32) {
	if t == 0 {
		t = 0 // -0 orders like 0
	}
	key := uint64(math.Float32bits(t))<<32 | uint64(q.seq)
	q.seq++
	q.keys = append(q.keys, key)
	q.idx = append(q.idx, int32(cell))
	keys, idx := q.keys, q.idx
	i := len(keys) - 1
	for i > 0 {
		p := (i - 1) / 2
		if keys[p] <= key {
			break
		}
		keys[i], idx[i] = keys[p], idx[p]
		i = p
	}
	keys[i], idx[i] = key, int32(cell)
}

// pop removes the first element and returns its cell; ok is false when the
// queue is empty.
func (q *queue) pop() (cell int, ok bool) {
	keys, idx := q.keys, q.idx
	n := len(keys)
	if n == 0 {
		return 0, false
	}
	top := idx[0]
	n--
	lastK, lastI := keys[n], idx[n]
	keys, idx = keys[:n], idx[:n]
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && keys[c+1] < keys[c] {
			c++
		}
		if keys[c] >= lastK {
			break
		}
		keys[i], idx[i] = keys[c], idx[c]
		i = c
	}
	if n > 0 {
		keys[i], idx[i] = lastK, lastI
	}
	q.keys, q.idx = keys, idx
	return int(top), true
}
