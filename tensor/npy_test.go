package tensor

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNpyRoundTrip(t *testing.T) {
	nan := float32(math.NaN())
	tests := []*T{
		FromData([]float32{2.5}),
		FromData([]float32{1, -2, 3}, 3),
		FromData([]float32{1, 2, 3, 4, 5, 6}, 2, 3),
		FromData([]float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), nan, math.SmallestNonzeroFloat32, math.MaxFloat32}, 1, 2, 3),
		New(0, 3),
		New(2, 3, 4, 5),
		New(1, 3, 224, 224), // larger than one conversion chunk
	}
	for i := range tests[len(tests)-1].Data {
		tests[len(tests)-1].Data[i] = float32(i) * 0.5
	}
	for _, want := range tests {
		t.Run(want.String(), func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteNpy(&buf, want); err != nil {
				t.Fatal(err)
			}
			b := buf.Bytes()
			if b[6] != 1 || b[7] != 0 {
				t.Errorf("version %d.%d, want 1.0", b[6], b[7])
			}
			hlen := int(binary.LittleEndian.Uint16(b[8:]))
			if (10+hlen)%64 != 0 || b[10+hlen-1] != '\n' {
				t.Errorf("header of %d bytes: data at %d is not 64-aligned or header does not end in newline", hlen, 10+hlen)
			}
			if len(b) != 10+hlen+4*len(want.Data) {
				t.Errorf("file has %d bytes, want %d", len(b), 10+hlen+4*len(want.Data))
			}
			got, err := ReadNpy(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			assertSameBits(t, got, want)
		})
	}
}

func assertSameBits(t *testing.T, got, want *T) {
	t.Helper()
	if !SameShape(got.Shape, want.Shape) || got.Shape == nil {
		t.Fatalf("shape %v, want %v", got.Shape, want.Shape)
	}
	if len(got.Data) != len(want.Data) {
		t.Fatalf("%d elements, want %d", len(got.Data), len(want.Data))
	}
	for i := range want.Data {
		if math.Float32bits(got.Data[i]) != math.Float32bits(want.Data[i]) {
			t.Fatalf("element %d = %v, want %v", i, got.Data[i], want.Data[i])
		}
	}
}

func TestWriteNpyHeaderText(t *testing.T) {
	for _, tt := range []struct {
		shape []int
		want  string
	}{
		{nil, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }"},
		{[]int{5}, "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }"},
		{[]int{2, 3}, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"},
	} {
		var buf bytes.Buffer
		if err := WriteNpy(&buf, New(tt.shape...)); err != nil {
			t.Fatal(err)
		}
		hlen := int(binary.LittleEndian.Uint16(buf.Bytes()[8:]))
		header := string(buf.Bytes()[10 : 10+hlen])
		if strings.TrimRight(header, " \n") != tt.want {
			t.Errorf("header %q, want %q", header, tt.want)
		}
	}
}

func TestWriteNpyErrors(t *testing.T) {
	for _, tt := range []struct {
		t    *T
		want string
	}{
		{nil, "npy: nil tensor"},
		{&T{Shape: []int{2, 2}, Data: make([]float32, 3)}, "npy: tensor has 3 elements, its shape [2 2] needs 4"},
		{&T{Shape: []int{-1}, Data: nil}, "npy: negative dimension"},
	} {
		if err := WriteNpy(io.Discard, tt.t); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("WriteNpy error %v, want %q", err, tt.want)
		}
	}
	errW := errors.New("disk full")
	if err := WriteNpy(failWriter{errW}, New(2)); !errors.Is(err, errW) || !strings.HasPrefix(err.Error(), "npy: ") {
		t.Errorf("WriteNpy to failing writer: %v", err)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

type expectedNpy struct {
	Files map[string]struct {
		Dtype   string   `json:"dtype"`
		Fortran bool     `json:"fortran_order"`
		Version []int    `json:"version"`
		Shape   []int    `json:"shape"`
		Bits    []uint32 `json:"bits"`
	} `json:"files"`
	Reject map[string]string `json:"reject"`
}

// TestReadNumpyFiles reads the files written by testdata/gen_npy.py with
// numpy and compares them with what numpy itself read back.
func TestReadNumpyFiles(t *testing.T) {
	dir := filepath.Join("testdata", "npy")
	js, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp expectedNpy
	if err := json.Unmarshal(js, &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp.Files) < 20 {
		t.Fatalf("only %d files in expected.json", len(exp.Files))
	}
	for name, e := range exp.Files {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".npy")
			got, err := LoadNpy(path)
			if err != nil {
				t.Fatal(err)
			}
			want := &T{Shape: e.Shape, Data: make([]float32, len(e.Bits))}
			for i, b := range e.Bits {
				want.Data[i] = math.Float32frombits(b)
			}
			assertSameBits(t, got, want)
			raw, _ := os.ReadFile(path)
			if int(raw[6]) != e.Version[0] {
				t.Errorf("file version %d, expected.json says %v", raw[6], e.Version)
			}
		})
	}
	for name, want := range exp.Reject {
		t.Run("reject_"+name, func(t *testing.T) {
			path := filepath.Join(dir, name+".npy")
			_, err := LoadNpy(path)
			if err == nil || !strings.HasPrefix(err.Error(), "npy: "+path+": ") || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v, want %q", err, want)
			}
		})
	}
}

// npyFile builds a .npy file with the given version, raw header text and data.
func npyFile(major byte, header string, data []byte) []byte {
	b := []byte(npyMagic)
	b = append(b, major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(header)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(header)))
	}
	b = append(b, header...)
	return append(b, data...)
}

func f32bytes(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func TestReadNpyHeaderVariants(t *testing.T) {
	data := f32bytes(1, 2, 3, 4, 5, 6)
	for _, tt := range []struct {
		header string
		shape  []int
	}{
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", []int{2, 3}},
		{`{"descr":"<f4","fortran_order":False,"shape":(2,3)}`, []int{2, 3}},
		{"{'shape': (6,), 'fortran_order': False, 'descr': '<f4'}    \n", []int{6}},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }\n", []int{2, 3}}, // Python 2
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 1, 3,), }\n", []int{1, 2, 1, 3}},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (), }", []int{}},
		{"{'descr': '<f4',\n 'fortran_order': False,\t'shape': ( 6 , ) }\r\n", []int{6}},
		{"{'descr': '<f4', 'fortran_order': True, 'shape': (6,), }", []int{6}},
	} {
		for _, major := range []byte{1, 2, 3} {
			got, err := ReadNpy(bytes.NewReader(npyFile(major, tt.header, data)))
			if err != nil {
				t.Errorf("v%d header %q: %v", major, tt.header, err)
				continue
			}
			if !SameShape(got.Shape, tt.shape) || got.Shape == nil {
				t.Errorf("v%d header %q: shape %v, want %v", major, tt.header, got.Shape, tt.shape)
			}
		}
	}
}

func TestReadNpyFortran(t *testing.T) {
	// Column-major 2x3 [[1 2 3] [4 5 6]] is stored 1 4 2 5 3 6.
	h := "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }"
	got, err := ReadNpy(bytes.NewReader(npyFile(1, h, f32bytes(1, 4, 2, 5, 3, 6))))
	if err != nil {
		t.Fatal(err)
	}
	assertSameBits(t, got, FromData([]float32{1, 2, 3, 4, 5, 6}, 2, 3))
	h = "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 0, 3), }"
	if got, err = ReadNpy(bytes.NewReader(npyFile(1, h, nil))); err != nil || len(got.Data) != 0 {
		t.Errorf("empty fortran array: %v, %v", got, err)
	}
}

func TestReadNpyErrors(t *testing.T) {
	good := "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
	data := f32bytes(1, 2)
	hdr := func(h string) []byte { return npyFile(1, h, data) }
	long := npyFile(2, "", nil)
	binary.LittleEndian.PutUint32(long[8:], 64<<10+1)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "reading magic: unexpected EOF"},
		{"bad magic", []byte("\x93NUMPX\x01\x00\x00\x00"), "not a .npy file"},
		{"version 4", npyFile(1, good, data)[:6:6], "reading magic"},
		{"unknown version", append([]byte(npyMagic), 4, 0, 0, 0), "unsupported format version 4.0"},
		{"minor version", append([]byte(npyMagic), 1, 1, 0, 0), "unsupported format version 1.1"},
		{"no header length", []byte(npyMagic + "\x01\x00\x05"), "reading header length"},
		{"header too long", long, "header length 65537 exceeds the limit"},
		{"header truncated", npyFile(1, good, nil)[:30], "reading 57-byte header: unexpected EOF"},
		{"data truncated", npyFile(1, good, data[:7]), "data truncated: 7 of 8 bytes present"},
		{"data missing", npyFile(1, good, nil), "data truncated: 0 of 8 bytes present"},
		{"huge shape, no data", hdr("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000,), }"), "data truncated: 8 of 8000000000 bytes"},
		{"too many elements", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 32768, 2), }"), "more than 2147483647 elements"},
		{"dimension overflow", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }"), "dimension 99999999999999999999999 is larger"},
		{"negative dimension", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }"), "unexpected character '-'"},
		{"not a tuple", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (2), }"), "(2) is not a tuple"},
		{"list shape", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': [2], }"), "expected '(' to start the shape tuple"},
		{"float dim", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,), }"), "unexpected character '.'"},
		{"missing key", hdr("{'descr': '<f4', 'shape': (2,), }"), `missing key "fortran_order"`},
		{"duplicate key", hdr("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"), `duplicate key "descr"`},
		{"unknown key", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}"), `unexpected key "x"`},
		{"bool as int", hdr("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }"), "fortran_order: expected True or False"},
		{"lowercase bool", hdr("{'descr': '<f4', 'fortran_order': false, 'shape': (2,), }"), "expected True or False, found 'false'"},
		{"unterminated string", hdr("{'descr': '<f4, 'fortran_order': False}"), "expected ',' or '}'"},
		{"unterminated at end", hdr("{'descr': '<f4"), "unterminated string at offset 10"},
		{"missing colon", hdr("{'descr' '<f4', 'fortran_order': False, 'shape': (2,), }"), `expected ':' after key "descr"`},
		{"missing comma", hdr("{'descr': '<f4' 'fortran_order': False, 'shape': (2,), }"), `expected ',' or '}' after "descr" value`},
		{"unclosed dict", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), "), "expected a quoted key, found end of header"},
		{"trailing junk", hdr(good + " x"), "unexpected 'x' after '}'"},
		{"trailing NUL", hdr(good + "\x00"), "unexpected character '\\x00'"},
		{"not a dict", hdr("descr"), "expected '{' at start"},
		{"empty header", hdr(""), "expected '{' at start, found end of header"},
		{"unquoted key", hdr("{descr: '<f4'}"), "expected a quoted key, found 'descr'"},
		{"structured", hdr("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }"), "structured dtypes"},
		{"object dtype", hdr("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }"), `unsupported dtype "|O"`},
		{"complex dtype", hdr("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }"), `unsupported dtype "<c8"`},
		{"f3 dtype", hdr("{'descr': '<f3', 'fortran_order': False, 'shape': (2,), }"), `unsupported dtype "<f3"`},
		{"native order", hdr("{'descr': '=f4', 'fortran_order': False, 'shape': (2,), }"), `byte order '=' is ambiguous`},
		{"bad order", hdr("{'descr': '!f4', 'fortran_order': False, 'shape': (2,), }"), `unknown byte order '!'`},
		{"number junk", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (2x,), }"), "bad number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadNpy(bytes.NewReader(tt.in))
			if err == nil {
				t.Fatalf("no error, got %v", got)
			}
			if !strings.HasPrefix(err.Error(), "npy: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// TestReadNpyDoesNotOverread checks that ReadNpy leaves the bytes after
// the array in the reader, so that arrays can be read back to back.
func TestReadNpyDoesNotOverread(t *testing.T) {
	var buf bytes.Buffer
	a, b := FromData([]float32{1, 2}, 2), FromData([]float32{3, 4, 5}, 3, 1)
	if err := WriteNpy(&buf, a); err != nil {
		t.Fatal(err)
	}
	if err := WriteNpy(&buf, b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []*T{a, b} {
		got, err := ReadNpy(&buf)
		if err != nil {
			t.Fatal(err)
		}
		assertSameBits(t, got, want)
	}
	if buf.Len() != 0 {
		t.Errorf("%d bytes left", buf.Len())
	}
}

func TestSaveLoadNpy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.npy")
	want := FromData([]float32{1, 2, 3, 4, 5, 6}, 3, 2)
	if err := SaveNpy(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := LoadNpy(path)
	if err != nil {
		t.Fatal(err)
	}
	assertSameBits(t, got, want)
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("stat: %v, %v", fi, err)
	}

	// A failed save leaves the old file and no temporary file.
	if err := SaveNpy(path, &T{Shape: []int{4}, Data: []float32{1}}); err == nil ||
		!strings.HasPrefix(err.Error(), "npy: cannot write "+path+": ") {
		t.Errorf("SaveNpy of a bad tensor: %v", err)
	}
	if got, err := LoadNpy(path); err != nil || !SameShape(got.Shape, want.Shape) {
		t.Errorf("old file damaged: %v, %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 { // before "no/such" is created below
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only x.npy", names)
	}

	if _, err := LoadNpy(filepath.Join(dir, "missing.npy")); err == nil || !strings.HasPrefix(err.Error(), "npy: open ") ||
		!errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadNpy(missing) error %v", err)
	}
	// Missing parent directories are created (mode and refusals are
	// tested in internal/outfile).
	if err := SaveNpy(filepath.Join(dir, "no", "such", "dir.npy"), want); err != nil {
		t.Errorf("SaveNpy into missing dir: %v", err)
	}
	// A truncated file is reported with its path.
	raw, _ := os.ReadFile(path)
	short := filepath.Join(dir, "short.npy")
	if err := os.WriteFile(short, raw[:len(raw)-1], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadNpy(short); err == nil || !strings.Contains(err.Error(), "npy: "+short+": data truncated: 23 of 24 bytes") {
		t.Errorf("LoadNpy(truncated) error %v", err)
	}
	// Relative path in the current directory.
	t.Chdir(dir)
	if err := SaveNpy("rel.npy", want); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadNpy("rel.npy"); err != nil {
		t.Fatal(err)
	}
}

func TestFortranToC(t *testing.T) {
	// A 2x3x4 array whose value at (i, j, k) is 100i+10j+k, stored in
	// column-major order.
	shape := []int{2, 3, 4}
	var f []float32
	for k := range 4 {
		for j := range 3 {
			for i := range 2 {
				f = append(f, float32(100*i+10*j+k))
			}
		}
	}
	c := fortranToC(f, shape)
	n := 0
	for i := range 2 {
		for j := range 3 {
			for k := range 4 {
				if c[n] != float32(100*i+10*j+k) {
					t.Fatalf("element (%d,%d,%d) = %v", i, j, k, c[n])
				}
				n++
			}
		}
	}
}

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the committed seed corpus in testdata/fuzz/FuzzReadNpy")

// npySeeds returns the named inputs of the committed FuzzReadNpy corpus.
func npySeeds() map[string][]byte {
	var v1 bytes.Buffer
	_ = WriteNpy(&v1, FromData([]float32{1, 2, 3, 4, 5, 6}, 2, 3))
	return map[string][]byte{
		"v1_f4_2x3":      v1.Bytes(),
		"v2_fortran_f8":  npyFile(2, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }\n", make([]byte, 32)),
		"v3_be_i4":       npyFile(3, "{'descr': '>i4', 'fortran_order': False, 'shape': (3,), }\n", make([]byte, 12)),
		"v1_u1_scalar":   npyFile(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (), }\n", []byte{7}),
		"v1_f2_py2":      npyFile(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2L,), }\n", []byte{0, 0x3c, 0, 0xc0}),
		"truncated":      v1.Bytes()[:v1.Len()-3],
		"huge_shape":     npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 32767), }\n", nil),
		"bad_header":     npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,\n", nil),
		"structured":     npyFile(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n", make([]byte, 4)),
		"header_too_big": append([]byte(npyMagic), 2, 0, 0xff, 0xff, 0xff, 0x7f),
	}
}

func FuzzReadNpy(f *testing.F) {
	for _, b := range npySeeds() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ReadNpy(bytes.NewReader(b))
		if err != nil {
			if got != nil || !strings.HasPrefix(err.Error(), "npy: ") {
				t.Fatalf("bad error result %v, %v", got, err)
			}
			return
		}
		if len(got.Data) != Size(got.Shape) {
			t.Fatalf("%d elements for shape %v", len(got.Data), got.Shape)
		}
		// What was read must survive a write and a second read unchanged.
		var buf bytes.Buffer
		if err := WriteNpy(&buf, got); err != nil {
			t.Fatal(err)
		}
		again, err := ReadNpy(&buf)
		if err != nil {
			t.Fatal(err)
		}
		assertSameBits(t, again, got)
	})
}

// TestWriteNpySeedCorpus rewrites the committed FuzzReadNpy corpus when run
// with -update-corpus; otherwise it checks that it is present.
func TestWriteNpySeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzReadNpy")
	seeds := npySeeds()
	if !*updateCorpus {
		for name := range seeds {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				t.Errorf("seed corpus file missing (run go test ./tensor -run TestWriteNpySeedCorpus -args -update-corpus): %v", err)
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
