package onnxpb

import (
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestFloat32s(t *testing.T) {
	raw := func(vs ...any) []byte {
		var b []byte
		for _, v := range vs {
			b, _ = binary.Append(b, binary.LittleEndian, v)
		}
		return b
	}
	tests := []struct {
		name string
		t    Tensor
		want []float32
	}{
		{"float raw", Tensor{DataType: Float, Dims: []int64{2}, RawData: raw(float32(1.5), float32(-2)), HasRawData: true}, []float32{1.5, -2}},
		{"float typed", Tensor{DataType: Float, Dims: []int64{1, 2}, FloatData: []float32{3, 4}}, []float32{3, 4}},
		{"float scalar", Tensor{DataType: Float, FloatData: []float32{7}}, []float32{7}},
		{"float empty raw", Tensor{DataType: Float, Dims: []int64{0, 3}, HasRawData: true}, []float32{}},
		{"float empty typed", Tensor{DataType: Float, Dims: []int64{3, 0}}, []float32{}},
		{"double raw", Tensor{DataType: Double, Dims: []int64{2}, RawData: raw(0.25, -1e300), HasRawData: true}, []float32{0.25, float32(math.Inf(-1))}},
		{"double typed", Tensor{DataType: Double, Dims: []int64{1}, DoubleData: []float64{0.1}}, []float32{0.1}},
		{"float16 raw", Tensor{DataType: Float16, Dims: []int64{4}, RawData: raw(uint16(0x3c00), uint16(0xc000), uint16(0x7bff), uint16(0x0001)), HasRawData: true},
			[]float32{1, -2, 65504, 5.9604645e-08}},
		{"float16 typed bits", Tensor{DataType: Float16, Dims: []int64{2}, Int32Data: []int32{0x3800, 0xbc00}}, []float32{0.5, -1}},
		{"bfloat16 raw", Tensor{DataType: BFloat16, Dims: []int64{1}, RawData: raw(uint16(0x3fc0)), HasRawData: true}, []float32{1.5}},
		{"int64 raw", Tensor{DataType: Int64, Dims: []int64{2}, RawData: raw(int64(-3), int64(1<<40)), HasRawData: true}, []float32{-3, 1 << 40}},
		{"int64 typed", Tensor{DataType: Int64, Dims: []int64{2}, Int64Data: []int64{5, -6}}, []float32{5, -6}},
		{"int32 raw", Tensor{DataType: Int32, Dims: []int64{2}, RawData: raw(int32(-3), int32(9)), HasRawData: true}, []float32{-3, 9}},
		{"int32 typed", Tensor{DataType: Int32, Dims: []int64{1}, Int32Data: []int32{-8}}, []float32{-8}},
		{"int8 raw", Tensor{DataType: Int8, Dims: []int64{3}, RawData: []byte{0x80, 0, 0x7f}, HasRawData: true}, []float32{-128, 0, 127}},
		{"int8 typed", Tensor{DataType: Int8, Dims: []int64{2}, Int32Data: []int32{-128, 127}}, []float32{-128, 127}},
		{"uint8 raw", Tensor{DataType: Uint8, Dims: []int64{2}, RawData: []byte{0, 255}, HasRawData: true}, []float32{0, 255}},
		{"uint8 typed", Tensor{DataType: Uint8, Dims: []int64{1}, Int32Data: []int32{200}}, []float32{200}},
		{"int16 raw", Tensor{DataType: Int16, Dims: []int64{1}, RawData: raw(int16(-300)), HasRawData: true}, []float32{-300}},
		{"uint16 raw", Tensor{DataType: Uint16, Dims: []int64{1}, RawData: raw(uint16(60000)), HasRawData: true}, []float32{60000}},
		{"uint64 typed", Tensor{DataType: Uint64, Dims: []int64{1}, Uint64Data: []uint64{12}}, []float32{12}},
		{"bool raw", Tensor{DataType: Bool, Dims: []int64{2}, RawData: []byte{1, 0}, HasRawData: true}, []float32{1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.t.Float32s()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestInt64s(t *testing.T) {
	tests := []struct {
		name string
		t    Tensor
		want []int64
	}{
		{"int64 raw", Tensor{DataType: Int64, Dims: []int64{2}, RawData: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 0, 0, 0}, HasRawData: true}, []int64{-1, 2}},
		{"int64 typed", Tensor{DataType: Int64, Dims: []int64{3}, Int64Data: []int64{1, -1, 1 << 50}}, []int64{1, -1, 1 << 50}},
		{"int32 raw", Tensor{DataType: Int32, Dims: []int64{1}, RawData: []byte{0xfe, 0xff, 0xff, 0xff}, HasRawData: true}, []int64{-2}},
		{"int32 typed", Tensor{DataType: Int32, Dims: []int64{2}, Int32Data: []int32{-4, 4}}, []int64{-4, 4}},
		{"uint8 raw", Tensor{DataType: Uint8, Dims: []int64{1}, RawData: []byte{255}, HasRawData: true}, []int64{255}},
		{"int8 raw", Tensor{DataType: Int8, Dims: []int64{1}, RawData: []byte{255}, HasRawData: true}, []int64{-1}},
		{"scalar", Tensor{DataType: Int64, Int64Data: []int64{9}}, []int64{9}},
		{"empty", Tensor{DataType: Int64, Dims: []int64{0}}, []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.t.Int64s()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConversionErrors(t *testing.T) {
	tests := []struct {
		name  string
		t     Tensor
		ints  bool // call Int64s instead of Float32s
		want  string
		nelem bool // the error comes from NumElements too
	}{
		{"raw too short", Tensor{Name: "w", DataType: Float, Dims: []int64{2, 2}, RawData: make([]byte, 12), HasRawData: true}, false,
			`tensor "w": raw_data has 12 bytes, want 16 (4 elements of FLOAT, dims [2 2])`, false},
		{"raw too long", Tensor{Name: "w", DataType: Int64, Dims: []int64{1}, RawData: make([]byte, 9), HasRawData: true}, true,
			"raw_data has 9 bytes, want 8", false},
		{"typed count", Tensor{Name: "b", DataType: Float, Dims: []int64{3}, FloatData: []float32{1, 2}}, false,
			`tensor "b": float_data has 2 elements, want 3`, false},
		{"typed missing", Tensor{Name: "s", DataType: Int64, Dims: []int64{2}}, true, "int64_data has 0 elements, want 2", false},
		{"negative dim", Tensor{Name: "n", DataType: Float, Dims: []int64{2, -1}}, false, "negative dimension -1 at index 1", true},
		{"overflow dims", Tensor{Name: "o", DataType: Float, Dims: []int64{1 << 40, 1 << 40, 1 << 40}}, false, "declare more than 2147483647 elements", true},
		{"too many elements", Tensor{Name: "o", DataType: Float, Dims: []int64{1 << 16, 1 << 15, 2}}, false, "declare more than", true},
		{"max int64 dims", Tensor{Name: "o", DataType: Float, Dims: []int64{math.MaxInt64, math.MaxInt64}}, false, "declare more than", true},
		{"string type", Tensor{Name: "str", DataType: String, Dims: []int64{1}}, false, "unsupported data type STRING", false},
		{"string raw", Tensor{Name: "str", DataType: String, Dims: []int64{1}, HasRawData: true}, false, "unsupported data type STRING", false},
		{"unknown type", Tensor{Name: "u", DataType: 99, Dims: []int64{1}}, false, "unsupported data type DataType(99)", false},
		{"float as ints", Tensor{Name: "f", DataType: Float, Dims: []int64{1}, FloatData: []float32{1}}, true, "data type FLOAT is not an integer type", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.ints {
				_, err = tt.t.Int64s()
			} else {
				_, err = tt.t.Float32s()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
			if _, nerr := tt.t.NumElements(); (nerr != nil) != tt.nelem {
				t.Errorf("NumElements error = %v", nerr)
			}
		})
	}
	// Exactly MaxElements is allowed (nothing is allocated here).
	if n, err := (&Tensor{Dims: []int64{MaxElements}}).NumElements(); err != nil || n != MaxElements {
		t.Errorf("NumElements(MaxElements) = %d, %v", n, err)
	}
	if _, err := (&Tensor{Dims: []int64{1 << 16, 1 << 15}}).NumElements(); err == nil {
		t.Error("NumElements(2^31) accepted")
	}
	// A zero dim makes the count 0 even when the others are huge.
	if n, err := (&Tensor{Dims: []int64{1 << 62, 1 << 62, 0}}).NumElements(); err != nil || n != 0 {
		t.Errorf("NumElements(zero dim) = %d, %v", n, err)
	}
}

func TestFloat16ToFloat32(t *testing.T) {
	tests := []struct {
		h    uint16
		want float32
	}{
		{0x0000, 0}, {0x3c00, 1}, {0xbc00, -1}, {0x3555, 0.33325195}, {0x7bff, 65504},
		{0x0400, 6.1035156e-05}, {0x03ff, 6.0975552e-05}, {0x8001, -5.9604645e-08},
		{0x7c00, float32(math.Inf(1))}, {0xfc00, float32(math.Inf(-1))},
	}
	for _, tt := range tests {
		if got := Float16ToFloat32(tt.h); got != tt.want {
			t.Errorf("Float16ToFloat32(%#04x) = %v, want %v", tt.h, got, tt.want)
		}
	}
	if got := Float16ToFloat32(0x7e00); !math.IsNaN(float64(got)) {
		t.Errorf("Float16ToFloat32(NaN) = %v", got)
	}
	if got := Float16ToFloat32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("Float16ToFloat32(-0) = %v", got)
	}
}

func TestTypeStrings(t *testing.T) {
	if s := Float.String() + " " + Float4E2M1.String() + " " + DataType(-1).String(); s != "FLOAT FLOAT4E2M1 DataType(-1)" {
		t.Errorf("DataType strings: %q", s)
	}
	if s := AttrInts.String() + " " + AttrTypeProtos.String() + " " + AttributeType(15).String(); s != "INTS TYPE_PROTOS AttributeType(15)" {
		t.Errorf("AttributeType strings: %q", s)
	}
}
