package onnxpb

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// msg builds a protobuf message with protowire, for tests.
type msg []byte

func (m msg) varint(num protowire.Number, v uint64) msg {
	return protowire.AppendVarint(protowire.AppendTag(m, num, protowire.VarintType), v)
}

func (m msg) fixed32(num protowire.Number, v uint32) msg {
	return protowire.AppendFixed32(protowire.AppendTag(m, num, protowire.Fixed32Type), v)
}

func (m msg) fixed64(num protowire.Number, v uint64) msg {
	return protowire.AppendFixed64(protowire.AppendTag(m, num, protowire.Fixed64Type), v)
}

func (m msg) bytes(num protowire.Number, b []byte) msg {
	return protowire.AppendBytes(protowire.AppendTag(m, num, protowire.BytesType), b)
}

func (m msg) str(num protowire.Number, s string) msg { return m.bytes(num, []byte(s)) }

func (m msg) float(num protowire.Number, f float32) msg {
	return m.fixed32(num, math.Float32bits(f))
}

// ints appends repeated int64 values unpacked, one tag each.
func (m msg) ints(num protowire.Number, vs ...int64) msg {
	for _, v := range vs {
		m = m.varint(num, uint64(v))
	}
	return m
}

// packedInts appends repeated int64 values packed in one length-delimited field.
func (m msg) packedInts(num protowire.Number, vs ...int64) msg {
	var p []byte
	for _, v := range vs {
		p = protowire.AppendVarint(p, uint64(v))
	}
	return m.bytes(num, p)
}

// floats appends repeated floats unpacked.
func (m msg) floats(num protowire.Number, fs ...float32) msg {
	for _, f := range fs {
		m = m.float(num, f)
	}
	return m
}

// packedFloats appends repeated floats packed.
func (m msg) packedFloats(num protowire.Number, fs ...float32) msg {
	var p []byte
	for _, f := range fs {
		p = protowire.AppendFixed32(p, math.Float32bits(f))
	}
	return m.bytes(num, p)
}

// packedDoubles appends repeated doubles packed.
func (m msg) packedDoubles(num protowire.Number, fs ...float64) msg {
	var p []byte
	for _, f := range fs {
		p = protowire.AppendFixed64(p, math.Float64bits(f))
	}
	return m.bytes(num, p)
}

// unknown appends fields of every wire type with a number no ONNX message
// in this package uses, to check that they are skipped.
func (m msg) unknown() msg {
	m = m.varint(1000, 12345).fixed32(1001, 7).fixed64(1002, 8).str(1003, "junk")
	m = protowire.AppendTag(m, 1004, protowire.StartGroupType)
	m = msg(m).varint(1, 1)
	return protowire.AppendTag(m, 1004, protowire.EndGroupType)
}

func le32Bytes(fs ...float32) []byte {
	var b []byte
	for _, f := range fs {
		b = protowire.AppendFixed32(b, math.Float32bits(f))
	}
	return b
}

func valueInfo(name string, elem DataType, dims ...any) msg {
	var shape msg
	for _, d := range dims {
		switch d := d.(type) {
		case int:
			shape = shape.bytes(1, msg{}.varint(1, uint64(d)))
		case string:
			shape = shape.bytes(1, msg{}.str(2, d))
		}
	}
	tt := msg{}.varint(1, uint64(elem)).bytes(2, shape)
	return msg{}.str(1, name).bytes(2, msg{}.bytes(1, tt))
}

// handModel builds a small model that uses both packed and unpacked
// repeated fields, raw and typed tensor data, and unknown fields.
func handModel() []byte {
	wRaw := le32Bytes(1, 2, 3, 4, 5, 6, 7, 8)
	w := msg{}.str(8, "w").varint(2, uint64(Float)).ints(1, 2, 1, 2, 2).bytes(9, wRaw).unknown()
	bias := msg{}.packedInts(1, 2).varint(2, uint64(Float)).str(8, "b").packedFloats(4, 0.5, -0.5)
	shape := msg{}.str(8, "shape").varint(2, uint64(Int64)).ints(1, 2).packedInts(7, 1, -1)
	fc := msg{}.str(8, "fc").varint(2, uint64(Float)).packedInts(1, 1, 2).floats(4, 0.25, 4)

	conv := msg{}.str(1, "x").str(1, "w").str(1, "b").str(2, "c").str(3, "conv0").str(4, "Conv").
		bytes(5, msg{}.str(1, "pads").varint(20, uint64(AttrInts)).packedInts(8, 1, 1, 1, 1)).
		bytes(5, msg{}.str(1, "strides").varint(20, uint64(AttrInts)).ints(8, 1, 1)).
		bytes(5, msg{}.str(1, "group").varint(20, uint64(AttrInt)).varint(3, 1)).
		bytes(5, msg{}.str(1, "auto_pad").varint(20, uint64(AttrString)).str(4, "NOTSET")).
		unknown()
	relu := msg{}.str(1, "c").str(2, "r").str(4, "Relu").str(7, "")
	gemm := msg{}.str(1, "r").str(1, "fc").str(1, "").str(2, "y").str(3, "gemm").str(4, "Gemm").
		bytes(5, msg{}.str(1, "alpha").varint(20, uint64(AttrFloat)).float(2, 1.5)).
		bytes(5, msg{}.str(1, "fl").varint(20, uint64(AttrFloats)).packedFloats(7, 1, 2).floats(7, 3)).
		bytes(5, msg{}.str(1, "ss").varint(20, uint64(AttrStrings)).str(9, "a").str(9, "b")).
		bytes(5, msg{}.str(1, "g").varint(20, uint64(AttrGraph)).bytes(6, msg{}.str(2, "sub"))).
		bytes(5, msg{}.str(1, "value").varint(20, uint64(AttrTensor)).
			bytes(5, msg{}.varint(2, uint64(Int32)).packedInts(5, -3, 4)))

	graph := msg{}.bytes(1, conv).bytes(1, relu).bytes(1, gemm).str(2, "g0").
		bytes(5, w).bytes(5, bias).bytes(5, shape).bytes(5, fc).
		bytes(11, valueInfo("x", Float, "N", 1, 2, 2)).
		bytes(12, valueInfo("y", Float, "N", 1)).
		bytes(13, valueInfo("c", Float)).
		str(10, "doc string, skipped").unknown()
	return msg{}.varint(1, 8).str(2, "hand").
		bytes(8, msg{}.str(1, "").varint(2, 13)).
		bytes(8, msg{}.str(1, "com.example").varint(2, 1)).
		unknown().bytes(7, graph)
}

func handModelWant() *Model {
	wRaw := le32Bytes(1, 2, 3, 4, 5, 6, 7, 8)
	return &Model{
		IRVersion:    8,
		ProducerName: "hand",
		OpsetImports: []OperatorSetID{{"", 13}, {"com.example", 1}},
		Graph: &Graph{
			Name: "g0",
			Nodes: []*Node{
				{
					Inputs: []string{"x", "w", "b"}, Outputs: []string{"c"}, Name: "conv0", OpType: "Conv",
					Attributes: []*Attribute{
						{Name: "pads", Type: AttrInts, Ints: []int64{1, 1, 1, 1}},
						{Name: "strides", Type: AttrInts, Ints: []int64{1, 1}},
						{Name: "group", Type: AttrInt, I: 1},
						{Name: "auto_pad", Type: AttrString, S: []byte("NOTSET")},
					},
				},
				{Inputs: []string{"c"}, Outputs: []string{"r"}, OpType: "Relu"},
				{
					Inputs: []string{"r", "fc", ""}, Outputs: []string{"y"}, Name: "gemm", OpType: "Gemm",
					Attributes: []*Attribute{
						{Name: "alpha", Type: AttrFloat, F: 1.5},
						{Name: "fl", Type: AttrFloats, Floats: []float32{1, 2, 3}},
						{Name: "ss", Type: AttrStrings, Strings: [][]byte{[]byte("a"), []byte("b")}},
						{Name: "g", Type: AttrGraph, Unsupported: []string{"g(6)"}},
						{Name: "value", Type: AttrTensor, T: &Tensor{DataType: Int32, Int32Data: []int32{-3, 4}}},
					},
				},
			},
			Initializers: []*Tensor{
				{Name: "w", DataType: Float, Dims: []int64{2, 1, 2, 2}, RawData: wRaw, HasRawData: true},
				{Name: "b", DataType: Float, Dims: []int64{2}, FloatData: []float32{0.5, -0.5}},
				{Name: "shape", DataType: Int64, Dims: []int64{2}, Int64Data: []int64{1, -1}},
				{Name: "fc", DataType: Float, Dims: []int64{1, 2}, FloatData: []float32{0.25, 4}},
			},
			Inputs: []*ValueInfo{{Name: "x", Type: &TensorType{ElemType: Float, HasShape: true,
				Dims: []Dim{{Param: "N"}, {Value: 1, HasValue: true}, {Value: 2, HasValue: true}, {Value: 2, HasValue: true}}}}},
			Outputs: []*ValueInfo{{Name: "y", Type: &TensorType{ElemType: Float, HasShape: true,
				Dims: []Dim{{Param: "N"}, {Value: 1, HasValue: true}}}}},
			ValueInfo: []*ValueInfo{{Name: "c", Type: &TensorType{ElemType: Float, HasShape: true}}},
		},
	}
}

func TestDecodeHandBuilt(t *testing.T) {
	m, err := DecodeModel(handModel())
	if err != nil {
		t.Fatal(err)
	}
	want := handModelWant()
	if !reflect.DeepEqual(m, want) {
		t.Errorf("model mismatch")
		if !reflect.DeepEqual(m.Graph.Nodes, want.Graph.Nodes) {
			for i := range m.Graph.Nodes {
				t.Logf("node %d: got %+v", i, *m.Graph.Nodes[i])
				for _, a := range m.Graph.Nodes[i].Attributes {
					t.Logf("    %+v", *a)
				}
			}
		}
		for _, x := range m.Graph.Initializers {
			t.Logf("initializer %+v", *x)
		}
		t.Logf("got %+v\n graph %+v", *m, *m.Graph)
	}

	g := m.Graph
	wants := map[string][]float32{
		"w":  {1, 2, 3, 4, 5, 6, 7, 8},
		"b":  {0.5, -0.5},
		"fc": {0.25, 4},
	}
	for _, init := range g.Initializers {
		if init.Name == "shape" {
			got, err := init.Int64s()
			if err != nil || !reflect.DeepEqual(got, []int64{1, -1}) {
				t.Errorf("shape.Int64s() = %v, %v", got, err)
			}
			continue
		}
		got, err := init.Float32s()
		if err != nil || !reflect.DeepEqual(got, wants[init.Name]) {
			t.Errorf("%s.Float32s() = %v, %v; want %v", init.Name, got, err, wants[init.Name])
		}
	}
	if v, ok := m.OpsetVersion("ai.onnx"); !ok || v != 13 {
		t.Errorf("OpsetVersion(ai.onnx) = %d, %v", v, ok)
	}
	if v, ok := m.OpsetVersion("com.example"); !ok || v != 1 {
		t.Errorf("OpsetVersion(com.example) = %d, %v", v, ok)
	}
	if a := g.Nodes[0].Attr("pads"); a == nil || len(a.Ints) != 4 {
		t.Errorf("Attr(pads) = %+v", a)
	}
	if a := g.Nodes[0].Attr("nope"); a != nil {
		t.Errorf("Attr(nope) = %+v", a)
	}
	if s := g.Inputs[0].Type.Dims[0].String() + g.Inputs[0].Type.Dims[1].String() + (Dim{}).String(); s != "N1?" {
		t.Errorf("Dim strings = %q", s)
	}
}

// TestPackedUnpackedSame checks that every repeated scalar field decodes
// the same whether packed or unpacked, and that mixing both appends.
func TestPackedUnpackedSame(t *testing.T) {
	tensor := func(dims, i64, i32, u64 func(msg, protowire.Number) msg, fl func(msg) msg, dbl func(msg) msg) *Tensor {
		m := msg{}.str(8, "t")
		m = dims(m, 1)
		m = i64(m, 7)
		m = i32(m, 5)
		m = u64(m, 11)
		m = fl(m)
		m = dbl(m)
		g := msg{}.bytes(5, m)
		model, err := DecodeModel(msg{}.bytes(7, g))
		if err != nil {
			t.Fatal(err)
		}
		return model.Graph.Initializers[0]
	}
	unpacked := func(vs ...int64) func(msg, protowire.Number) msg {
		return func(m msg, n protowire.Number) msg { return m.ints(n, vs...) }
	}
	packed := func(vs ...int64) func(msg, protowire.Number) msg {
		return func(m msg, n protowire.Number) msg { return m.packedInts(n, vs...) }
	}
	mixed := func(vs ...int64) func(msg, protowire.Number) msg {
		return func(m msg, n protowire.Number) msg { return m.packedInts(n, vs[:1]...).ints(n, vs[1:]...) }
	}
	a := tensor(unpacked(2, 3), unpacked(-1, 1<<40), unpacked(-7, 7), unpacked(1, 2),
		func(m msg) msg { return m.floats(4, 1.5, -2) },
		func(m msg) msg { return m.fixed64(10, math.Float64bits(0.1)).fixed64(10, math.Float64bits(-3)) })
	b := tensor(packed(2, 3), packed(-1, 1<<40), packed(-7, 7), packed(1, 2),
		func(m msg) msg { return m.packedFloats(4, 1.5, -2) },
		func(m msg) msg { return m.packedDoubles(10, 0.1, -3) })
	c := tensor(mixed(2, 3), mixed(-1, 1<<40), mixed(-7, 7), mixed(1, 2),
		func(m msg) msg { return m.packedFloats(4, 1.5).floats(4, -2) },
		func(m msg) msg { return m.packedDoubles(10, 0.1).packedDoubles(10, -3) })
	want := &Tensor{Name: "t", Dims: []int64{2, 3}, Int64Data: []int64{-1, 1 << 40}, Int32Data: []int32{-7, 7},
		Uint64Data: []uint64{1, 2}, FloatData: []float32{1.5, -2}, DoubleData: []float64{0.1, -3}}
	for i, got := range []*Tensor{a, b, c} {
		if !reflect.DeepEqual(got, want) {
			t.Errorf("case %d: got %+v, want %+v", i, *got, *want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	node := func(attr msg) []byte {
		return msg{}.bytes(7, msg{}.bytes(1, msg{}.str(4, "Conv").bytes(5, attr)))
	}
	init := func(tensor msg) []byte { return msg{}.bytes(7, msg{}.bytes(5, tensor)) }
	badVarint := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}
	tests := []struct {
		name string
		in   []byte
		want string // substring of the error
	}{
		{"bad tag varint", badVarint, "ModelProto: bad field tag"},
		{"field number zero", []byte{0x00, 0x01}, "bad field tag"},
		{"truncated varint", msg{}.varint(1, 1<<40)[:3], "ModelProto: field 1"},
		{"graph wrong wire type", msg{}.varint(7, 1), "graph(7): wrong wire type 0"},
		{"length past end", msg{}.bytes(7, msg{}.str(2, "name"))[:4], "ModelProto: field 7"},
		{"nested length past end", msg{}.bytes(7, msg{}.bytes(1, msg{}.str(4, "Conv"))[:4]),
			"ModelProto: graph(7): GraphProto: field 1"},
		{"ir_version as bytes", msg{}.str(1, "8"), "ir_version(1): wrong wire type 2"},
		{"ints as fixed64", node(msg{}.str(1, "pads").fixed64(8, 1)),
			"GraphProto: node(1)[0]: NodeProto: attribute(5)[0]: AttributeProto: ints(8): wrong wire type 1"},
		{"packed ints bad varint", node(msg{}.str(1, "pads").bytes(8, []byte{0x01, 0x80})),
			"ints(8): packed element 1"},
		{"packed floats odd length", node(msg{}.str(1, "w").bytes(7, []byte{1, 2, 3})),
			"floats(7): packed length 3 is not a multiple of 4"},
		{"f as varint", node(msg{}.varint(2, 1)), "f(2): wrong wire type 0"},
		{"float_data wrong type", init(msg{}.str(8, "w").fixed64(4, 1)),
			`initializer(5)[0]: tensor "w": TensorProto: float_data(4): wrong wire type 1`},
		{"double packed odd length", init(msg{}.bytes(10, make([]byte, 9))), "double_data(10): packed length 9"},
		{"raw_data as varint", init(msg{}.varint(9, 0)), "raw_data(9): wrong wire type 0"},
		{"dims as fixed32", init(msg{}.fixed32(1, 0)), "dims(1): wrong wire type 5"},
		{"lone end group", []byte{0x0c}, "ModelProto: field 1"},
		{"reserved wire type", []byte{0x0e}, "ModelProto: field 1"},
		{"deep groups", deepGroups(protowire.DefaultRecursionLimit + 10), "ModelProto: field 1000"},
		{"external data", init(msg{}.str(8, "big.weight").varint(2, 1).ints(1, 4).varint(14, 1)),
			`tensor "big.weight": external data (data_location EXTERNAL) is not supported`},
		{"external data entries", init(msg{}.str(8, "w2").bytes(13, msg{}.str(1, "location").str(2, "w2.bin"))),
			`tensor "w2": external data`},
		{"value info dim", msg{}.bytes(7, msg{}.bytes(11, badDimValueInfo)),
			"input(11)[0]: ValueInfoProto: type(2): TypeProto: tensor_type(1): TypeProto.Tensor: shape(2): " +
				"TensorShapeProto: dim(1)[0]: Dimension: dim_value(1): wrong wire type 2"},
		{"opset version as bytes", msg{}.bytes(8, msg{}.str(2, "13")), "opset_import(8)[0]: OperatorSetIdProto: version(2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := DecodeModel(tt.in)
			if err == nil {
				t.Fatalf("no error; model %+v", m)
			}
			if !strings.HasPrefix(err.Error(), "onnxpb: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if m != nil {
				t.Errorf("non-nil model with error")
			}
		})
	}
}

// badDimValueInfo is a ValueInfoProto whose dim_value is a string.
var badDimValueInfo = func() msg {
	dim := msg{}.str(1, "N")
	shape := msg{}.bytes(1, dim)
	tensorType := msg{}.bytes(2, shape)
	typ := msg{}.bytes(1, tensorType)
	return msg{}.str(1, "x").bytes(2, typ)
}()

// deepGroups returns a message with n nested groups in an unknown field.
func deepGroups(n int) []byte {
	var b []byte
	for range n {
		b = protowire.AppendTag(b, 1000, protowire.StartGroupType)
	}
	for range n {
		b = protowire.AppendTag(b, 1000, protowire.EndGroupType)
	}
	return b
}

func TestDeepButValidGroupsSkipped(t *testing.T) {
	if _, err := DecodeModel(deepGroups(100)); err != nil {
		t.Fatal(err)
	}
}

func TestWrongWireTypeSentinel(t *testing.T) {
	_, err := DecodeModel(msg{}.varint(7, 1))
	if !errors.Is(err, errWireType) {
		t.Errorf("error %v does not wrap errWireType", err)
	}
}

// TestTruncatedPrefixes decodes every prefix of a valid model: none may
// panic, and cuts inside a field must fail.
func TestTruncatedPrefixes(t *testing.T) {
	full := handModel()
	fails := 0
	for n := range len(full) {
		if _, err := DecodeModel(full[:n]); err != nil {
			fails++
		}
	}
	// The graph is the last field, so every cut after its tag is inside it.
	if fails < len(full)/2 {
		t.Errorf("only %d of %d prefixes failed to decode", fails, len(full))
	}
}

func TestSparseInitializerReported(t *testing.T) {
	m, err := DecodeModel(msg{}.bytes(7, msg{}.bytes(15, msg{}.bytes(1, nil)).bytes(15, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Graph.Unsupported, []string{"sparse_initializer(15)"}) {
		t.Errorf("Unsupported = %v", m.Graph.Unsupported)
	}
}

func TestNonTensorTypeIsNil(t *testing.T) {
	seq := msg{}.bytes(4, msg{}.bytes(1, msg{}.bytes(1, msg{}.varint(1, 1))))
	m, err := DecodeModel(msg{}.bytes(7, msg{}.bytes(11, msg{}.str(1, "s").bytes(2, seq))))
	if err != nil {
		t.Fatal(err)
	}
	if in := m.Graph.Inputs[0]; in.Name != "s" || in.Type != nil {
		t.Errorf("input = %+v", in)
	}
}

func TestEmptyModel(t *testing.T) {
	m, err := DecodeModel(nil)
	if err != nil || m == nil || m.Graph != nil {
		t.Fatalf("DecodeModel(nil) = %+v, %v", m, err)
	}
}
