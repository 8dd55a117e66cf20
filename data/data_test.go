package data

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xai-go/lrp/tensor"
)

func TestNamesAndLookup(t *testing.T) {
	names := Names()
	if !slices.IsSorted(names) {
		t.Errorf("Names() = %v, not sorted", names)
	}
	for _, n := range []string{"imagenet", "imagenet-crop", "mnist", "none"} {
		if !slices.Contains(names, n) {
			t.Errorf("Names() = %v lacks %q", names, n)
		}
		p, err := Lookup(n)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != n {
			t.Errorf("Lookup(%q).Name = %q", n, p.Name)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	_, err := Lookup("imagenet-typo")
	if !errors.Is(err, ErrUnknownPreprocess) || !strings.Contains(err.Error(), "imagenet-typo") || !strings.Contains(err.Error(), "imagenet-crop") {
		t.Errorf("Lookup of an unknown name: %v", err)
	}
	// Lookup returns copies.
	p, _ := Lookup("imagenet")
	p.Mean[0] = 99
	q, _ := Lookup("imagenet")
	if q.Mean[0] != 0.485 {
		t.Errorf("changing a looked-up Preprocess changed the registry")
	}
}

func TestRegister(t *testing.T) {
	custom := Preprocess{Mode: ResizeCrop, ResizeShorter: 36, Width: 32, Height: 32, Mean: []float64{0.5}, Std: []float64{0.5}}
	if err := Register("test-cifar", custom); err != nil {
		t.Fatal(err)
	}
	if err := Register("test-cifar", custom); err == nil || !strings.Contains(err.Error(), "already") {
		t.Errorf("registering twice: %v", err)
	}
	for _, name := range []string{"", "a b"} {
		if err := Register(name, custom); err == nil {
			t.Errorf("Register(%q) succeeded", name)
		}
	}
	if err := Register("test-bad", Preprocess{}); err == nil {
		t.Errorf("registering the zero Preprocess succeeded")
	}
	p, err := Lookup("test-cifar")
	if err != nil {
		t.Fatal(err)
	}
	x, err := p.Apply(image.NewRGBA(image.Rect(0, 0, 50, 40)))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x.Shape, []int{1, 3, 32, 32}) || x.Data[0] != -1 {
		t.Errorf("shape %v, first value %v; want [1 3 32 32], -1", x.Shape, x.Data[0])
	}
}

func TestValidate(t *testing.T) {
	ok := Preprocess{Width: 4, Height: 4}
	for _, c := range []struct {
		p    Preprocess
		want string
	}{
		{Preprocess{}, "output size"},
		{Preprocess{Width: 4, Height: 0}, "output size"},
		{Preprocess{Width: 1 << 20, Height: 4}, "output size"},
		{Preprocess{Mode: ResizeCrop, Width: 4, Height: 4}, "ResizeShorter"},
		{Preprocess{Mode: Mode(9), Width: 4, Height: 4}, "unknown mode"},
		{Preprocess{Width: 4, Height: 4, Mean: []float64{1, 2, 3}}, "Std"},
		{Preprocess{Width: 4, Height: 4, Mean: []float64{1, 2}, Std: []float64{1, 2}}, "channels"},
		{Preprocess{Width: 4, Height: 4, Grayscale: true, Mean: []float64{1, 2, 3}, Std: []float64{1, 2, 3}}, "channels"},
		{Preprocess{Width: 4, Height: 4, Mean: []float64{0}, Std: []float64{0}}, "zero"},
		{Preprocess{Mode: None, Mean: []float64{0}, Std: []float64{1}}, "none"},
	} {
		err := c.p.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: Validate() = %v, want an error about %q", c.p, err, c.want)
		}
		if _, err := c.p.Apply(image.NewGray(image.Rect(0, 0, 3, 3))); err == nil {
			t.Errorf("%+v: Apply succeeded", c.p)
		}
	}
	if err := ok.Validate(); err != nil {
		t.Error(err)
	}
}

func TestApplyNoneAndBadImages(t *testing.T) {
	none, _ := Lookup("none")
	_, err := none.Apply(image.NewGray(image.Rect(0, 0, 2, 2)))
	if err == nil || !strings.Contains(err.Error(), "none") || !strings.Contains(err.Error(), ".npy") {
		t.Errorf("none.Apply: %v", err)
	}
	if _, err := none.Batch([]image.Image{image.NewGray(image.Rect(0, 0, 2, 2))}); err == nil {
		t.Errorf("none.Batch succeeded")
	}
	p, _ := Lookup("imagenet")
	if _, err := p.Apply(nil); err == nil {
		t.Errorf("Apply(nil) succeeded")
	}
	if _, err := p.Apply(image.NewRGBA(image.Rect(3, 3, 3, 9))); err == nil {
		t.Errorf("Apply of an empty image succeeded")
	}
	if _, err := p.Batch(nil); err == nil {
		t.Errorf("empty Batch succeeded")
	}
	_, err = p.Batch([]image.Image{image.NewGray(image.Rect(0, 0, 2, 2)), nil})
	if err == nil || !strings.Contains(err.Error(), "image 1") {
		t.Errorf("Batch with a nil image: %v", err)
	}
}

// TestApplyShapes runs every preset on extreme sizes and image types.
func TestApplyShapes(t *testing.T) {
	imgs := []image.Image{
		image.NewRGBA(image.Rect(0, 0, 1, 1)),
		image.NewNRGBA(image.Rect(5, 7, 6, 300)),
		image.NewGray(image.Rect(0, 0, 300, 1)),
		image.NewGray16(image.Rect(0, 0, 9, 4)),
		image.NewCMYK(image.Rect(0, 0, 4, 9)),
		image.NewYCbCr(image.Rect(0, 0, 31, 17), image.YCbCrSubsampleRatio420),
		image.NewYCbCr(image.Rect(0, 0, 31, 17), image.YCbCrSubsampleRatio422),
		image.NewYCbCr(image.Rect(0, 0, 31, 17), image.YCbCrSubsampleRatio440),
		image.NewYCbCr(image.Rect(0, 0, 31, 17), image.YCbCrSubsampleRatio411),
		image.NewYCbCr(image.Rect(0, 0, 3, 3), image.YCbCrSubsampleRatio420),
		image.NewYCbCr(image.Rect(2, 2, 9, 9), image.YCbCrSubsampleRatio420),
		image.NewPaletted(image.Rect(0, 0, 3, 2), color.Palette{color.Black}),
	}
	for _, name := range []string{"imagenet", "imagenet-crop", "mnist"} {
		p, _ := Lookup(name)
		x, err := p.Batch(imgs)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := []int{len(imgs), p.Channels(), p.Height, p.Width}; !slices.Equal(x.Shape, want) {
			t.Errorf("%s: shape %v, want %v", name, x.Shape, want)
		}
		for _, v := range x.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("%s: non-finite output", name)
			}
		}
	}
}

// TestColorConversion checks the pixel values images are converted to.
func TestColorConversion(t *testing.T) {
	// Non-premultiplied colors keep their RGB whatever the alpha (PIL's
	// convert("RGB") drops alpha).
	n := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	n.Pix = []uint8{200, 100, 50, 10}
	if r := toRGB(n); !slices.Equal(r.pix, []uint8{200, 100, 50}) {
		t.Errorf("NRGBA → %v", r.pix)
	}
	// PIL's L: (19595 R + 38470 G + 7471 B + 2^15) >> 16.
	for _, c := range [][3]uint8{{255, 255, 255}, {0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {12, 200, 77}, {128, 128, 129}} {
		n.Pix = []uint8{c[0], c[1], c[2], 255}
		want := uint8((19595*uint32(c[0]) + 38470*uint32(c[1]) + 7471*uint32(c[2]) + 0x8000) >> 16)
		if got := toL(toRGB(n)).pix[0]; got != want {
			t.Errorf("L%v = %d, want %d", c, got, want)
		}
	}
	// Gray is its own luminance.
	g := image.NewGray(image.Rect(0, 0, 256, 1))
	for i := range g.Pix {
		g.Pix[i] = uint8(i)
	}
	if l := toL(toRGB(g)); !bytes.Equal(l.pix, g.Pix) {
		t.Errorf("L of gray differs from gray")
	}
	// libjpeg's YCbCr→RGB for a few values (from its fixed-point tables).
	for _, c := range []struct{ y, cb, cr, r, g, b uint8 }{
		{128, 128, 128, 128, 128, 128},
		{0, 0, 0, 0, 135, 0},
		{255, 255, 255, 255, 121, 255},
		{76, 85, 255, 254, 0, 0},
	} {
		r, g, b := jpegYCbCrToRGB(c.y, c.cb, c.cr)
		if r != c.r || g != c.g || b != c.b {
			t.Errorf("YCbCr(%d,%d,%d) = (%d,%d,%d), want (%d,%d,%d)", c.y, c.cb, c.cr, r, g, b, c.r, c.g, c.b)
		}
	}
}

func TestCropOffsetAndShorterSide(t *testing.T) {
	for _, c := range []struct{ size, crop, want int }{
		{256, 224, 16},
		{385, 224, 80}, // round(80.5) = 80, half to even
		{387, 224, 82}, // round(81.5) = 82
		{384, 224, 80},
		{224, 224, 0},
		{200, 224, -12}, // padded 12 before, 12 after
		{201, 224, -11}, // padded (23)//2 = 11 before, 12 after
	} {
		if got := cropOffset(c.size, c.crop); got != c.want {
			t.Errorf("cropOffset(%d, %d) = %d, want %d", c.size, c.crop, got, c.want)
		}
	}
	for _, c := range []struct{ w, h, s, ww, wh int }{
		{301, 200, 256, 385, 256},
		{200, 301, 256, 256, 385},
		{37, 53, 256, 256, 366},
		{500, 500, 256, 256, 256},
		{640, 427, 256, 383, 256}, // 383.7 truncated
	} {
		if w, h := shorterSide(c.w, c.h, c.s); w != c.ww || h != c.wh {
			t.Errorf("shorterSide(%d, %d, %d) = %d×%d, want %d×%d", c.w, c.h, c.s, w, h, c.ww, c.wh)
		}
	}
	// Cropping larger than the image pads with level 0.
	r := newRaster(1, 2, 1)
	r.pix[0], r.pix[1] = 7, 9
	if got := r.centerCrop(5, 2).pix; !slices.Equal(got, []uint8{0, 7, 9, 0, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("padded crop = %v", got)
	}
}

// TestResizeProperties checks resampling invariants independent of goldens.
func TestResizeProperties(t *testing.T) {
	// A constant image stays constant at every size.
	src := bytes.Repeat([]uint8{173}, 37*53)
	for _, s := range [][2]int{{1, 1}, {224, 224}, {5, 300}, {36, 53}, {37, 2}} {
		for _, v := range resizePlane(src, 37, 53, s[0], s[1]) {
			if v != 173 {
				t.Fatalf("constant image resized to %v has value %d", s, v)
			}
		}
	}
	// Taps are non-negative and sum to 2^22 within rounding.
	for _, sz := range [][2]int{{1000, 7}, {7, 1000}, {224, 224}, {3, 2}} {
		c := bilinearCoeffs(sz[0], sz[1])
		for i := 0; i < sz[1]; i++ {
			var sum int32
			for _, k := range c.k[i*c.ksize : i*c.ksize+c.bounds[2*i+1]] {
				sum += k
			}
			if d := sum - 1<<precisionBits; d < -int32(c.ksize) || d > int32(c.ksize) {
				t.Errorf("%v: taps of %d sum to %d", sz, i, sum)
			}
		}
	}
}

func TestNormalizeInvert(t *testing.T) {
	p, _ := Lookup("imagenet")
	img, err := Decode(filepath.Join("testdata", "odd.png"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := p.Apply(img)
	if err != nil {
		t.Fatal(err)
	}
	y := x.Clone()
	if err := p.Invert(y); err != nil {
		t.Fatal(err)
	}
	for _, v := range y.Data {
		// Back on the ToTensor scale: v*255 is (nearly) a whole level.
		if v < -1e-6 || v > 1+1e-6 || math.Abs(float64(v*255)-math.Round(float64(v*255))) > 1e-3 {
			t.Fatalf("inverted value %v is not a level/255", v)
		}
	}
	if err := p.Normalize(y); err != nil {
		t.Fatal(err)
	}
	for i := range x.Data {
		if math.Abs(float64(x.Data[i]-y.Data[i])) > 1e-5 {
			t.Fatalf("Normalize(Invert(x)) differs from x by %v", x.Data[i]-y.Data[i])
		}
	}
	// C×H×W works too; wrong channel counts and ranks do not.
	if err := p.Normalize(tensor.New(3, 2, 2)); err != nil {
		t.Error(err)
	}
	for _, bad := range []*tensor.T{nil, tensor.New(2, 2, 2), tensor.New(4, 4), tensor.New(1, 1, 3, 2, 2)} {
		if err := p.Invert(bad); err == nil {
			t.Errorf("Invert of %v succeeded", bad)
		}
	}
	none, _ := Lookup("none")
	z := tensor.New(1, 5)
	z.Data[0] = 3
	if err := none.Normalize(z); err == nil {
		t.Errorf("none.Normalize of a 1×5 tensor succeeded")
	}
}

func TestDecodeErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.png")
	if _, err := Decode(missing); err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "could not decode") {
		t.Errorf("missing file: %v", err)
	}
	garbage := filepath.Join(dir, "garbage.png")
	os.WriteFile(garbage, []byte("this is not an image"), 0o644)
	if _, err := Decode(garbage); err == nil || !strings.Contains(err.Error(), garbage) {
		t.Errorf("garbage: %v", err)
	}
	// A valid PNG, truncated.
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 64, 64)))
	if _, err := DecodeReader(bytes.NewReader(buf.Bytes()[:buf.Len()-30]), "cut.png"); err == nil || !strings.Contains(err.Error(), "cut.png") {
		t.Errorf("truncated PNG: %v", err)
	}
	// And whole, through DecodeReader.
	img, err := DecodeReader(bytes.NewReader(buf.Bytes()), "whole.png")
	if err != nil || img.Bounds().Dx() != 64 {
		t.Errorf("whole PNG: %v", err)
	}
	// A PNG header claiming 100000×100000 pixels is refused before decoding.
	huge := pngHeader(100000, 100000)
	if _, err := DecodeReader(bytes.NewReader(huge), "huge.png"); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("huge PNG: %v", err)
	}
	if _, err := DecodeReader(nil, "nil"); err == nil {
		t.Errorf("nil reader decoded")
	}
}

// pngHeader returns a PNG signature and IHDR chunk for a w×h RGB image.
func pngHeader(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func FuzzDecodeReader(f *testing.F) {
	for _, name := range []string{"odd.png", "odd.gif", "noise.bmp", "noise.webp", "noise.tiff"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	p, _ := Lookup("mnist")
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := DecodeReader(bytes.NewReader(b), "fuzz")
		if err != nil {
			return
		}
		if b := img.Bounds(); b.Dx()*b.Dy() > 1<<20 {
			return // valid but slow to preprocess; keeps fuzzing fast
		}
		if _, err := p.Apply(img); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDefaultNormalizationOtherChannels(t *testing.T) {
	_, err := DefaultNormalization(4)
	if err == nil || !strings.Contains(err.Error(), "no default normalization for 4-channel input") {
		t.Errorf("4 channels: error %v", err)
	}
}
