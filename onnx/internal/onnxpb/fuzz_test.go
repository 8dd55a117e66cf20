package onnxpb

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the committed seed corpus in testdata/fuzz/FuzzDecodeModel")

// seedModels returns the named inputs of the committed seed corpus: valid
// models built by the tests and a few malformed ones.
func seedModels() map[string][]byte {
	full := handModel()
	return map[string][]byte{
		"hand_model":      full,
		"hand_truncated":  full[:len(full)*2/3],
		"packed_unpacked": msg{}.bytes(7, msg{}.bytes(5, msg{}.str(8, "t").varint(2, 7).ints(1, 2).packedInts(7, 1, -1))),
		"fp16_raw":        msg{}.bytes(7, msg{}.bytes(5, msg{}.str(8, "h").varint(2, 10).packedInts(1, 2).bytes(9, []byte{0, 0x3c, 0, 0xc0}))),
		"dims_overflow":   msg{}.bytes(7, msg{}.bytes(5, msg{}.varint(2, 1).ints(1, 1<<40, 1<<40).bytes(9, nil))),
		"external":        msg{}.bytes(7, msg{}.bytes(5, msg{}.str(8, "e").varint(14, 1))),
		"bad_varint":      {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"wrong_wire_type": msg{}.fixed32(7, 1),
		"sparse_and_g":    msg{}.bytes(7, msg{}.bytes(15, nil).bytes(1, msg{}.bytes(5, msg{}.bytes(6, msg{}.str(2, "sub"))))),
	}
}

// exercise calls every accessor of a decoded model, which must not panic.
func exercise(m *Model) {
	m.OpsetVersion("")
	if m.Graph == nil {
		return
	}
	tensor := func(t *Tensor) {
		if n, err := t.NumElements(); err == nil && n > MaxElements {
			panic(fmt.Sprintf("NumElements %d > MaxElements", n))
		}
		if f, err := t.Float32s(); err == nil {
			if n, _ := t.NumElements(); len(f) != n {
				panic(fmt.Sprintf("Float32s returned %d values for %d elements", len(f), n))
			}
		}
		if v, err := t.Int64s(); err == nil {
			if n, _ := t.NumElements(); len(v) != n {
				panic(fmt.Sprintf("Int64s returned %d values for %d elements", len(v), n))
			}
		}
	}
	for _, t := range m.Graph.Initializers {
		tensor(t)
	}
	for _, n := range m.Graph.Nodes {
		n.Attr("x")
		for _, a := range n.Attributes {
			_ = a.Type.String()
			if a.T != nil {
				tensor(a.T)
			}
		}
	}
	for _, v := range m.Graph.Inputs {
		if v.Type != nil {
			for _, d := range v.Type.Dims {
				_ = d.String()
			}
		}
	}
}

func FuzzDecodeModel(f *testing.F) {
	// The committed corpus in testdata/fuzz/FuzzDecodeModel is added by the
	// fuzzing engine; these seeds keep the target useful without it.
	for _, b := range seedModels() {
		f.Add(b)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.onnx"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeModel(b)
		if err != nil {
			if m != nil {
				t.Fatal("non-nil model with error")
			}
			return
		}
		exercise(m)
	})
}

// TestWriteSeedCorpus rewrites the committed seed corpus when run with
// -update-corpus; otherwise it checks that the corpus is present.
func TestWriteSeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeModel")
	seeds := seedModels()
	if !*updateCorpus {
		for name := range seeds {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				t.Errorf("seed corpus file missing (run go test -run TestWriteSeedCorpus -update-corpus): %v", err)
			}
		}
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range seeds {
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
