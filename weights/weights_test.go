package weights

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/xai-go/lrp/tensor"
)

// expected mirrors testdata/expected.json, written by testdata/gen.py.
type expected struct {
	Files  map[string]map[string]expectedTensor `json:"files"`
	Errors map[string]string                    `json:"errors"`
}

type expectedTensor struct {
	Shape     []int    `json:"shape"`
	Dtype     string   `json:"dtype"`
	FirstBits []uint32 `json:"first_bits"`
	Sum       float64  `json:"sum"`
	SHA256    string   `json:"sha256"`
}

func loadExpected(t *testing.T) *expected {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return &e
}

// float32Bytes returns the little-endian bytes of data.
func float32Bytes(data []float32) []byte {
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// TestLoadExpected checks every tensor of every good test file against the
// values PyTorch computed, bit for bit (through a SHA-256 of all values).
func TestLoadExpected(t *testing.T) {
	e := loadExpected(t)
	if len(e.Files) < 10 {
		t.Fatalf("expected.json lists only %d files", len(e.Files))
	}
	for file, want := range e.Files {
		t.Run(file, func(t *testing.T) {
			got, err := Load(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Errorf("%d tensors %v, want %d", len(got), sortedKeys(got), len(want))
			}
			for name, w := range want {
				g, ok := got[name]
				if !ok {
					t.Errorf("tensor %q missing", name)
					continue
				}
				if !equalShape(g.Shape, w.Shape) {
					t.Errorf("%s: shape %v, want %v", name, g.Shape, w.Shape)
					continue
				}
				if len(g.Data) != tensor.Size(g.Shape) {
					t.Errorf("%s: %d values for shape %v", name, len(g.Data), g.Shape)
					continue
				}
				for i, bits := range w.FirstBits {
					if got := math.Float32bits(g.Data[i]); got != bits {
						t.Errorf("%s[%d] = %v (bits %#x), want bits %#x", name, i, g.Data[i], got, bits)
					}
				}
				sum := 0.0
				for _, v := range g.Data {
					sum += float64(v)
				}
				if math.Abs(sum-w.Sum) > 1e-9*(1+math.Abs(w.Sum)) {
					t.Errorf("%s: sum %v, want %v", name, sum, w.Sum)
				}
				h := sha256.Sum256(float32Bytes(g.Data))
				if hex.EncodeToString(h[:]) != w.SHA256 {
					t.Errorf("%s (%s): values differ from PyTorch's", name, w.Dtype)
				}
			}
		})
	}
}

// sortedKeys returns the names of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestLoadRefused checks the files that must be refused: pickles that name
// os.system, builtins.eval or an nn.Module class.
func TestLoadRefused(t *testing.T) {
	e := loadExpected(t)
	if len(e.Errors) == 0 {
		t.Fatal("expected.json lists no bad files")
	}
	for file, want := range e.Errors {
		path := filepath.Join("testdata", file)
		got, err := Load(path)
		if err == nil {
			t.Errorf("%s: loaded %d tensors, want an error", file, len(got))
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "weights: "+path+": ") || !strings.Contains(msg, want) || !errors.Is(err, ErrForbiddenGlobal) {
			t.Errorf("%s: error %q, want one starting with %q, containing %s and wrapping ErrForbiddenGlobal", file, msg, "weights: "+path, want)
		}
	}
}

// TestFormatsAgree checks that the same state_dict reads the same from the
// zip, legacy, protocol-4 and safetensors files.
func TestFormatsAgree(t *testing.T) {
	ref, err := Load("testdata/net.pth")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"net_legacy.pth", "net_proto4.pth", "net.safetensors"} {
		got, err := Load(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		for name, r := range ref {
			g := got[name]
			if g == nil || !bytes.Equal(float32Bytes(g.Data), float32Bytes(r.Data)) || !equalShape(g.Shape, r.Shape) {
				t.Errorf("%s: %s differs from net.pth", f, name)
			}
		}
	}
	// num_batches_tracked is an int64 scalar, returned as a float32 scalar.
	nbt := ref["1.num_batches_tracked"]
	if nbt == nil || len(nbt.Shape) != 0 || len(nbt.Data) != 1 || nbt.Data[0] != 3 {
		t.Errorf("num_batches_tracked = %+v, want scalar 3", nbt)
	}
}

// checkResult checks the contract of Read for any input: an error that
// starts with "weights: " and no tensors, or consistent tensors.
func checkResult(t *testing.T, m map[string]*tensor.T, err error) {
	t.Helper()
	if err != nil {
		if m != nil || !strings.HasPrefix(err.Error(), "weights: ") {
			t.Fatalf("bad error result %v, %v", m != nil, err)
		}
		return
	}
	for name, v := range m {
		if v == nil || len(v.Data) != tensor.Size(v.Shape) {
			t.Fatalf("tensor %q inconsistent", name)
		}
	}
}

func readBytes(b []byte) (map[string]*tensor.T, error) {
	return Read(bytes.NewReader(b), int64(len(b)))
}

func testFiles(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		if strings.HasSuffix(p, ".pth") || strings.HasSuffix(p, ".safetensors") {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			out[filepath.Base(p)] = b
		}
	}
	return out
}

// TestTruncated checks that every proper prefix of the good files is an
// error (the last byte of each format is needed).
func TestTruncated(t *testing.T) {
	e := loadExpected(t)
	for name, b := range testFiles(t) {
		if _, ok := e.Files[name]; !ok {
			continue
		}
		step := 1
		if len(b) > 4000 {
			step = 7
		}
		for n := 0; n < len(b); n += step {
			m, err := readBytes(b[:n])
			checkResult(t, m, err)
			if err == nil {
				t.Errorf("%s cut to %d of %d bytes: no error", name, n, len(b))
			}
		}
	}
}

// TestCorrupted flips bytes all over the good files (about 600 places in
// each): the result may be an error or tensors, but never a panic or an
// inconsistent tensor.
func TestCorrupted(t *testing.T) {
	flips := []byte{0x01, 0x80, 0xff, 0x10}
	for name, b := range testFiles(t) {
		c := make([]byte, len(b))
		step := max(1, len(b)/600)
		for i := 0; i < len(b); i += step {
			copy(c, b)
			c[i] ^= flips[i%len(flips)]
			m, err := readBytes(c)
			checkResult(t, m, err)
			if err == nil && strings.HasSuffix(name, ".pth") && i < 4 {
				t.Errorf("%s with byte %d changed: no error", name, i)
			}
		}
	}
}

// Pickle building blocks for hand-made data.pkl files.
const (
	pProto2   = "\x80\x02"
	pOrdered  = "ccollections\nOrderedDict\n)R"
	pRebuild  = "ctorch._utils\n_rebuild_tensor_v2\n"
	pFloatSt  = "ctorch\nFloatStorage\n"
	pEmptyOD  = pOrdered
	pNewFalse = "\x89"
)

// pStr is a BINUNICODE string.
func pStr(s string) string {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
	return "X" + string(n[:]) + s
}

// pInt is a BININT (or LONG1 for values outside int32).
func pInt(v int64) string {
	if v >= math.MinInt32 && v <= math.MaxInt32 {
		var n [4]byte
		binary.LittleEndian.PutUint32(n[:], uint32(int32(v)))
		return "J" + string(n[:])
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(v))
	return "\x8a\x08" + string(n[:])
}

func pTuple(items ...string) string { return "(" + strings.Join(items, "") + "t" }

// pTensor rebuilds a float32 tensor of storage key with numel elements.
func pTensor(key string, numel, offset int64, size, stride []int64) string {
	ints := func(v []int64) string {
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = pInt(x)
		}
		return pTuple(s...)
	}
	pid := pTuple(pStr("storage"), pFloatSt, pStr(key), pStr("cpu"), pInt(numel)) + "Q"
	return pRebuild + pTuple(pid, pInt(offset), ints(size), ints(stride), pNewFalse, pEmptyOD) + "R"
}

// stateDictPickle is a pickle of an OrderedDict of the given items
// (alternating key and value pickles).
func stateDictPickle(items ...string) []byte {
	return []byte(pProto2 + pOrdered + "(" + strings.Join(items, "") + "u.")
}

// torchZip writes a zip archive like torch.save's with the given data.pkl
// and storages.
func torchZip(t testing.TB, pkl []byte, storages map[string][]byte) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	add := func(name string, b []byte) {
		f, err := w.CreateHeader(&zip.FileHeader{Name: "archive/" + name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	add("data.pkl", pkl)
	for _, k := range sortedKeys(storages) {
		add("data/"+k, storages[k])
	}
	add("version", []byte("3\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// noStop strips the PROTO and STOP opcodes of a pickle, to nest it.
func noStop(b []byte) string { return string(b[2 : len(b)-1]) }

func floats(vals ...float32) []byte { return float32Bytes(vals) }

// TestHandMadeZip checks hand-made torch.save archives: good views and
// every kind of inconsistency.
func TestHandMadeZip(t *testing.T) {
	six := floats(1, 2, 3, 4, 5, 6)
	st := map[string][]byte{"0": six}
	good := []struct {
		name string
		pkl  []byte
		want []float32
		shp  []int
	}{
		{"contiguous", stateDictPickle(pStr("w"), pTensor("0", 6, 0, []int64{2, 3}, []int64{3, 1})), []float32{1, 2, 3, 4, 5, 6}, []int{2, 3}},
		{"transposed", stateDictPickle(pStr("w"), pTensor("0", 6, 0, []int64{3, 2}, []int64{1, 3})), []float32{1, 4, 2, 5, 3, 6}, []int{3, 2}},
		{"offset", stateDictPickle(pStr("w"), pTensor("0", 6, 4, []int64{2}, []int64{1})), []float32{5, 6}, []int{2}},
		{"stride0", stateDictPickle(pStr("w"), pTensor("0", 6, 1, []int64{2, 2}, []int64{0, 2})), []float32{2, 4, 2, 4}, []int{2, 2}},
		{"empty", stateDictPickle(pStr("w"), pTensor("0", 6, 99, []int64{0, 5}, []int64{5, 1})), []float32{}, []int{0, 5}},
		{"wrapped", []byte(pProto2 + "}(" + pStr("epoch") + pInt(3) + pStr("model") + noStop(stateDictPickle(pStr("w"), pTensor("0", 6, 5, nil, nil))) + "u."), []float32{6}, []int{}},
	}
	// Other ways of writing the same tensor: torch 2's
	// _rebuild_from_type_v2 and _rebuild_parameter_with_state, torch 0.3's
	// _rebuild_tensor with a GPU storage type, and Python 2's OrderedDict
	// (a list of [key, value] lists, BINSTRING keys).
	v1 := "ctorch._utils\n_rebuild_tensor\n" + pTuple(pTuple(pStr("storage"), "ctorch.cuda\nFloatStorage\n", pStr("0"), pStr("cuda:0"), pInt(6))+"Q", pInt(1), pTuple(pInt(2)), pTuple(pInt(2))) + "R"
	withState := "ctorch._utils\n_rebuild_parameter_with_state\n" + pTuple(v1, "\x88", pEmptyOD, "}") + "R"
	fromType := "ctorch._tensor\n_rebuild_from_type_v2\n" + pTuple(pRebuild, "ctorch.nn.parameter\nParameter\n",
		pTuple(pTuple(pStr("storage"), pFloatSt, pStr("0"), pStr("cpu"), pInt(6))+"Q", pInt(1), pTuple(pInt(2)), pTuple(pInt(2)), pNewFalse, pEmptyOD, "}"), "}") + "R"
	pair := "](" + "U\x01w" + v1 + "e" // ['w', tensor]
	py2 := pProto2 + "ccollections\nOrderedDict\n" + pTuple("]("+pair+"e") + "R."
	good = append(good, []struct {
		name string
		pkl  []byte
		want []float32
		shp  []int
	}{
		{"v1 cuda", stateDictPickle(pStr("w"), v1), []float32{2, 4}, []int{2}},
		{"parameter with state", stateDictPickle(pStr("w"), withState), []float32{2, 4}, []int{2}},
		{"from type v2", stateDictPickle(pStr("w"), fromType), []float32{2, 4}, []int{2}},
		{"python 2 OrderedDict", []byte(py2), []float32{2, 4}, []int{2}},
	}...)
	for _, c := range good {
		m, err := readBytes(torchZip(t, c.pkl, st))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		w := m["w"]
		if w == nil || !equalShape(w.Shape, c.shp) || !bytes.Equal(float32Bytes(w.Data), float32Bytes(c.want)) {
			t.Errorf("%s: got %+v, want %v %v", c.name, w, c.shp, c.want)
		}
	}

	huge := int64(25) << 30 // 100 GB of float32
	bad := []struct {
		name string
		pkl  []byte
		st   map[string][]byte
		want string
	}{
		{"view past storage", stateDictPickle(pStr("w"), pTensor("0", 6, 1, []int64{2, 3}, []int64{3, 1})), st, `tensor "w": view (offset 1, size [2 3], stride [3 1]) reaches element 6 of a storage of 6`},
		{"negative stride", stateDictPickle(pStr("w"), pTensor("0", 6, 0, []int64{2}, []int64{-1})), st, "negative stride"},
		{"negative size", stateDictPickle(pStr("w"), pTensor("0", 6, 0, []int64{-2}, []int64{1})), st, "negative dimension"},
		{"shape overflow", stateDictPickle(pStr("w"), pTensor("0", 6, 0, []int64{1 << 32, 1 << 32}, []int64{0, 0})), st, "overflows"},
		{"stride overflow", stateDictPickle(pStr("w"), pTensor("0", 6, 0, []int64{1 << 20, 2}, []int64{math.MaxInt64 / 2, 1})), st, "overflows"},
		{"100 GB view", stateDictPickle(pStr("w"), pTensor("0", huge, 0, []int64{huge}, []int64{1})), st, "26843545600 elements exceed"},
		{"stride-0 bomb", stateDictPickle(pStr("w"), pTensor("0", 6, 0, []int64{1 << 20, 1 << 19}, []int64{0, 0})), st, "exceed what this file may claim"},
		{"100 GB storage", stateDictPickle(pStr("w"), pTensor("0", huge, 0, []int64{6}, []int64{1})), st, "holds 24 bytes, want 107374182400"},
		{"missing storage", stateDictPickle(pStr("w"), pTensor("1", 6, 0, []int64{6}, []int64{1})), st, `zip entry "archive/data/1" missing`},
		{"short storage", stateDictPickle(pStr("w"), pTensor("0", 7, 0, []int64{7}, []int64{1})), st, "holds 24 bytes, want 28"},
		{"storage dtype clash", stateDictPickle(pStr("w"), pTensor("0", 6, 0, []int64{6}, []int64{1}),
			pStr("v"), pRebuild+pTuple(pTuple(pStr("storage"), "ctorch\nLongStorage\n", pStr("0"), pStr("cpu"), pInt(3))+"Q", pInt(0), pTuple(), pTuple(), pNewFalse, pEmptyOD)+"R"), st, `storage "0" is named as`},
		{"not a dict", []byte(pProto2 + pInt(3) + "."), st, "holds a int, not a state_dict"},
		{"dict of non-tensors", []byte(pProto2 + "}" + pStr("a") + pInt(1) + "s."), st, `not a state_dict (entry 0 is a int)`},
		{"stack underflow", []byte(pProto2 + "R."), st, "stack underflow"},
		{"underflow past mark", []byte(pProto2 + pInt(1) + "(" + "\x85."), st, "stack underflow"},
		{"no mark", []byte(pProto2 + "t."), st, "no MARK"},
		{"not empty at stop", []byte(pProto2 + pInt(1) + pInt(2) + "."), st, "stack not empty"},
		{"no stop", []byte(pProto2 + pInt(1)), st, "unexpected end of pickle"},
		{"huge string", []byte(pProto2 + "X\xff\xff\xff\x7f"), st, "exceeds the"},
		{"huge string8", []byte(pProto2 + "\x8d\xff\xff\xff\xff\xff\xff\xff\xff"), st, "exceeds the"},
		{"memo miss", []byte(pProto2 + "h\x05."), st, "memo index 5 not set"},
		{"reduce int", []byte(pProto2 + pInt(1) + ")R."), st, "REDUCE on a int"},
		{"reduce storage class", []byte(pProto2 + pFloatSt + ")R."), st, "torch.FloatStorage cannot be called"},
		{"rebuild wrong types", []byte(pProto2 + pRebuild + pTuple(pInt(1), pInt(0), pTuple(), pTuple(), pNewFalse, pEmptyOD) + "R."), st, "storage is a int"},
		{"setitem on list", []byte(pProto2 + "]" + pInt(1) + pInt(2) + "s."), st, "SETITEM on a list"},
		{"unhashable key", []byte(pProto2 + "}" + ")" + pInt(2) + "s."), st, "unsupported dict key of type tuple"},
		{"build on list", []byte(pProto2 + "]" + "}" + "b."), st, "BUILD on a list"},
		{"newobj", []byte(pProto2 + "\x81."), st, "unsupported pickle opcode NEWOBJ"},
		{"bad opcode", []byte(pProto2 + "\xff."), st, "invalid pickle opcode 0xff"},
		{"protocol 6", []byte("\x80\x06."), st, "unsupported pickle protocol 6"},
		{"stack global", []byte("\x80\x04" + "\x8c\x02os\x8c\x06system\x93."), st, `forbidden pickle global "os.system"`},
		{"long global line", []byte(pProto2 + "c" + strings.Repeat("a", 600) + "\n"), st, "GLOBAL line longer"},
		{"module pid", []byte(pProto2 + pTuple(pStr("module")) + "Q."), st, "pickled nn.Module"},
		{"bad pid", []byte(pProto2 + pInt(3) + "Q."), st, "persistent id is a int"},
	}
	for _, c := range bad {
		before := allocated()
		m, err := readBytes(torchZip(t, c.pkl, c.st))
		if grew := allocated() - before; grew > 64<<20 {
			t.Errorf("%s: allocated %d MB", c.name, grew>>20)
		}
		checkResult(t, m, err)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func allocated() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// TestZipLimits checks zip entries whose headers claim more than the file
// holds.
func TestZipLimits(t *testing.T) {
	pkl := stateDictPickle(pStr("w"), pTensor("0", 6, 0, []int64{6}, []int64{1}))
	b := torchZip(t, pkl, map[string][]byte{"0": floats(1, 2, 3, 4, 5, 6)})
	if _, err := readBytes(b); err != nil {
		t.Fatal(err)
	}
	// Claim 100 GB for data/0 in the central directory.
	dir := bytes.Index(b, []byte("PK\x01\x02"))
	for dir >= 0 {
		nameLen := int(binary.LittleEndian.Uint16(b[dir+28:]))
		if string(b[dir+46:dir+46+nameLen]) == "archive/data/0" {
			break
		}
		next := bytes.Index(b[dir+4:], []byte("PK\x01\x02"))
		if next < 0 {
			t.Fatal("no central directory entry for data/0")
		}
		dir += 4 + next
	}
	c := append([]byte(nil), b...)
	binary.LittleEndian.PutUint32(c[dir+20:], 0xfffffff0) // compressed size
	binary.LittleEndian.PutUint32(c[dir+24:], 0xfffffff0) // uncompressed size
	before := allocated()
	m, err := readBytes(c)
	checkResult(t, m, err)
	if err == nil || allocated()-before > 16<<20 {
		t.Errorf("huge zip entry: err %v, allocated %d bytes", err, allocated()-before)
	}
	// A corrupted storage byte fails the CRC check.
	c = append([]byte(nil), b...)
	i := bytes.Index(c, floats(1, 2, 3, 4, 5, 6))
	c[i] ^= 1
	if _, err := readBytes(c); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("corrupted storage: %v", err)
	}
}

// TestZipOverlap checks that zip entries sharing their bytes (central
// directory records pointing at one local entry) cannot make Read read the
// file's bytes many times over.
func TestZipOverlap(t *testing.T) {
	const n = 1 << 18 // 1 MiB of float32
	items := []string{}
	for _, k := range []string{"0", "1", "2", "3"} {
		items = append(items, pStr("w"+k), pTensor(k, n, 0, []int64{1}, []int64{1}))
	}
	b := torchZip(t, stateDictPickle(items...), map[string][]byte{"0": make([]byte, 4*n)})
	eocd := bytes.LastIndex(b, []byte("PK\x05\x06"))
	dirOff := int(binary.LittleEndian.Uint32(b[eocd+16:]))
	dir := dirOff + bytes.Index(b[dirOff:], []byte("archive/data/0")) - 46
	recLen := 46 + int(binary.LittleEndian.Uint16(b[dir+28:])) + int(binary.LittleEndian.Uint16(b[dir+30:])) + int(binary.LittleEndian.Uint16(b[dir+32:]))
	rec := b[dir : dir+recLen]
	var extra []byte
	for _, k := range "123" {
		r := append([]byte(nil), rec...)
		r[46+len("archive/data/")] = byte(k)
		extra = append(extra, r...)
	}
	c := append(append(append([]byte(nil), b[:eocd]...), extra...), b[eocd:]...)
	e := len(c) - (len(b) - eocd)
	binary.LittleEndian.PutUint16(c[e+8:], binary.LittleEndian.Uint16(c[e+8:])+3)
	binary.LittleEndian.PutUint16(c[e+10:], binary.LittleEndian.Uint16(c[e+10:])+3)
	binary.LittleEndian.PutUint32(c[e+12:], binary.LittleEndian.Uint32(c[e+12:])+uint32(len(extra)))
	m, err := readBytes(c)
	checkResult(t, m, err)
	if err == nil || !strings.Contains(err.Error(), "zip entries overlap") {
		t.Errorf("overlapping entries: %v", err)
	}
}

// legacyFile writes torch's legacy format around an object pickle.
func legacyFile(obj string, keys []string, storages ...[]byte) []byte {
	var b bytes.Buffer
	b.WriteString(pProto2 + "\x8a\x0a" + legacyMagic + ".")
	b.WriteString(pProto2 + "M\xe9\x03.")
	b.WriteString(pProto2 + "}" + pStr("little_endian") + "\x88s.")
	b.WriteString(obj)
	ks := make([]string, len(keys))
	for i, k := range keys {
		ks[i] = pStr(k)
	}
	b.WriteString(pProto2 + "](" + strings.Join(ks, "") + "e.")
	for _, s := range storages {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)/4))
		b.Write(n[:])
		b.Write(s)
	}
	return b.Bytes()
}

// pLegacyTensor is pTensor with the legacy six-element persistent id.
func pLegacyTensor(key string, numel int64, size int64) string {
	pid := pTuple(pStr("storage"), pFloatSt, pStr(key), pStr("cpu"), pInt(numel), "N") + "Q"
	return pRebuild + pTuple(pid, pInt(0), pTuple(pInt(size)), pTuple(pInt(1)), pNewFalse, pEmptyOD) + "R"
}

func TestHandMadeLegacy(t *testing.T) {
	obj := string(stateDictPickle(pStr("w"), pLegacyTensor("k", 3, 3)))
	good := legacyFile(obj, []string{"k"}, floats(1, 2, 3))
	m, err := readBytes(good)
	if err != nil {
		t.Fatal(err)
	}
	if w := m["w"]; w == nil || !bytes.Equal(float32Bytes(w.Data), floats(1, 2, 3)) {
		t.Fatalf("got %+v", w)
	}
	bad := map[string]struct {
		b    []byte
		want string
	}{
		"bad magic":        {[]byte(pProto2 + pInt(5) + "."), "not a PyTorch file"},
		"unknown key":      {legacyFile(obj, []string{"x"}, floats(1, 2, 3)), `storage "x" has data but no tensor`},
		"no keys":          {legacyFile(obj, nil), `storage "k": no data in the file`},
		"short data":       {legacyFile(obj, []string{"k"}, floats(1, 2)), `storage "k" has 2 elements, want 3`},
		"huge count":       {legacyFile(string(stateDictPickle(pStr("w"), pLegacyTensor("k", 1<<40, 3))), []string{"k"}, floats(1, 2, 3)), "has 3 elements, want 1099511627776"},
		"view metadata":    {legacyFile(strings.Replace(obj, "NtQ", pTuple(pStr("v"), pInt(0), pInt(3))+"tQ", 1), []string{"k"}, floats(1, 2, 3)), "legacy storage views are not supported"},
		"big endian":       {bytes.Replace(good, []byte("\x88s."), []byte("\x89s."), 1), "big-endian"},
		"listed twice":     {legacyFile(obj, []string{"k", "k"}, floats(1, 2, 3), floats(1, 2, 3)), "listed twice"},
		"tar":              {append(make([]byte, 257), "ustar\x0000"+strings.Repeat("\x00", 300)...), "legacy tar format"},
		"text":             {[]byte("hello"), "unrecognised format"},
		"empty":            {nil, "empty file"},
		"zero-zip":         {[]byte("PK\x05\x06" + strings.Repeat("\x00", 18)), "0 <archive>/data.pkl entries"},
		"safetensors-like": {[]byte("\x02\x00\x00\x00\x00\x00\x00\x00{}"), ""},
	}
	for name, c := range bad {
		m, err := readBytes(c.b)
		checkResult(t, m, err)
		if c.want == "" { // the smallest valid safetensors file
			if err != nil || len(m) != 0 {
				t.Errorf("%s: %v, %v", name, m, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, c.want)
		}
	}
}

// safetensorsFile assembles a safetensors file from a header and data.
func safetensorsFile(header string, data []byte) []byte {
	b := make([]byte, 8, 8+len(header)+len(data))
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	return append(append(b, header...), data...)
}

func TestHandMadeSafetensors(t *testing.T) {
	data := floats(1, 2, 3, 4, 5, 6)
	good := safetensorsFile(`{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"__metadata__":{"k":"v"},"b":{"dtype":"F16","shape":[],"data_offsets":[16,18]},"c":{"dtype":"U8","shape":[6],"data_offsets":[18,24]}}  `, data)
	m, err := readBytes(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 3 || !bytes.Equal(float32Bytes(m["a"].Data), floats(1, 2, 3, 4)) || len(m["b"].Shape) != 0 || m["c"].Data[2] != 0 {
		t.Fatalf("got %v", m)
	}
	huge := safetensorsFile(`{"a":{"dtype":"F32","shape":[26843545600],"data_offsets":[0,107374182400]}}`, data)
	hugeLen := make([]byte, 16)
	binary.LittleEndian.PutUint64(hugeLen, 1<<62)
	hugeLen[8] = '{'
	bad := map[string]struct {
		b    []byte
		want string
	}{
		"100 GB tensor":   {huge, "cover 107374182400 bytes of a data section of 24"},
		"header too long": {hugeLen, "exceeds the limit of 100000000"},
		"header past end": {safetensorsFile(`{}`, nil)[:9], "header of 2 bytes in a file of 9"},
		"overlap":         {safetensorsFile(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}`, data), "overlap"},
		"gap":             {safetensorsFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}`, data), "gap"},
		"short data":      {safetensorsFile(`{"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}`, data), "data section of 24"},
		"trailing bytes":  {safetensorsFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, data), "cover 8 bytes"},
		"size mismatch":   {safetensorsFile(`{"a":{"dtype":"F32","shape":[5],"data_offsets":[0,24]}}`, data), "span 24 bytes, want 20"},
		"bad dtype":       {safetensorsFile(`{"a":{"dtype":"C64","shape":[3],"data_offsets":[0,24]}}`, data), `unsupported dtype "C64"`},
		"negative shape":  {safetensorsFile(`{"a":{"dtype":"F32","shape":[-6],"data_offsets":[0,24]}}`, data), "negative dimension"},
		"shape overflow":  {safetensorsFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,0,1099511627777],"data_offsets":[0,24]}}`, data), "overflows"},
		"product ovf":     {safetensorsFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,24]}}`, data), "overflows"},
		"reversed":        {safetensorsFile(`{"a":{"dtype":"F32","shape":[6],"data_offsets":[24,0]}}`, data), "bad data_offsets"},
		"three offsets":   {safetensorsFile(`{"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24,3]}}`, data), "has 3 elements"},
		"missing field":   {safetensorsFile(`{"a":{"dtype":"F32","data_offsets":[0,24]}}`, data), "needs dtype, shape and data_offsets"},
		"duplicate":       {safetensorsFile(`{"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24]},"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24]}}`, data), `duplicate entry "a"`},
		"bad metadata":    {safetensorsFile(`{"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24]}}`, data), "__metadata__"},
		"not json":        {safetensorsFile(`{"a":`, data), "header"},
		"trailing json":   {safetensorsFile(`{} {}`, nil), "trailing data"},
		"float shape":     {safetensorsFile(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,24]}}`, data), "tensor \"a\""},
	}
	for name, c := range bad {
		before := allocated()
		m, err := readBytes(c.b)
		if grew := allocated() - before; grew > 16<<20 {
			t.Errorf("%s: allocated %d MB", name, grew>>20)
		}
		checkResult(t, m, err)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, c.want)
		}
	}
}

// sparseFile is a ReaderAt of a huge file of zeros that starts with head.
type sparseFile struct{ head []byte }

func (s sparseFile) ReadAt(p []byte, off int64) (int, error) {
	clear(p)
	if off < int64(len(s.head)) {
		copy(p, s.head[off:])
	}
	return len(p), nil
}

// TestHugeClaims checks that headers claiming huge sizes in a (sparse) huge
// file are refused before allocating.
func TestHugeClaims(t *testing.T) {
	head := make([]byte, 9)
	binary.LittleEndian.PutUint64(head, 200_000_000)
	head[8] = '{'
	before := allocated()
	_, err := Read(sparseFile{head}, 1<<40)
	if err == nil || !strings.Contains(err.Error(), "exceeds the limit of 100000000") || allocated()-before > 1<<20 {
		t.Errorf("200 MB safetensors header: %v (allocated %d)", err, allocated()-before)
	}
	for _, head := range [][]byte{[]byte("PK\x03\x04"), []byte(pProto2 + "X\xff\xff\xff\xff")} {
		before := allocated()
		_, err := Read(sparseFile{head}, 1<<40)
		if err == nil || allocated()-before > 4<<20 {
			t.Errorf("%q: %v (allocated %d)", head, err, allocated()-before)
		}
	}
}

func TestHalf(t *testing.T) {
	cases := map[uint16]float32{
		0x0000: 0, 0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 1.0 / (1 << 24),
		0x8001: -1.0 / (1 << 24), 0x03ff: 1023.0 / (1 << 24), 0x0400: 1.0 / (1 << 14),
		0x7c00: float32(math.Inf(1)), 0xfc00: float32(math.Inf(-1)),
	}
	for h, want := range cases {
		if got := halfToFloat32(h); math.Float32bits(got) != math.Float32bits(want) {
			t.Errorf("half %#04x = %v, want %v", h, got, want)
		}
	}
	if got := halfToFloat32(0x7e00); !math.IsNaN(float64(got)) {
		t.Errorf("half NaN = %v", got)
	}
	if got := halfToFloat32(0x8000); math.Float32bits(got) != 0x80000000 {
		t.Errorf("half -0 = %#x", math.Float32bits(got))
	}
}

func TestLoadErrors(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.pth"))
	if err == nil || !strings.HasPrefix(err.Error(), "weights: ") {
		t.Errorf("missing file: %v", err)
	}
	_, err = Load(t.TempDir())
	if err == nil || !strings.HasPrefix(err.Error(), "weights: ") {
		t.Errorf("directory: %v", err)
	}
}
