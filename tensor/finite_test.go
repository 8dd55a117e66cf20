package tensor

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestCheckFinite(t *testing.T) {
	x := New(2, 3, 4)
	if err := CheckFinite(x); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		v    float32
		want string
	}{
		{float32(math.NaN()), "element [1 2 3] is NaN"},
		{float32(math.Inf(1)), "element [1 2 3] is +Inf"},
		{float32(math.Inf(-1)), "element [1 2 3] is -Inf"},
	} {
		x.Data[23] = c.v
		if err := CheckFinite(x); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("CheckFinite with %g at the end: %v, want %q", c.v, err, c.want)
		}
	}
	x.Data[5] = float32(math.NaN()) // [0 1 1] comes first
	if err := CheckFinite(x); err == nil || !strings.HasPrefix(err.Error(), "element [0 1 1] is NaN") {
		t.Errorf("first of two: %v", err)
	}
	if got := FirstNonFinite([]float32{1, math.MaxFloat32, -math.MaxFloat32, 1e-45}); got != -1 {
		t.Errorf("FirstNonFinite of finite extremes = %d", got)
	}
}

// TestLoadNpyDataNumpyFiles reads every file of testdata/npy (written by
// numpy, see gen_npy.py) with LoadNpyData: floating-point files give the
// values numpy's astype(float32) gives; integer and bool files are refused;
// a file holding NaN or ±Inf is refused naming the first one; a float64
// beyond float32's range is refused instead of becoming Inf.
func TestLoadNpyDataNumpyFiles(t *testing.T) {
	dir := filepath.Join("testdata", "npy")
	js, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp expectedNpy
	if err := json.Unmarshal(js, &exp); err != nil {
		t.Fatal(err)
	}
	float := regexp.MustCompile(`(^|_)f[248]_`)
	special := map[string]string{
		// numpy's float32 values: 0, -0, inf, -inf, nan, ...: index 2 first.
		"f4_special": "element [2] is +Inf",
		// 1, -0.5, 65504, 6e-8, inf in float16.
		"f2_vec": "element [4] is +Inf",
		// 0.1, 1/3, 1e-300, 1e300, 16777217: 1e300 overflows float32.
		"f8_rounding": "float64 element 3 (in file order) is beyond float32's range",
	}
	for name, e := range exp.Files {
		path := filepath.Join(dir, name+".npy")
		got, err := LoadNpyData(path)
		switch {
		case special[name] != "":
			if err == nil || !strings.HasPrefix(err.Error(), "npy: "+path+": ") || !strings.Contains(err.Error(), special[name]) {
				t.Errorf("%s: error %v, want one containing %q", name, err, special[name])
			}
		case !float.MatchString(name):
			if err == nil || !strings.Contains(err.Error(), "is not floating point: give the data as float32") {
				t.Errorf("%s: error %v, want a refusal of the integer dtype", name, err)
			}
		case err != nil:
			t.Errorf("%s: %v", name, err)
		default:
			want := &T{Shape: e.Shape, Data: make([]float32, len(e.Bits))}
			for i, b := range e.Bits {
				want.Data[i] = math.Float32frombits(b)
			}
			assertSameBits(t, got, want)
		}
	}
	for name := range exp.Reject {
		if _, err := LoadNpyData(filepath.Join(dir, name+".npy")); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// float64 is rounded to the nearest float32, ties to even: the values just
// beside the midpoint between two float32 neighbours go to the nearer one,
// and the largest float64 that rounds to MaxFloat32 is accepted.
func TestLoadNpyDataRounding(t *testing.T) {
	a := float32(1.5)
	b := math.Nextafter32(a, 2)
	mid := (float64(a) + float64(b)) / 2 // exact in float64
	// Above the largest float32 by less than half an ulp: still MaxFloat32.
	ulp := float64(math.MaxFloat32) - float64(math.Nextafter32(math.MaxFloat32, 0))
	vals := []float64{math.Nextafter(mid, 0), math.Nextafter(mid, 2), mid, math.MaxFloat32 + ulp/2 - ulp/1024}
	want := []float32{a, b, a /* tie: a's mantissa is even */, math.MaxFloat32}
	if math.Float32bits(a)&1 != 0 {
		t.Fatal("test assumes 1.5's mantissa is even")
	}
	var data []byte
	for _, v := range vals {
		data = binary.LittleEndian.AppendUint64(data, math.Float64bits(v))
	}
	path := filepath.Join(t.TempDir(), "f8.npy")
	if err := os.WriteFile(path, npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }\n", data), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadNpyData(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got.Data[i] != want[i] {
			t.Errorf("%.17g → %.9g, want %.9g", vals[i], got.Data[i], want[i])
		}
	}
}
