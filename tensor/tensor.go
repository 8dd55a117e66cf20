// Package tensor provides a dense float32 tensor with a shape, stored in
// row-major (C) order, and reading and writing of NumPy .npy files.
//
// # Layout
//
// Images are N×C×H×W (NCHW): element (n, c, h, w) of a tensor with shape
// (N, C, H, W) is at Data[((n*C+c)*H+h)*W+w]. Dense activations are N×F.
//
// Tensors are plain values: the Data slice may be shared between tensors
// that view the same memory with different shapes (Reshape). Functions that
// return a new tensor say so; functions named with a dst argument write into
// it and panic if its shape does not fit, which is a programming error.
package tensor

import (
	"fmt"
	"strings"
)

// T is a dense float32 tensor in row-major order.
type T struct {
	// Shape holds the size of each dimension; a scalar has an empty shape.
	Shape []int
	// Data holds the Size() elements in row-major order.
	Data []float32
}

// New returns a zero-filled tensor of the given shape.
// It panics if a dimension is negative.
func New(shape ...int) *T {
	return &T{Shape: append([]int(nil), shape...), Data: alloc(Size(shape))}
}

// Empty returns a tensor of the given shape whose elements are unspecified:
// its memory may be recycled (see Recycle) and is not cleared. It is for
// callers that write every element, and saves clearing memory that is
// about to be overwritten.
// It panics if a dimension is negative.
func Empty(shape ...int) *T {
	return &T{Shape: append([]int(nil), shape...), Data: emptyData(Size(shape))}
}

// FromData returns a tensor of the given shape that uses data as its storage.
// It panics if len(data) differs from the shape's size.
func FromData(data []float32, shape ...int) *T {
	if len(data) != Size(shape) {
		panic(fmt.Sprintf("tensor: %d elements do not fit shape %v", len(data), shape))
	}
	return &T{Shape: append([]int(nil), shape...), Data: data}
}

// Size returns the number of elements of a tensor of the given shape,
// the product of its dimensions (1 for a scalar).
// It panics if a dimension is negative.
func Size(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("tensor: negative dimension in shape %v", shape))
		}
		n *= d
	}
	return n
}

// Len returns the number of elements of t.
func (t *T) Len() int { return len(t.Data) }

// Dims returns the number of dimensions of t.
func (t *T) Dims() int { return len(t.Shape) }

// Clone returns a deep copy of t.
func (t *T) Clone() *T {
	d := emptyData(len(t.Data))
	copy(d, t.Data)
	return &T{Shape: append([]int(nil), t.Shape...), Data: d}
}

// Reshape returns a tensor that shares t's data with a new shape.
// It panics if the sizes differ.
func (t *T) Reshape(shape ...int) *T {
	return FromData(t.Data, shape...)
}

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ShapeString formats a shape as "2x3x224x224" ("scalar" for an empty shape).
func ShapeString(shape []int) string {
	if len(shape) == 0 {
		return "scalar"
	}
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = fmt.Sprint(d)
	}
	return strings.Join(parts, "x")
}

// String returns a short description of t: its shape, not its data.
func (t *T) String() string { return "tensor(" + ShapeString(t.Shape) + ")" }

// Batch returns the n-th item of the leading dimension of t as a tensor
// that shares t's data, with the leading dimension removed.
func (t *T) Batch(n int) *T {
	inner := t.Shape[1:]
	size := Size(inner)
	return &T{Shape: append([]int(nil), inner...), Data: t.Data[n*size : (n+1)*size]}
}
