// Package onnxpb decodes the subset of the ONNX protobuf format (onnx.proto,
// package onnx) that an importer of convolutional image classifiers needs.
//
// It is written by hand on top of the protowire package: no generated code
// and no copy of onnx.proto. Field numbers are cited in comments as they are
// defined in onnx.proto. Unknown fields are skipped; fields that this package
// knows of but does not decode (subgraphs, sparse tensors, ...) are reported
// in the Unsupported lists of the structs that hold them, so a caller can
// refuse models that rely on them.
//
// Decoding is defensive: malformed input (bad varints, truncated lengths,
// wrong wire types for known fields, element counts that do not match the
// declared dimensions) results in an error that names the message and field,
// never in a panic, and no allocation is sized by a number read from the
// file alone. Recursion is bounded: the decoder never descends into graphs
// nested in attributes.
package onnxpb

import "fmt"

// MaxElements is the largest number of elements a tensor may declare
// through its dims (2^31 − 1, so counts fit an int on 32-bit machines).
// Larger tensors are rejected.
const MaxElements = 1<<31 - 1

// Model is a decoded ModelProto.
type Model struct {
	// IRVersion is ModelProto.ir_version (field 1).
	IRVersion int64
	// ProducerName is ModelProto.producer_name (field 2).
	ProducerName string
	// Graph is ModelProto.graph (field 7); nil if the field is absent.
	Graph *Graph
	// OpsetImports is ModelProto.opset_import (field 8).
	OpsetImports []OperatorSetID
}

// OpsetVersion returns the version imported for the given operator set
// domain ("" or "ai.onnx" for the default domain) and whether it was found.
func (m *Model) OpsetVersion(domain string) (int64, bool) {
	isDefault := domain == "" || domain == "ai.onnx"
	for _, o := range m.OpsetImports {
		if o.Domain == domain || (isDefault && (o.Domain == "" || o.Domain == "ai.onnx")) {
			return o.Version, true
		}
	}
	return 0, false
}

// OperatorSetID is a decoded OperatorSetIdProto.
type OperatorSetID struct {
	// Domain is OperatorSetIdProto.domain (field 1); "" is the default
	// ai.onnx domain.
	Domain string
	// Version is OperatorSetIdProto.version (field 2).
	Version int64
}

// Graph is a decoded GraphProto.
type Graph struct {
	// Nodes is GraphProto.node (field 1), in file order (which ONNX requires
	// to be a topological order).
	Nodes []*Node
	// Name is GraphProto.name (field 2).
	Name string
	// Initializers is GraphProto.initializer (field 5).
	Initializers []*Tensor
	// Inputs is GraphProto.input (field 11). With IR version < 4 it also
	// lists the initializers.
	Inputs []*ValueInfo
	// Outputs is GraphProto.output (field 12).
	Outputs []*ValueInfo
	// ValueInfo is GraphProto.value_info (field 13).
	ValueInfo []*ValueInfo
	// Unsupported names fields that were present but not decoded, such as
	// "sparse_initializer(15)".
	Unsupported []string
}

// Node is a decoded NodeProto.
type Node struct {
	// Inputs is NodeProto.input (field 1); "" marks an omitted optional input.
	Inputs []string
	// Outputs is NodeProto.output (field 2).
	Outputs []string
	// Name is NodeProto.name (field 3); it may be empty.
	Name string
	// OpType is NodeProto.op_type (field 4), such as "Conv".
	OpType string
	// Attributes is NodeProto.attribute (field 5).
	Attributes []*Attribute
	// Domain is NodeProto.domain (field 7); "" is the default ai.onnx domain.
	Domain string
}

// Attr returns the attribute of n with the given name, or nil.
func (n *Node) Attr(name string) *Attribute {
	for _, a := range n.Attributes {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// AttributeType is AttributeProto.AttributeType, the kind of value an
// attribute holds.
type AttributeType int32

// Attribute types, as numbered in AttributeProto.AttributeType.
const (
	AttrUndefined     AttributeType = 0
	AttrFloat         AttributeType = 1
	AttrInt           AttributeType = 2
	AttrString        AttributeType = 3
	AttrTensor        AttributeType = 4
	AttrGraph         AttributeType = 5
	AttrFloats        AttributeType = 6
	AttrInts          AttributeType = 7
	AttrStrings       AttributeType = 8
	AttrTensors       AttributeType = 9
	AttrGraphs        AttributeType = 10
	AttrSparseTensor  AttributeType = 11
	AttrSparseTensors AttributeType = 12
	AttrTypeProto     AttributeType = 13
	AttrTypeProtos    AttributeType = 14
)

var attrTypeNames = [...]string{
	"UNDEFINED", "FLOAT", "INT", "STRING", "TENSOR", "GRAPH", "FLOATS", "INTS",
	"STRINGS", "TENSORS", "GRAPHS", "SPARSE_TENSOR", "SPARSE_TENSORS",
	"TYPE_PROTO", "TYPE_PROTOS",
}

// String returns the ONNX name of t, such as "INTS".
func (t AttributeType) String() string {
	if t >= 0 && int(t) < len(attrTypeNames) {
		return attrTypeNames[t]
	}
	return fmt.Sprintf("AttributeType(%d)", int32(t))
}

// Attribute is a decoded AttributeProto. Only the field selected by Type is
// meaningful.
type Attribute struct {
	// Name is AttributeProto.name (field 1).
	Name string
	// Type is AttributeProto.type (field 20). Files written before IR
	// version 2 may leave it unset (AttrUndefined).
	Type AttributeType
	// F is AttributeProto.f (field 2).
	F float32
	// I is AttributeProto.i (field 3).
	I int64
	// S is AttributeProto.s (field 4). It aliases the slice given to
	// DecodeModel.
	S []byte
	// T is AttributeProto.t (field 5); nil if absent.
	T *Tensor
	// Floats is AttributeProto.floats (field 7), packed or not.
	Floats []float32
	// Ints is AttributeProto.ints (field 8), packed or not.
	Ints []int64
	// Strings is AttributeProto.strings (field 9). Each aliases the slice
	// given to DecodeModel.
	Strings [][]byte
	// Unsupported names fields that were present but not decoded, such as
	// "g(6)" for a subgraph.
	Unsupported []string
}

// ValueInfo is a decoded ValueInfoProto: the name and, if known, the type
// of a graph input, output or intermediate value.
type ValueInfo struct {
	// Name is ValueInfoProto.name (field 1).
	Name string
	// Type is ValueInfoProto.type.tensor_type (fields 2 and 1); nil if the
	// type is absent or is not a tensor type.
	Type *TensorType
}

// TensorType is a decoded TypeProto.Tensor.
type TensorType struct {
	// ElemType is TypeProto.Tensor.elem_type (field 1).
	ElemType DataType
	// HasShape reports whether TypeProto.Tensor.shape (field 2) was present.
	// Without it the rank is unknown; with it and no Dims the value is a
	// scalar.
	HasShape bool
	// Dims is TensorShapeProto.dim (field 1).
	Dims []Dim
}

// Dim is a decoded TensorShapeProto.Dimension: a known size, a symbolic
// size, or neither.
type Dim struct {
	// Value is Dimension.dim_value (field 1), meaningful if HasValue.
	Value int64
	// HasValue reports whether dim_value was present.
	HasValue bool
	// Param is Dimension.dim_param (field 2), a symbolic name such as
	// "batch_size".
	Param string
}

// String returns the dimension's value, its symbolic name, or "?".
func (d Dim) String() string {
	switch {
	case d.HasValue:
		return fmt.Sprint(d.Value)
	case d.Param != "":
		return d.Param
	}
	return "?"
}

// DataType is TensorProto.DataType, the element type of a tensor.
type DataType int32

// Element types, as numbered in TensorProto.DataType.
const (
	Undefined      DataType = 0
	Float          DataType = 1 // float32
	Uint8          DataType = 2
	Int8           DataType = 3
	Uint16         DataType = 4
	Int16          DataType = 5
	Int32          DataType = 6
	Int64          DataType = 7
	String         DataType = 8
	Bool           DataType = 9
	Float16        DataType = 10 // IEEE 754 half precision
	Double         DataType = 11 // float64
	Uint32         DataType = 12
	Uint64         DataType = 13
	Complex64      DataType = 14
	Complex128     DataType = 15
	BFloat16       DataType = 16
	Float8E4M3FN   DataType = 17
	Float8E4M3FNUZ DataType = 18
	Float8E5M2     DataType = 19
	Float8E5M2FNUZ DataType = 20
	Uint4          DataType = 21
	Int4           DataType = 22
	Float4E2M1     DataType = 23
)

var dataTypeNames = [...]string{
	"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64",
	"STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64",
	"COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2",
	"FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1",
}

// String returns the ONNX name of t, such as "FLOAT".
func (t DataType) String() string {
	if t >= 0 && int(t) < len(dataTypeNames) {
		return dataTypeNames[t]
	}
	return fmt.Sprintf("DataType(%d)", int32(t))
}

// Tensor is a decoded TensorProto. Its data is in exactly one of RawData or
// the typed field that ONNX assigns to DataType; use Float32s or Int64s to
// read it with checks against Dims.
type Tensor struct {
	// Dims is TensorProto.dims (field 1), packed or not.
	Dims []int64
	// DataType is TensorProto.data_type (field 2).
	DataType DataType
	// FloatData is TensorProto.float_data (field 4), used for FLOAT.
	FloatData []float32
	// Int32Data is TensorProto.int32_data (field 5), used for INT32 and the
	// smaller integer types, BOOL, FLOAT16 and BFLOAT16 (as bit patterns).
	Int32Data []int32
	// Int64Data is TensorProto.int64_data (field 7), used for INT64.
	Int64Data []int64
	// Name is TensorProto.name (field 8).
	Name string
	// RawData is TensorProto.raw_data (field 9): the elements in
	// little-endian byte order. It aliases the slice given to DecodeModel.
	RawData []byte
	// HasRawData reports whether raw_data was present (possibly empty).
	HasRawData bool
	// DoubleData is TensorProto.double_data (field 10), used for DOUBLE.
	DoubleData []float64
	// Uint64Data is TensorProto.uint64_data (field 11), used for UINT32 and
	// UINT64.
	Uint64Data []uint64
}
