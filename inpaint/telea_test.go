package inpaint

import (
	"bytes"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func randomImage(rng *rand.Rand, w, h, c int) *Image {
	m := &Image{W: w, H: h, C: c, Pix: make([]uint8, w*h*c)}
	for i := range m.Pix {
		m.Pix[i] = uint8(rng.IntN(256))
	}
	return m
}

func TestEmptyMaskUnchanged(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []int{1, 3} {
		src := randomImage(rng, 17, 9, c)
		orig := src.Clone()
		got, err := Telea(src, make([]uint8, 17*9), 3)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Pix, orig.Pix) || got.W != 17 || got.H != 9 || got.C != c {
			t.Fatalf("C=%d: empty mask changed the image", c)
		}
		if &got.Pix[0] == &src.Pix[0] {
			t.Fatal("Telea returned the source's pixels, not a copy")
		}
		if !bytes.Equal(src.Pix, orig.Pix) {
			t.Fatal("Telea modified its source")
		}
	}
}

// A full mask leaves no known pixel to start from: OpenCV returns the
// input unchanged, and so does Telea.
func TestFullMask(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []int{1, 3} {
		for _, sz := range [][2]int{{1, 1}, {1, 5}, {6, 1}, {8, 8}, {31, 20}} {
			src := randomImage(rng, sz[0], sz[1], c)
			mask := bytes.Repeat([]uint8{255}, sz[0]*sz[1])
			got, err := Telea(src, mask, 3)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Pix, src.Pix) {
				t.Fatalf("C=%d %v: full mask changed the image", c, sz)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	good := &Image{W: 4, H: 3, C: 3, Pix: make([]uint8, 36)}
	mask := make([]uint8, 12)
	cases := []struct {
		name string
		src  *Image
		mask []uint8
		want string
	}{
		{"nil source", nil, mask, "nil"},
		{"short mask", good, mask[:11], "mask has 11 pixels"},
		{"long mask", good, make([]uint8, 13), "mask has 13 pixels"},
		{"short pix", &Image{W: 4, H: 3, C: 3, Pix: make([]uint8, 35)}, mask, "35 samples"},
		{"long pix", &Image{W: 4, H: 3, C: 1, Pix: make([]uint8, 13)}, mask, "13 samples"},
		{"channels", &Image{W: 4, H: 3, C: 4, Pix: make([]uint8, 48)}, mask, "4 channels"},
		{"empty", &Image{W: 0, H: 3, C: 1}, nil, "empty"},
		{"negative", &Image{W: -4, H: -3, C: 1}, mask, "empty"},
		{"huge", &Image{W: 1 << 20, H: 1 << 20, C: 1}, mask, "larger than"},
	}
	for _, c := range cases {
		_, err := Telea(c.src, c.mask, 3)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	for _, r := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := Telea(good, mask, r); err == nil {
			t.Errorf("radius %v: no error", r)
		}
	}
	p, _ := NewInpainter(3)
	if err := p.Into(nil, good, mask); err == nil {
		t.Error("nil destination: no error")
	}
	if _, err := New(3, 3, 2); err == nil {
		t.Error("New with 2 channels: no error")
	}
}

func TestRadius(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want int
	}{{-5, 1}, {0, 1}, {0.4, 1}, {1.4, 1}, {2.5, 2}, {3, 3}, {3.5, 4}, {99.6, 100}, {1e300, 100}} {
		p, err := NewInpainter(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if p.Radius() != c.want {
			t.Errorf("radius %v → %d, want %d (OpenCV rounds half to even, clamps to [1,100])", c.in, p.Radius(), c.want)
		}
	}
}

// Reusing an Inpainter across sizes, and channel counts, and
// inpainting in place, gives the same pixels as a fresh Telea call; in
// steady state Into allocates nothing.
func TestInpainterReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	p, _ := NewInpainter(3)
	dst := &Image{}
	for i := 0; i < 30; i++ {
		w, h, c := 2+rng.IntN(40), 2+rng.IntN(40), 1+2*rng.IntN(2)
		src := randomImage(rng, w, h, c)
		mask := make([]uint8, w*h)
		for j := range mask {
			if rng.IntN(3) == 0 {
				mask[j] = 1
			}
		}
		want, err := Telea(src, mask, 3)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Into(dst, src, mask); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(dst.Pix, want.Pix) || dst.W != w || dst.H != h || dst.C != c {
			t.Fatalf("case %d: reused Inpainter differs from a fresh one", i)
		}
		in := src.Clone()
		if err := p.Into(in, in, mask); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(in.Pix, want.Pix) {
			t.Fatalf("case %d: in-place result differs", i)
		}
	}

	src := randomImage(rng, 64, 48, 3)
	mask := make([]uint8, 64*48)
	for j := range mask {
		mask[j] = uint8(rng.IntN(2))
	}
	_ = p.Into(dst, src, mask)
	if a := testing.AllocsPerRun(20, func() { _ = p.Into(dst, src, mask) }); a != 0 {
		t.Errorf("Into allocates %v times per call in steady state", a)
	}
}

func TestImageConversions(t *testing.T) {
	g := image.NewGray(image.Rect(2, 3, 5, 5))
	g.SetGray(3, 4, color.Gray{Y: 7})
	m, err := FromImage(g)
	if err != nil || m.C != 1 || m.W != 3 || m.H != 2 || m.Pix[1*3+1] != 7 {
		t.Fatalf("gray: %+v %v", m, err)
	}
	if back := m.ToImage().(*image.Gray); back.GrayAt(1, 1).Y != 7 {
		t.Fatal("gray round trip")
	}
	rgba := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	rgba.SetNRGBA(1, 0, color.NRGBA{1, 2, 3, 0})
	m, err = FromImage(rgba)
	if err != nil || m.C != 3 || !bytes.Equal(m.Pix, []uint8{0, 0, 0, 1, 2, 3}) {
		t.Fatalf("nrgba: %+v %v", m, err)
	}
	if c := m.ToImage().(*image.NRGBA).NRGBAAt(1, 0); c != (color.NRGBA{1, 2, 3, 255}) {
		t.Fatalf("rgb round trip: %v", c)
	}
	pal := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.Black, color.RGBA{9, 8, 7, 255}})
	pal.SetColorIndex(0, 0, 1)
	mask, w, h, err := MaskFromImage(pal)
	if err != nil || w != 2 || h != 1 || !bytes.Equal(mask, []uint8{1, 0}) {
		t.Fatalf("paletted mask: %v %d×%d %v", mask, w, h, err)
	}
	m, err = FromImage(pal)
	if err != nil || !bytes.Equal(m.Pix, []uint8{9, 8, 7, 0, 0, 0}) {
		t.Fatalf("paletted image: %+v %v", m, err)
	}
	if _, err := FromImage(nil); err == nil {
		t.Error("nil image: no error")
	}
}
