package onnxpb

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The files compared here are written by testdata/gen.py with the onnx
// Python package; expected.json is what onnx itself reads back from them.

type expectedTensor struct {
	Name     string    `json:"name"`
	DataType string    `json:"data_type"`
	Dims     []int64   `json:"dims"`
	Raw      bool      `json:"raw"`
	Values   []float64 `json:"values"`
}

type expectedAttr struct {
	Name  string          `json:"name"`
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

type expectedValueInfo struct {
	Name     string `json:"name"`
	ElemType int32  `json:"elem_type"`
	Dims     []any  `json:"dims"` // nil: no shape; numbers and strings otherwise
}

type expectedModel struct {
	IRVersion    int64  `json:"ir_version"`
	ProducerName string `json:"producer_name"`
	OpsetImport  []struct {
		Domain  string `json:"domain"`
		Version int64  `json:"version"`
	} `json:"opset_import"`
	GraphName string `json:"graph_name"`
	Nodes     []struct {
		Name       string         `json:"name"`
		OpType     string         `json:"op_type"`
		Domain     string         `json:"domain"`
		Inputs     []string       `json:"inputs"`
		Outputs    []string       `json:"outputs"`
		Attributes []expectedAttr `json:"attributes"`
	} `json:"nodes"`
	Initializers []expectedTensor    `json:"initializers"`
	Inputs       []expectedValueInfo `json:"inputs"`
	Outputs      []expectedValueInfo `json:"outputs"`
	ValueInfo    []expectedValueInfo `json:"value_info"`
}

func TestOnnxGenerated(t *testing.T) {
	js, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(js, &all); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"cnn.onnx", "attrs.onnx"} {
		t.Run(file, func(t *testing.T) {
			var want expectedModel
			if err := json.Unmarshal(all[file], &want); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			m, err := DecodeModel(b)
			if err != nil {
				t.Fatal(err)
			}
			compareModel(t, m, &want)
		})
	}
}

func compareModel(t *testing.T, m *Model, want *expectedModel) {
	t.Helper()
	if m.IRVersion != want.IRVersion || m.ProducerName != want.ProducerName {
		t.Errorf("ir_version, producer = %d, %q; want %d, %q", m.IRVersion, m.ProducerName, want.IRVersion, want.ProducerName)
	}
	if len(m.OpsetImports) != len(want.OpsetImport) {
		t.Fatalf("opset imports %v, want %v", m.OpsetImports, want.OpsetImport)
	}
	for i, o := range want.OpsetImport {
		if m.OpsetImports[i] != (OperatorSetID{o.Domain, o.Version}) {
			t.Errorf("opset import %d = %v, want %v", i, m.OpsetImports[i], o)
		}
	}
	g := m.Graph
	if g == nil {
		t.Fatal("no graph")
	}
	if g.Name != want.GraphName {
		t.Errorf("graph name %q, want %q", g.Name, want.GraphName)
	}
	if len(g.Nodes) != len(want.Nodes) {
		t.Fatalf("%d nodes, want %d", len(g.Nodes), len(want.Nodes))
	}
	for i, wn := range want.Nodes {
		n := g.Nodes[i]
		if n.Name != wn.Name || n.OpType != wn.OpType || n.Domain != wn.Domain ||
			!equalStrings(n.Inputs, wn.Inputs) || !equalStrings(n.Outputs, wn.Outputs) {
			t.Errorf("node %d = %+v, want %+v", i, *n, wn)
		}
		if len(n.Attributes) != len(wn.Attributes) {
			t.Errorf("node %q: %d attributes, want %d", n.Name, len(n.Attributes), len(wn.Attributes))
			continue
		}
		for j, wa := range wn.Attributes {
			compareAttr(t, n.Name, n.Attributes[j], wa)
		}
	}
	if len(g.Initializers) != len(want.Initializers) {
		t.Fatalf("%d initializers, want %d", len(g.Initializers), len(want.Initializers))
	}
	for i, wt := range want.Initializers {
		compareTensor(t, g.Initializers[i], wt)
	}
	compareValueInfos(t, "input", g.Inputs, want.Inputs)
	compareValueInfos(t, "output", g.Outputs, want.Outputs)
	compareValueInfos(t, "value_info", g.ValueInfo, want.ValueInfo)
}

func equalStrings(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

func compareAttr(t *testing.T, node string, a *Attribute, want expectedAttr) {
	t.Helper()
	if a.Name != want.Name || a.Type.String() != want.Type {
		t.Errorf("node %q: attribute %q of type %v, want %q of type %s", node, a.Name, a.Type, want.Name, want.Type)
		return
	}
	var got any
	switch a.Type {
	case AttrFloat:
		got = a.F
	case AttrInt:
		got = a.I
	case AttrString:
		got = string(a.S)
	case AttrFloats:
		got = a.Floats
	case AttrInts:
		got = a.Ints
	case AttrStrings:
		var ss []string
		for _, s := range a.Strings {
			ss = append(ss, string(s))
		}
		got = ss
	case AttrTensor:
		var wt expectedTensor
		if err := json.Unmarshal(want.Value, &wt); err != nil {
			t.Fatal(err)
		}
		if a.T == nil {
			t.Errorf("node %q: attribute %q: no tensor", node, a.Name)
			return
		}
		compareTensor(t, a.T, wt)
		return
	case AttrGraph:
		if !reflect.DeepEqual(a.Unsupported, []string{"g(6)"}) {
			t.Errorf("node %q: attribute %q: Unsupported = %v", node, a.Name, a.Unsupported)
		}
		return
	default:
		t.Errorf("node %q: attribute %q: unexpected type %v", node, a.Name, a.Type)
		return
	}
	// Decode the expected value into a new value of the got type.
	wv := reflect.New(reflect.TypeOf(got))
	if err := json.Unmarshal(want.Value, wv.Interface()); err != nil {
		t.Fatalf("node %q: attribute %q: %v", node, a.Name, err)
	}
	if !reflect.DeepEqual(got, wv.Elem().Interface()) {
		t.Errorf("node %q: attribute %q = %v, want %s", node, a.Name, got, want.Value)
	}
}

func compareTensor(t *testing.T, x *Tensor, want expectedTensor) {
	t.Helper()
	if x.Name != want.Name || x.DataType.String() != want.DataType || x.HasRawData != want.Raw ||
		len(x.Dims) != len(want.Dims) || (len(x.Dims) > 0 && !reflect.DeepEqual(x.Dims, want.Dims)) {
		t.Errorf("tensor %q %v dims %v raw %v; want %q %s dims %v raw %v",
			x.Name, x.DataType, x.Dims, x.HasRawData, want.Name, want.DataType, want.Dims, want.Raw)
		return
	}
	f, err := x.Float32s()
	if err != nil {
		t.Errorf("tensor %q: Float32s: %v", x.Name, err)
		return
	}
	if len(f) != len(want.Values) {
		t.Errorf("tensor %q: %d values, want %d", x.Name, len(f), len(want.Values))
		return
	}
	for i, v := range want.Values {
		if f[i] != float32(v) {
			t.Errorf("tensor %q: value %d = %v, want %v", x.Name, i, f[i], float32(v))
		}
	}
	switch x.DataType {
	case Int64, Int32, Int8, Uint8:
		ints, err := x.Int64s()
		if err != nil {
			t.Errorf("tensor %q: Int64s: %v", x.Name, err)
			return
		}
		for i, v := range want.Values {
			if ints[i] != int64(v) {
				t.Errorf("tensor %q: int value %d = %v, want %v", x.Name, i, ints[i], int64(v))
			}
		}
	}
}

func compareValueInfos(t *testing.T, what string, got []*ValueInfo, want []expectedValueInfo) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d %s values, want %d", len(got), what, len(want))
		return
	}
	for i, w := range want {
		v := got[i]
		if v.Name != w.Name || v.Type == nil || int32(v.Type.ElemType) != w.ElemType || v.Type.HasShape != (w.Dims != nil) {
			t.Errorf("%s %d = %+v (type %+v), want %+v", what, i, *v, v.Type, w)
			continue
		}
		if len(v.Type.Dims) != len(w.Dims) {
			t.Errorf("%s %q: dims %v, want %v", what, v.Name, v.Type.Dims, w.Dims)
			continue
		}
		for j, wd := range w.Dims {
			d := v.Type.Dims[j]
			switch wd := wd.(type) {
			case string:
				if d.HasValue || d.Param != wd {
					t.Errorf("%s %q: dim %d = %v, want %q", what, v.Name, j, d, wd)
				}
			case float64:
				if !d.HasValue || float64(d.Value) != wd {
					t.Errorf("%s %q: dim %d = %v, want %v", what, v.Name, j, d, wd)
				}
			}
		}
	}
}
