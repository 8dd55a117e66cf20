package onnxpb

import (
	"fmt"
	"math"
)

// NumElements returns the number of elements that t's dims declare: their
// product, 1 for a scalar. Negative dims and counts above MaxElements are
// errors.
func (t *Tensor) NumElements() (int, error) {
	zero := false
	for i, d := range t.Dims {
		if d < 0 {
			return 0, fmt.Errorf("tensor %q: negative dimension %d at index %d of dims %v", t.Name, d, i, t.Dims)
		}
		if d == 0 {
			zero = true
		}
	}
	if zero {
		return 0, nil
	}
	n := int64(1)
	for _, d := range t.Dims {
		if d > MaxElements/n {
			return 0, fmt.Errorf("tensor %q: dims %v declare more than %d elements", t.Name, t.Dims, int64(MaxElements))
		}
		n *= d
	}
	return int(n), nil
}

// elemSize returns the size in bytes of one element of type d in raw_data,
// or 0 if this package cannot read d.
func elemSize(d DataType) int {
	switch d {
	case Uint8, Int8, Bool:
		return 1
	case Uint16, Int16, Float16, BFloat16:
		return 2
	case Float, Int32, Uint32:
		return 4
	case Int64, Double, Uint64:
		return 8
	}
	return 0
}

// rawChecked returns t.RawData after checking its length against n
// elements of t's type.
func (t *Tensor) rawChecked(n int) ([]byte, error) {
	size := elemSize(t.DataType)
	if size == 0 {
		return nil, fmt.Errorf("tensor %q: unsupported data type %v", t.Name, t.DataType)
	}
	if len(t.RawData) != n*size { // n <= 2^31 and size <= 8: no overflow
		return nil, fmt.Errorf("tensor %q: raw_data has %d bytes, want %d (%d elements of %v, dims %v)",
			t.Name, len(t.RawData), n*size, n, t.DataType, t.Dims)
	}
	return t.RawData, nil
}

// typedCount checks that a typed data field holds n elements.
func (t *Tensor) typedCount(fieldName string, have, n int) error {
	if have != n {
		return fmt.Errorf("tensor %q: %s has %d elements, want %d (%v, dims %v)",
			t.Name, fieldName, have, n, t.DataType, t.Dims)
	}
	return nil
}

// Float32s returns the elements of t converted to float32, in row-major
// order, after checking their number against t's dims. It reads FLOAT,
// DOUBLE, FLOAT16 and BFLOAT16, and the integer types and BOOL (converted;
// INT64 values beyond 2^24 lose precision), from raw_data or from the typed
// field that ONNX assigns to the type.
func (t *Tensor) Float32s() ([]float32, error) {
	n, err := t.NumElements()
	if err != nil {
		return nil, err
	}
	if t.HasRawData {
		raw, err := t.rawChecked(n)
		if err != nil {
			return nil, err
		}
		out := make([]float32, n)
		switch t.DataType {
		case Float:
			for i := range out {
				out[i] = math.Float32frombits(le32(raw[4*i:]))
			}
		case Double:
			for i := range out {
				out[i] = float32(math.Float64frombits(le64(raw[8*i:])))
			}
		case Float16:
			for i := range out {
				out[i] = Float16ToFloat32(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8)
			}
		case BFloat16:
			for i := range out {
				out[i] = math.Float32frombits(uint32(raw[2*i])<<16 | uint32(raw[2*i+1])<<24)
			}
		case Uint8, Bool:
			for i := range out {
				out[i] = float32(raw[i])
			}
		case Int8:
			for i := range out {
				out[i] = float32(int8(raw[i]))
			}
		case Uint16:
			for i := range out {
				out[i] = float32(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8)
			}
		case Int16:
			for i := range out {
				out[i] = float32(int16(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8))
			}
		case Int32:
			for i := range out {
				out[i] = float32(int32(le32(raw[4*i:])))
			}
		case Uint32:
			for i := range out {
				out[i] = float32(le32(raw[4*i:]))
			}
		case Int64:
			for i := range out {
				out[i] = float32(int64(le64(raw[8*i:])))
			}
		case Uint64:
			for i := range out {
				out[i] = float32(le64(raw[8*i:]))
			}
		}
		return out, nil
	}
	switch t.DataType {
	case Float:
		if err := t.typedCount("float_data", len(t.FloatData), n); err != nil {
			return nil, err
		}
		out := make([]float32, n)
		copy(out, t.FloatData)
		return out, nil
	case Double:
		if err := t.typedCount("double_data", len(t.DoubleData), n); err != nil {
			return nil, err
		}
		out := make([]float32, n)
		for i, v := range t.DoubleData {
			out[i] = float32(v)
		}
		return out, nil
	case Int64:
		if err := t.typedCount("int64_data", len(t.Int64Data), n); err != nil {
			return nil, err
		}
		out := make([]float32, n)
		for i, v := range t.Int64Data {
			out[i] = float32(v)
		}
		return out, nil
	case Uint32, Uint64:
		if err := t.typedCount("uint64_data", len(t.Uint64Data), n); err != nil {
			return nil, err
		}
		out := make([]float32, n)
		for i, v := range t.Uint64Data {
			out[i] = float32(v)
		}
		return out, nil
	case Int32, Int16, Int8, Uint16, Uint8, Bool, Float16, BFloat16:
		if err := t.typedCount("int32_data", len(t.Int32Data), n); err != nil {
			return nil, err
		}
		out := make([]float32, n)
		for i, v := range t.Int32Data {
			switch t.DataType {
			case Float16: // the bit pattern in the low 16 bits
				out[i] = Float16ToFloat32(uint16(v))
			case BFloat16:
				out[i] = math.Float32frombits(uint32(uint16(v)) << 16)
			default:
				out[i] = float32(v)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("tensor %q: unsupported data type %v", t.Name, t.DataType)
}

// Int64s returns the elements of an integer tensor (INT64, INT32, INT16,
// INT8, UINT16, UINT8 or UINT32) as int64, in row-major order, after
// checking their number against t's dims. Shape tensors and indices are
// INT64 in ONNX.
func (t *Tensor) Int64s() ([]int64, error) {
	n, err := t.NumElements()
	if err != nil {
		return nil, err
	}
	switch t.DataType {
	case Int64, Int32, Int16, Int8, Uint16, Uint8, Uint32:
	default:
		return nil, fmt.Errorf("tensor %q: data type %v is not an integer type", t.Name, t.DataType)
	}
	if t.HasRawData {
		raw, err := t.rawChecked(n)
		if err != nil {
			return nil, err
		}
		out := make([]int64, n)
		for i := range out {
			switch t.DataType {
			case Int64:
				out[i] = int64(le64(raw[8*i:]))
			case Int32:
				out[i] = int64(int32(le32(raw[4*i:])))
			case Uint32:
				out[i] = int64(le32(raw[4*i:]))
			case Int16:
				out[i] = int64(int16(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8))
			case Uint16:
				out[i] = int64(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8)
			case Int8:
				out[i] = int64(int8(raw[i]))
			case Uint8:
				out[i] = int64(raw[i])
			}
		}
		return out, nil
	}
	switch t.DataType {
	case Int64:
		if err := t.typedCount("int64_data", len(t.Int64Data), n); err != nil {
			return nil, err
		}
		out := make([]int64, n)
		copy(out, t.Int64Data)
		return out, nil
	case Uint32:
		if err := t.typedCount("uint64_data", len(t.Uint64Data), n); err != nil {
			return nil, err
		}
		out := make([]int64, n)
		for i, v := range t.Uint64Data {
			out[i] = int64(v)
		}
		return out, nil
	}
	if err := t.typedCount("int32_data", len(t.Int32Data), n); err != nil {
		return nil, err
	}
	out := make([]int64, n)
	for i, v := range t.Int32Data {
		out[i] = int64(v)
	}
	return out, nil
}

// Float16ToFloat32 converts an IEEE 754 half-precision bit pattern to
// float32, exactly (every half value is representable as a float32).
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0: // signed zero
		return math.Float32frombits(sign)
	}
	// subnormal: mant * 2^-24
	f := float32(mant) * (1.0 / (1 << 24))
	if sign != 0 {
		f = -f
	}
	return f
}
