package onnxpb

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// DecodeModel decodes an ONNX ModelProto, the content of a .onnx file.
//
// Byte fields of the result (Tensor.RawData, Attribute.S and
// Attribute.Strings) alias b, which must therefore not be modified while the
// Model is in use. Tensors whose data is stored outside the file
// (data_location EXTERNAL) are rejected with an error naming the tensor.
func DecodeModel(b []byte) (*Model, error) {
	m := new(Model)
	if err := decodeModel(b, m); err != nil {
		return nil, fmt.Errorf("onnxpb: %w", err)
	}
	return m, nil
}

// field is one decoded protobuf field: its number, wire type and value.
type field struct {
	num protowire.Number
	typ protowire.Type
	v   uint64 // value of a varint, fixed32 or fixed64 field
	b   []byte // value of a length-delimited field
}

// forEachField calls fn for each field of the message encoded in b.
// Groups are skipped. Errors are prefixed with msg and the field.
func forEachField(b []byte, msg string, fn func(f *field) error) error {
	var f field
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%s: bad field tag: %w", msg, protowire.ParseError(n))
		}
		b = b[n:]
		f = field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.v = uint64(v)
		case protowire.Fixed64Type:
			f.v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		default: // groups (deprecated; depth-limited by protowire) and reserved types
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n >= 0 {
				b = b[n:]
				continue
			}
		}
		if n < 0 {
			return fmt.Errorf("%s: field %d: %w", msg, num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(&f); err != nil {
			return fmt.Errorf("%s: %w", msg, err)
		}
	}
	return nil
}

var errWireType = errors.New("wrong wire type")

// wireErr reports that field name of f has an unexpected wire type.
func wireErr(f *field, name string) error {
	return fmt.Errorf("%s(%d): %w %d", name, f.num, errWireType, f.typ)
}

// fieldErr wraps err with the name and number of field f.
func fieldErr(f *field, name string, err error) error {
	return fmt.Errorf("%s(%d): %w", name, f.num, err)
}

// indexErr wraps err with the name, number and index of repeated field f.
func indexErr(f *field, name string, i int, err error) error {
	return fmt.Errorf("%s(%d)[%d]: %w", name, f.num, i, err)
}

func (f *field) int64(name string) (int64, error) {
	if f.typ != protowire.VarintType {
		return 0, wireErr(f, name)
	}
	return int64(f.v), nil
}

func (f *field) int32(name string) (int32, error) {
	if f.typ != protowire.VarintType {
		return 0, wireErr(f, name)
	}
	return int32(f.v), nil // negative int32 values are sign-extended on the wire
}

func (f *field) float32(name string) (float32, error) {
	if f.typ != protowire.Fixed32Type {
		return 0, wireErr(f, name)
	}
	return math.Float32frombits(uint32(f.v)), nil
}

func (f *field) bytes(name string) ([]byte, error) {
	if f.typ != protowire.BytesType {
		return nil, wireErr(f, name)
	}
	return f.b, nil
}

func (f *field) string(name string) (string, error) {
	b, err := f.bytes(name)
	return string(b), err
}

// countVarints returns the number of varints in a packed buffer, an upper
// bound used only to size an allocation (it is at most len(b)).
func countVarints(b []byte) int {
	n := 0
	for _, c := range b {
		if c < 0x80 {
			n++
		}
	}
	return n
}

// appendVarints appends the varints of repeated field f, packed or not,
// converted by conv.
func appendVarints[E any](dst []E, f *field, name string, conv func(uint64) E) ([]E, error) {
	switch f.typ {
	case protowire.VarintType:
		return append(dst, conv(f.v)), nil
	case protowire.BytesType:
		b := f.b
		if dst == nil {
			dst = make([]E, 0, countVarints(b))
		}
		for len(b) > 0 {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return dst, fieldErr(f, name, fmt.Errorf("packed element %d: %w", len(dst), protowire.ParseError(n)))
			}
			dst = append(dst, conv(v))
			b = b[n:]
		}
		return dst, nil
	}
	return dst, wireErr(f, name)
}

func appendInt64s(dst []int64, f *field, name string) ([]int64, error) {
	return appendVarints(dst, f, name, func(v uint64) int64 { return int64(v) })
}

func appendInt32s(dst []int32, f *field, name string) ([]int32, error) {
	return appendVarints(dst, f, name, func(v uint64) int32 { return int32(v) })
}

func appendUint64s(dst []uint64, f *field, name string) ([]uint64, error) {
	return appendVarints(dst, f, name, func(v uint64) uint64 { return v })
}

// appendFloat32s appends the floats of repeated field f, packed or not.
func appendFloat32s(dst []float32, f *field, name string) ([]float32, error) {
	switch f.typ {
	case protowire.Fixed32Type:
		return append(dst, math.Float32frombits(uint32(f.v))), nil
	case protowire.BytesType:
		if len(f.b)%4 != 0 {
			return dst, fieldErr(f, name, fmt.Errorf("packed length %d is not a multiple of 4", len(f.b)))
		}
		dst = growCap(dst, len(f.b)/4)
		for b := f.b; len(b) > 0; b = b[4:] {
			dst = append(dst, math.Float32frombits(le32(b)))
		}
		return dst, nil
	}
	return dst, wireErr(f, name)
}

// appendFloat64s appends the doubles of repeated field f, packed or not.
func appendFloat64s(dst []float64, f *field, name string) ([]float64, error) {
	switch f.typ {
	case protowire.Fixed64Type:
		return append(dst, math.Float64frombits(f.v)), nil
	case protowire.BytesType:
		if len(f.b)%8 != 0 {
			return dst, fieldErr(f, name, fmt.Errorf("packed length %d is not a multiple of 8", len(f.b)))
		}
		dst = growCap(dst, len(f.b)/8)
		for b := f.b; len(b) > 0; b = b[8:] {
			dst = append(dst, math.Float64frombits(le64(b)))
		}
		return dst, nil
	}
	return dst, wireErr(f, name)
}

// growCap returns s with room for at least n more elements.
func growCap[E any](s []E, n int) []E {
	if cap(s)-len(s) >= n {
		return s
	}
	t := make([]E, len(s), len(s)+n)
	copy(t, s)
	return t
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func le64(b []byte) uint64 {
	return uint64(le32(b)) | uint64(le32(b[4:]))<<32
}

// decodeModel decodes a ModelProto into m.
func decodeModel(b []byte, m *Model) error {
	return forEachField(b, "ModelProto", func(f *field) error {
		var err error
		switch f.num {
		case 1: // int64 ir_version = 1
			m.IRVersion, err = f.int64("ir_version")
		case 2: // string producer_name = 2
			m.ProducerName, err = f.string("producer_name")
		case 7: // GraphProto graph = 7
			var sub []byte
			if sub, err = f.bytes("graph"); err != nil {
				return err
			}
			if m.Graph == nil {
				m.Graph = new(Graph)
			}
			if err = decodeGraph(sub, m.Graph); err != nil {
				return fieldErr(f, "graph", err)
			}
		case 8: // repeated OperatorSetIdProto opset_import = 8
			var sub []byte
			if sub, err = f.bytes("opset_import"); err != nil {
				return err
			}
			var o OperatorSetID
			if err = decodeOpsetID(sub, &o); err != nil {
				return indexErr(f, "opset_import", len(m.OpsetImports), err)
			}
			m.OpsetImports = append(m.OpsetImports, o)
		}
		return err
	})
}

// decodeOpsetID decodes an OperatorSetIdProto into o.
func decodeOpsetID(b []byte, o *OperatorSetID) error {
	return forEachField(b, "OperatorSetIdProto", func(f *field) error {
		var err error
		switch f.num {
		case 1: // string domain = 1
			o.Domain, err = f.string("domain")
		case 2: // int64 version = 2
			o.Version, err = f.int64("version")
		}
		return err
	})
}

// decodeGraph decodes a GraphProto into g.
func decodeGraph(b []byte, g *Graph) error {
	return forEachField(b, "GraphProto", func(f *field) error {
		var err error
		var sub []byte
		switch f.num {
		case 1: // repeated NodeProto node = 1
			if sub, err = f.bytes("node"); err != nil {
				return err
			}
			n := new(Node)
			if err = decodeNode(sub, n); err != nil {
				return indexErr(f, "node", len(g.Nodes), err)
			}
			g.Nodes = append(g.Nodes, n)
		case 2: // string name = 2
			g.Name, err = f.string("name")
		case 5: // repeated TensorProto initializer = 5
			if sub, err = f.bytes("initializer"); err != nil {
				return err
			}
			t := new(Tensor)
			if err = decodeTensor(sub, t); err != nil {
				return indexErr(f, "initializer", len(g.Initializers), err)
			}
			g.Initializers = append(g.Initializers, t)
		case 11, 12, 13: // repeated ValueInfoProto input = 11, output = 12, value_info = 13
			name, list := "input", &g.Inputs
			switch f.num {
			case 12:
				name, list = "output", &g.Outputs
			case 13:
				name, list = "value_info", &g.ValueInfo
			}
			if sub, err = f.bytes(name); err != nil {
				return err
			}
			v := new(ValueInfo)
			if err = decodeValueInfo(sub, v); err != nil {
				return indexErr(f, name, len(*list), err)
			}
			*list = append(*list, v)
		case 15: // repeated SparseTensorProto sparse_initializer = 15
			g.Unsupported = appendOnce(g.Unsupported, "sparse_initializer(15)")
		}
		return err
	})
}

// appendOnce appends s to list unless it is already there.
func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// decodeNode decodes a NodeProto into n.
func decodeNode(b []byte, n *Node) error {
	return forEachField(b, "NodeProto", func(f *field) error {
		var err error
		var s string
		switch f.num {
		case 1: // repeated string input = 1
			if s, err = f.string("input"); err == nil {
				n.Inputs = append(n.Inputs, s)
			}
		case 2: // repeated string output = 2
			if s, err = f.string("output"); err == nil {
				n.Outputs = append(n.Outputs, s)
			}
		case 3: // string name = 3
			n.Name, err = f.string("name")
		case 4: // string op_type = 4
			n.OpType, err = f.string("op_type")
		case 5: // repeated AttributeProto attribute = 5
			var sub []byte
			if sub, err = f.bytes("attribute"); err != nil {
				return err
			}
			a := new(Attribute)
			if err = decodeAttribute(sub, a); err != nil {
				return indexErr(f, "attribute", len(n.Attributes), err)
			}
			n.Attributes = append(n.Attributes, a)
		case 7: // string domain = 7
			n.Domain, err = f.string("domain")
		}
		return err
	})
}

// decodeAttribute decodes an AttributeProto into a.
func decodeAttribute(b []byte, a *Attribute) error {
	return forEachField(b, "AttributeProto", func(f *field) error {
		var err error
		switch f.num {
		case 1: // string name = 1
			a.Name, err = f.string("name")
		case 2: // float f = 2
			a.F, err = f.float32("f")
		case 3: // int64 i = 3
			a.I, err = f.int64("i")
		case 4: // bytes s = 4
			a.S, err = f.bytes("s")
		case 5: // TensorProto t = 5
			var sub []byte
			if sub, err = f.bytes("t"); err != nil {
				return err
			}
			if a.T == nil {
				a.T = new(Tensor)
			}
			if err = decodeTensor(sub, a.T); err != nil {
				return fieldErr(f, "t", err)
			}
		case 6: // GraphProto g = 6: subgraphs are not decoded
			a.Unsupported = appendOnce(a.Unsupported, "g(6)")
		case 7: // repeated float floats = 7
			a.Floats, err = appendFloat32s(a.Floats, f, "floats")
		case 8: // repeated int64 ints = 8
			a.Ints, err = appendInt64s(a.Ints, f, "ints")
		case 9: // repeated bytes strings = 9
			var s []byte
			if s, err = f.bytes("strings"); err == nil {
				a.Strings = append(a.Strings, s)
			}
		case 10: // repeated TensorProto tensors = 10
			a.Unsupported = appendOnce(a.Unsupported, "tensors(10)")
		case 11: // repeated GraphProto graphs = 11
			a.Unsupported = appendOnce(a.Unsupported, "graphs(11)")
		case 14: // TypeProto tp = 14
			a.Unsupported = appendOnce(a.Unsupported, "tp(14)")
		case 15: // repeated TypeProto type_protos = 15
			a.Unsupported = appendOnce(a.Unsupported, "type_protos(15)")
		case 20: // AttributeType type = 20
			var t int32
			t, err = f.int32("type")
			a.Type = AttributeType(t)
		case 21: // string ref_attr_name = 21 (only valid inside functions)
			a.Unsupported = appendOnce(a.Unsupported, "ref_attr_name(21)")
		case 22: // SparseTensorProto sparse_tensor = 22
			a.Unsupported = appendOnce(a.Unsupported, "sparse_tensor(22)")
		case 23: // repeated SparseTensorProto sparse_tensors = 23
			a.Unsupported = appendOnce(a.Unsupported, "sparse_tensors(23)")
		}
		return err
	})
}

// Values of TensorProto.DataLocation.
const (
	dataLocationDefault  = 0
	dataLocationExternal = 1
)

// decodeTensor decodes a TensorProto into t. Tensors with external data are
// an error.
func decodeTensor(b []byte, t *Tensor) error {
	var external bool
	err := forEachField(b, "TensorProto", func(f *field) error {
		var err error
		switch f.num {
		case 1: // repeated int64 dims = 1
			t.Dims, err = appendInt64s(t.Dims, f, "dims")
		case 2: // int32 data_type = 2
			var d int32
			d, err = f.int32("data_type")
			t.DataType = DataType(d)
		case 4: // repeated float float_data = 4 [packed = true]
			t.FloatData, err = appendFloat32s(t.FloatData, f, "float_data")
		case 5: // repeated int32 int32_data = 5 [packed = true]
			t.Int32Data, err = appendInt32s(t.Int32Data, f, "int32_data")
		case 6: // repeated bytes string_data = 6: not decoded
		case 7: // repeated int64 int64_data = 7 [packed = true]
			t.Int64Data, err = appendInt64s(t.Int64Data, f, "int64_data")
		case 8: // string name = 8
			t.Name, err = f.string("name")
		case 9: // bytes raw_data = 9
			t.RawData, err = f.bytes("raw_data")
			t.HasRawData = err == nil
		case 10: // repeated double double_data = 10 [packed = true]
			t.DoubleData, err = appendFloat64s(t.DoubleData, f, "double_data")
		case 11: // repeated uint64 uint64_data = 11 [packed = true]
			t.Uint64Data, err = appendUint64s(t.Uint64Data, f, "uint64_data")
		case 13: // repeated StringStringEntryProto external_data = 13
			if f.typ != protowire.BytesType {
				return wireErr(f, "external_data")
			}
			external = true
		case 14: // DataLocation data_location = 14
			var loc int32
			if loc, err = f.int32("data_location"); err == nil && loc != dataLocationDefault {
				external = true
			}
		}
		return err
	})
	if err != nil {
		if t.Name != "" {
			return fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		return err
	}
	if external {
		return fmt.Errorf("tensor %q: external data (data_location EXTERNAL) is not supported; "+
			"save the model with its weights inside the .onnx file", t.Name)
	}
	return nil
}

// decodeValueInfo decodes a ValueInfoProto into v.
func decodeValueInfo(b []byte, v *ValueInfo) error {
	return forEachField(b, "ValueInfoProto", func(f *field) error {
		var err error
		switch f.num {
		case 1: // string name = 1
			v.Name, err = f.string("name")
		case 2: // TypeProto type = 2
			var sub []byte
			if sub, err = f.bytes("type"); err != nil {
				return err
			}
			if err = decodeType(sub, v); err != nil {
				return fieldErr(f, "type", err)
			}
		}
		return err
	})
}

// decodeType decodes a TypeProto into v.Type, leaving it nil unless the
// type is a tensor type.
func decodeType(b []byte, v *ValueInfo) error {
	return forEachField(b, "TypeProto", func(f *field) error {
		switch f.num {
		case 1: // TypeProto.Tensor tensor_type = 1 (in oneof value)
			sub, err := f.bytes("tensor_type")
			if err != nil {
				return err
			}
			if v.Type == nil {
				v.Type = new(TensorType)
			}
			if err = decodeTensorType(sub, v.Type); err != nil {
				return fieldErr(f, "tensor_type", err)
			}
		case 4, 5, 8, 9: // sequence_type = 4, map_type = 5, sparse_tensor_type = 8, optional_type = 9
			v.Type = nil // the last member of a oneof wins
		}
		return nil
	})
}

// decodeTensorType decodes a TypeProto.Tensor into t.
func decodeTensorType(b []byte, t *TensorType) error {
	return forEachField(b, "TypeProto.Tensor", func(f *field) error {
		var err error
		switch f.num {
		case 1: // int32 elem_type = 1
			var e int32
			e, err = f.int32("elem_type")
			t.ElemType = DataType(e)
		case 2: // TensorShapeProto shape = 2
			var sub []byte
			if sub, err = f.bytes("shape"); err != nil {
				return err
			}
			t.HasShape = true
			if err = decodeShape(sub, t); err != nil {
				return fieldErr(f, "shape", err)
			}
		}
		return err
	})
}

// decodeShape decodes a TensorShapeProto, appending its dims to t.Dims.
func decodeShape(b []byte, t *TensorType) error {
	return forEachField(b, "TensorShapeProto", func(f *field) error {
		if f.num != 1 { // repeated Dimension dim = 1
			return nil
		}
		sub, err := f.bytes("dim")
		if err != nil {
			return err
		}
		var d Dim
		err = forEachField(sub, "Dimension", func(f *field) error {
			var err error
			switch f.num {
			case 1: // int64 dim_value = 1 (in oneof value)
				d.Value, err = f.int64("dim_value")
				d.HasValue, d.Param = err == nil, ""
			case 2: // string dim_param = 2 (in oneof value)
				d.Param, err = f.string("dim_param")
				d.HasValue, d.Value = false, 0
			}
			return err
		})
		if err != nil {
			return indexErr(f, "dim", len(t.Dims), err)
		}
		t.Dims = append(t.Dims, d)
		return nil
	})
}

// DecodeTensor decodes a standalone ONNX TensorProto, such as the input
// and output files (.pb) of ONNX's backend test data. Byte fields of the
// result alias b, as with DecodeModel.
func DecodeTensor(b []byte) (*Tensor, error) {
	t := new(Tensor)
	if err := decodeTensor(b, t); err != nil {
		return nil, fmt.Errorf("onnxpb: %w", err)
	}
	return t, nil
}
