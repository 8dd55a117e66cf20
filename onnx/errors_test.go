package onnx_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xai-go/lrp/onnx"
)

func readModel(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata/models", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBadModels(t *testing.T) {
	vgg := readModel(t, "vgg16.onnx")
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "no graph"},
		{"truncated", vgg[:len(vgg)/2], "malformed"},
		{"garbage", []byte("this is not an onnx file at all"), "malformed"},
		// Renaming operators keeps the encoding valid: both unknown ones are
		// reported at once, with the node names.
		{"unsupported", bytes.ReplaceAll(bytes.ReplaceAll(vgg, []byte("Relu"), []byte("Relx")), []byte("Gemm"), []byte("Gemx")),
			`unsupported operator Relx`},
	}
	for _, c := range cases {
		_, err := onnx.Decode(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	_, err := onnx.Decode(cases[3].data)
	if !strings.Contains(err.Error(), "Gemx") || !strings.Contains(err.Error(), `"/features/features.1/Relx"`) {
		t.Errorf("not every unsupported node is named: %v", err)
	}
	if _, err := onnx.Load("testdata/models/does-not-exist.onnx"); err == nil {
		t.Error("missing file accepted")
	}
}

func TestWrongInputShape(t *testing.T) {
	g, err := onnx.Decode(readModel(t, "resnet18.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	for _, shape := range [][]int{{1, 3, 32, 32}, {1, 1, 64, 64}, {3, 64, 64}} {
		if err := g.CheckInput(shape); err == nil {
			t.Errorf("input shape %v accepted", shape)
		}
	}
	if err := g.CheckInput([]int{5, 3, 64, 64}); err != nil {
		t.Errorf("batch of 5 refused: %v", err)
	}
}

// FuzzDecode checks that no file makes the importer panic. Seeds are the
// small single-operator golden models.
func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/models/op_*.onnx")
	for _, s := range seeds {
		f.Add(readModel(f, filepath.Base(s)))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<20 {
			t.Skip()
		}
		g, err := onnx.Decode(b)
		if err != nil {
			return
		}
		in := append([]int(nil), g.InputShape...)
		in[0] = 1
		if g.CheckInput(in) == nil && len(g.Nodes) < 64 {
			shapes, _ := g.Shapes(in)
			total := 0
			for _, s := range shapes {
				n := 1
				for _, d := range s {
					n *= d
				}
				total += n
			}
			if total < 1<<20 {
				g.Run(zeros(in))
			}
		}
	})
}
