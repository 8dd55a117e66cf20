package data

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// npyArray is an array read from a .npy file: uint8 or float32 data.
type npyArray struct {
	descr string
	shape []int
	u8    []uint8
	f32   []float32
}

var (
	npyDescr = regexp.MustCompile(`'descr':\s*'([^']*)'`)
	npyOrder = regexp.MustCompile(`'fortran_order':\s*(True|False)`)
	npyShape = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)
)

// parseNpy reads a version 1.0 or 2.0 .npy file holding a C-order '|u1'
// or '<f4' array; that is all golden.npz contains. (The tensor package's
// own reader is not used so that these tests depend on nothing but data.)
func parseNpy(b []byte) (*npyArray, error) {
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return nil, fmt.Errorf("not a .npy file")
	}
	var hlen, off int
	switch b[6] {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, fmt.Errorf("short .npy header")
		}
		hlen, off = int(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return nil, fmt.Errorf(".npy version %d", b[6])
	}
	if off+hlen > len(b) {
		return nil, fmt.Errorf("short .npy header")
	}
	h := string(b[off : off+hlen])
	body := b[off+hlen:]
	d, o, s := npyDescr.FindStringSubmatch(h), npyOrder.FindStringSubmatch(h), npyShape.FindStringSubmatch(h)
	if d == nil || o == nil || s == nil || o[1] != "False" {
		return nil, fmt.Errorf("unsupported .npy header %q", h)
	}
	a := &npyArray{descr: d[1]}
	n := 1
	for _, f := range strings.Split(s[1], ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("bad shape in %q", h)
		}
		a.shape = append(a.shape, v)
		n *= v
	}
	switch a.descr {
	case "|u1":
		if len(body) != n {
			return nil, fmt.Errorf("%d bytes for %d uint8", len(body), n)
		}
		a.u8 = body
	case "<f4":
		if len(body) != 4*n {
			return nil, fmt.Errorf("%d bytes for %d float32", len(body), n)
		}
		a.f32 = make([]float32, n)
		for i := range a.f32 {
			a.f32[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:]))
		}
	default:
		return nil, fmt.Errorf("unsupported dtype %q", a.descr)
	}
	return a, nil
}

// loadGolden reads every array of testdata/golden.npz.
func loadGolden(t *testing.T) map[string]*npyArray {
	t.Helper()
	zr, err := zip.OpenReader(filepath.Join("testdata", "golden.npz"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string]*npyArray{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		a, err := parseNpy(b)
		if err != nil {
			t.Fatalf("golden.npz %s: %v", f.Name, err)
		}
		out[strings.TrimSuffix(f.Name, ".npy")] = a
	}
	return out
}

// jpegLevels bounds, in 0–255 pixel levels, how far this package's JPEG
// decoding may be from PIL's. Go's image/jpeg uses a different integer
// inverse DCT than libjpeg-turbo's default (islow): on astronaut.jpg 1.8%
// of luma samples differ by 1, which the YCbCr→RGB conversion (chroma
// differences times up to 1.77) turns into RGB differences of up to 3
// levels in 3.3% of samples. Chroma upsampling and color conversion are
// libjpeg's own and add nothing. The bound keeps one level of headroom.
const jpegLevels = 4

// jpegTolerance converts jpegLevels to normalized units for a std.
func jpegTolerance(std float64) float64 { return jpegLevels / 255.0 / std }

// TestGolden compares Apply with torchvision's output for every golden:
// for lossless inputs within 1e-5 (they are in fact bit-identical), for the
// JPEG within jpegLevels pixel levels.
func TestGolden(t *testing.T) {
	g := loadGolden(t)
	var keys []string
	for k := range g {
		parts := strings.Split(k, "__")
		if len(parts) == 2 && parts[0] != "lut" && parts[1] != "decoded" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) < 10 {
		t.Fatalf("only %d goldens in golden.npz", len(keys))
	}
	for _, k := range keys {
		file, preset, _ := strings.Cut(k, "__")
		t.Run(file+"/"+preset, func(t *testing.T) {
			pix := g[k]
			lut := g["lut__"+preset]
			if lut == nil || pix.u8 == nil || len(pix.shape) != 3 {
				t.Fatalf("malformed golden %s", k)
			}
			p, err := Lookup(preset)
			if err != nil {
				t.Fatal(err)
			}
			img, err := Decode(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Apply(img)
			if err != nil {
				t.Fatal(err)
			}
			c, h, w := pix.shape[0], pix.shape[1], pix.shape[2]
			if want := []int{1, c, h, w}; fmt.Sprint(got.Shape) != fmt.Sprint(want) {
				t.Fatalf("shape %v, want %v", got.Shape, want)
			}
			var maxDiff float64
			var maxLevel, mismatched int
			for i, v := range pix.u8 {
				ch := i / (h * w)
				want := lut.f32[ch*256+int(v)]
				d := math.Abs(float64(got.Data[i] - want))
				maxDiff = max(maxDiff, d)
				// The uint8 level Go produced, recovered from its output.
				_, std := p.meanStd(ch)
				if lv := int(math.Round(float64(got.Data[i]-want) * float64(std) * 255)); lv != 0 {
					mismatched++
					maxLevel = max(maxLevel, abs(lv))
				}
			}
			t.Logf("%s %s: max |Go - torchvision| = %.3g (%d of %d values differ, by up to %d levels of 255)",
				file, preset, maxDiff, mismatched, len(pix.u8), maxLevel)
			tol := 1e-5
			if strings.HasSuffix(file, ".jpg") {
				tol = jpegTolerance(0.224) // the smallest ImageNet std
			}
			if maxDiff > tol {
				t.Errorf("max |Go - torchvision| = %g > %g", maxDiff, tol)
			}
		})
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestGoldenFloat compares the mnist goldens stored as torchvision's raw
// float32 tensors, with no table in between.
func TestGoldenFloat(t *testing.T) {
	g := loadGolden(t)
	n := 0
	for k, want := range g {
		file, ok := strings.CutSuffix(k, "__mnist__f32")
		if !ok {
			continue
		}
		n++
		img, err := Decode(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		p, _ := Lookup("mnist")
		got, err := p.Apply(img)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got.Shape) != fmt.Sprint(want.shape) {
			t.Fatalf("%s: shape %v, want %v", file, got.Shape, want.shape)
		}
		var maxDiff float64
		for i := range got.Data {
			maxDiff = max(maxDiff, math.Abs(float64(got.Data[i]-want.f32[i])))
		}
		tol := 1e-5
		if strings.HasSuffix(file, ".jpg") {
			tol = jpegTolerance(0.3081)
		}
		t.Logf("%s mnist: max |Go - torchvision| = %.3g", file, maxDiff)
		if maxDiff > tol {
			t.Errorf("%s mnist: max |Go - torchvision| = %g > %g", file, maxDiff, tol)
		}
	}
	if n < 5 {
		t.Fatalf("only %d float goldens", n)
	}
}

// TestLUT checks that ToTensor and Normalize are computed with
// torchvision's float32 arithmetic: every level of every channel must be
// bit-identical to torchvision's.
func TestLUT(t *testing.T) {
	g := loadGolden(t)
	for _, name := range []string{"imagenet", "imagenet-crop", "mnist"} {
		p, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		lut := g["lut__"+name]
		c := p.Channels()
		for ch := 0; ch < c; ch++ {
			mean, std := p.meanStd(ch)
			for v := 0; v < 256; v++ {
				got := (float32(v)/255 - mean) / std
				if want := lut.f32[ch*256+v]; math.Float32bits(got) != math.Float32bits(want) {
					t.Errorf("%s channel %d level %d: %v, torchvision %v", name, ch, v, got, want)
				}
			}
		}
	}
}

// TestJPEGDecode measures how Go's JPEG decoding (with this package's
// libjpeg-style chroma upsampling) differs from PIL's.
func TestJPEGDecode(t *testing.T) {
	g := loadGolden(t)
	want := g["astronaut.jpg__decoded"]
	img, err := Decode(filepath.Join("testdata", "astronaut.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	r := toRGB(img)
	h, w := want.shape[0], want.shape[1]
	if r.w != w || r.h != h {
		t.Fatalf("size %d×%d, want %d×%d", r.w, r.h, w, h)
	}
	maxD, n, sum := 0, 0, 0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				d := abs(int(r.plane(c)[y*w+x]) - int(want.u8[(y*w+x)*3+c]))
				maxD = max(maxD, d)
				sum += d
				if d != 0 {
					n++
				}
			}
		}
	}
	t.Logf("astronaut.jpg: Go vs PIL decoded levels: max |diff| %d, %d of %d samples differ, mean |diff| %.3f",
		maxD, n, 3*w*h, float64(sum)/float64(3*w*h))
	if maxD > jpegLevels {
		t.Errorf("max |Go - PIL| decoded level %d > %d", maxD, jpegLevels)
	}
}

// TestDecodeFormats decodes the same noise pixels from PNG, BMP, TIFF and
// lossless WebP files written by PIL.
func TestDecodeFormats(t *testing.T) {
	ref, err := Decode(filepath.Join("testdata", "noise.png"))
	if err != nil {
		t.Fatal(err)
	}
	want := toRGB(ref)
	for _, f := range []string{"noise.bmp", "noise.tiff", "noise.webp"} {
		img, err := Decode(filepath.Join("testdata", f))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		got := toRGB(img)
		if got.w != want.w || got.h != want.h || !bytes.Equal(got.pix, want.pix) {
			t.Errorf("%s: pixels differ from noise.png", f)
		}
	}
}
