package weights

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/xai-go/lrp/tensor"
)

// dtype is an element type of a stored tensor, always little-endian.
type dtype int

const (
	f32 dtype = iota + 1
	f64
	f16
	bf16
	i64
	i32
	i16
	i8
	u8
	u16
	u32
	u64
	boolean
)

func (d dtype) size() int64 {
	switch d {
	case f64, i64, u64:
		return 8
	case f32, i32, u32:
		return 4
	case f16, bf16, i16, u16:
		return 2
	}
	return 1
}

func (d dtype) String() string {
	switch d {
	case f32:
		return "float32"
	case f64:
		return "float64"
	case f16:
		return "float16"
	case bf16:
		return "bfloat16"
	case i64:
		return "int64"
	case i32:
		return "int32"
	case i16:
		return "int16"
	case i8:
		return "int8"
	case u8:
		return "uint8"
	case u16:
		return "uint16"
	case u32:
		return "uint32"
	case u64:
		return "uint64"
	case boolean:
		return "bool"
	}
	return fmt.Sprintf("dtype(%d)", int(d))
}

// decode converts element i of b to float32 (round to nearest even where
// the value is not exact, as PyTorch's and NumPy's casts do).
func (d dtype) decode(b []byte, i int64) float32 {
	switch d {
	case f32:
		return math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	case f64:
		return float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
	case f16:
		return halfToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
	case bf16:
		return math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
	case i64:
		return float32(int64(binary.LittleEndian.Uint64(b[8*i:])))
	case i32:
		return float32(int32(binary.LittleEndian.Uint32(b[4*i:])))
	case i16:
		return float32(int16(binary.LittleEndian.Uint16(b[2*i:])))
	case i8:
		return float32(int8(b[i]))
	case u8:
		return float32(b[i])
	case u16:
		return float32(binary.LittleEndian.Uint16(b[2*i:]))
	case u32:
		return float32(binary.LittleEndian.Uint32(b[4*i:]))
	case u64:
		return float32(binary.LittleEndian.Uint64(b[8*i:]))
	case boolean:
		if b[i] != 0 {
			return 1
		}
		return 0
	}
	return 0
}

// decodeRange converts the n contiguous elements starting at element off.
func (d dtype) decodeRange(dst []float32, b []byte, off int64) {
	switch d {
	case f32:
		src := b[4*off:]
		for j := range dst {
			dst[j] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*j:]))
		}
	default:
		for j := range dst {
			dst[j] = d.decode(b, off+int64(j))
		}
	}
}

// halfToFloat32 converts an IEEE 754 binary16 value exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf, NaN (payload kept)
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	case mant == 0: // ±0
		return math.Float32frombits(sign)
	}
	// Subnormal: mant × 2^-24, exact in float32.
	f := float32(mant) * (1.0 / (1 << 24))
	if sign != 0 {
		f = -f
	}
	return f
}

// budget bounds the work and memory that a file can make Read spend
// beyond its own size: tensors that view a storage repeatedly (stride 0,
// tied weights) can claim far more elements than the file holds bytes, and
// zip entries can overlap so that the same bytes are read many times.
type budget struct {
	elems int64 // float32 elements still allowed in the output
	bytes int64 // stored bytes still allowed to be read from zip entries
}

// newBudget allows an input of size bytes four output elements per byte
// plus 4 Mi elements (16 MiB of float32), and reading its bytes once (plus
// 1 MiB).
func newBudget(size int64) *budget {
	if size > math.MaxInt64/8 {
		size = math.MaxInt64 / 8
	}
	return &budget{elems: 4*size + 1<<22, bytes: size + 1<<20}
}

func (b *budget) take(n int64) error {
	if n > b.elems {
		return fmt.Errorf("%d elements exceed what this file may claim (%d left)", n, b.elems)
	}
	b.elems -= n
	return nil
}

func (b *budget) takeBytes(n int64) error {
	if n > b.bytes {
		return fmt.Errorf("%d more bytes than the file holds (zip entries overlap?)", n-b.bytes)
	}
	b.bytes -= n
	return nil
}

var errOverflow = errors.New("size overflows")

// maxElems caps the number of elements of one tensor or storage (2^40, 4 TiB
// of float32, on 64-bit machines) so that products and offsets below stay
// far from overflow and byte sizes fit in an int.
const maxElems = min(int64(1)<<40, math.MaxInt/8)

// numel returns the product of shape, checking for negative or huge
// dimensions and overflow.
func numel(shape []int64) (int64, error) {
	zero := false
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d > maxElems {
			return 0, fmt.Errorf("shape %v: %w", shape, errOverflow)
		}
		zero = zero || d == 0
	}
	if zero {
		return 0, nil
	}
	n := int64(1)
	for _, d := range shape {
		if n > maxElems/d {
			return 0, fmt.Errorf("shape %v: %w", shape, errOverflow)
		}
		n *= d
	}
	return n, nil
}

// toIntShape converts a checked shape to []int.
func toIntShape(shape []int64) ([]int, error) {
	out := make([]int, len(shape))
	for i, d := range shape {
		if int64(int(d)) != d {
			return nil, fmt.Errorf("shape %v: %w", shape, errOverflow)
		}
		out[i] = int(d)
	}
	return out, nil
}

// strided gathers a tensor of the given shape and strides (in elements),
// starting at element offset of a storage of dtype dt held in b, into a new
// row-major float32 tensor. The caller has checked that every index is in
// range.
func strided(b []byte, dt dtype, offset int64, shape, stride []int64, n int64) (*tensor.T, error) {
	ishape, err := toIntShape(shape)
	if err != nil {
		return nil, err
	}
	data := make([]float32, n)
	if n == 0 {
		return tensor.FromData(data, ishape...), nil
	}
	if isContiguous(shape, stride) {
		dt.decodeRange(data, b, offset)
		return tensor.FromData(data, ishape...), nil
	}
	nd := len(shape)
	last, lastStride := shape[nd-1], stride[nd-1]
	idx := make([]int64, nd)
	pos := offset
	for out := int64(0); out < n; out += last {
		p := pos
		for j := int64(0); j < last; j++ {
			data[out+j] = dt.decode(b, p)
			p += lastStride
		}
		// Advance the odometer over all but the last dimension.
		for k := nd - 2; k >= 0; k-- {
			idx[k]++
			pos += stride[k]
			if idx[k] < shape[k] {
				break
			}
			pos -= stride[k] * shape[k]
			idx[k] = 0
		}
	}
	return tensor.FromData(data, ishape...), nil
}

// isContiguous reports whether strides are row-major contiguous for shape
// (dimensions of size 1 may have any stride).
func isContiguous(shape, stride []int64) bool {
	want := int64(1)
	for k := len(shape) - 1; k >= 0; k-- {
		if shape[k] != 1 && stride[k] != want {
			return false
		}
		want *= shape[k]
	}
	return true
}

// checkView checks that a view of n > 0 elements with the given offset,
// shape and strides stays inside a storage of storageN elements.
func checkView(offset int64, shape, stride []int64, storageN int64) error {
	if offset < 0 {
		return fmt.Errorf("negative storage offset %d", offset)
	}
	maxIdx := offset
	for k, d := range shape {
		s := stride[k]
		if s < 0 {
			return fmt.Errorf("negative stride %v", stride)
		}
		if d <= 1 {
			continue
		}
		if s > 0 && d-1 > (math.MaxInt64-maxIdx)/s {
			return fmt.Errorf("strides %v: %w", stride, errOverflow)
		}
		maxIdx += (d - 1) * s
	}
	if maxIdx >= storageN {
		return fmt.Errorf("view (offset %d, size %v, stride %v) reaches element %d of a storage of %d",
			offset, shape, stride, maxIdx, storageN)
	}
	return nil
}
