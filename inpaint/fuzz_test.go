package inpaint

import (
	"bytes"
	"math"
	"testing"
)

// FuzzTelea inpaints small images (at most 32×32, radius at most 10) built
// from the fuzzer's bytes and checks that Telea does not panic, returns an
// image of the source's size, leaves every unmasked pixel unchanged, and
// gives the same result in place through a reused Inpainter.
func FuzzTelea(f *testing.F) {
	f.Add(uint8(8), uint8(8), true, 3.0, []byte("astronaut"), []byte{0x18, 0x3c, 0x3c, 0x18})
	f.Add(uint8(1), uint8(7), false, 3.0, []byte{0, 255}, []byte{0xff})
	f.Add(uint8(31), uint8(2), true, 0.5, []byte{1, 2, 3, 4, 5}, []byte{0x0f, 0xf0, 0xaa})
	f.Fuzz(func(t *testing.T, w, h uint8, color bool, radius float64, pix, maskBits []byte) {
		W, H, C := int(w%32)+1, int(h%32)+1, 1
		if color {
			C = 3
		}
		if math.IsNaN(radius) || math.IsInf(radius, 0) {
			if _, err := NewInpainter(radius); err == nil {
				t.Fatalf("radius %v accepted", radius)
			}
			return
		}
		radius = math.Mod(radius, 11) // keep runs short; negative stays allowed
		src := &Image{W: W, H: H, C: C, Pix: make([]uint8, W*H*C)}
		if len(pix) > 0 {
			for i := range src.Pix {
				src.Pix[i] = pix[i%len(pix)] + uint8(i/len(pix))*37
			}
		}
		mask := make([]uint8, W*H)
		if len(maskBits) > 0 {
			for i := range mask {
				if maskBits[(i/8)%len(maskBits)]>>(i%8)&1 != 0 {
					mask[i] = uint8(1 + i%255)
				}
			}
		}
		orig := src.Clone()
		got, err := Telea(src, mask, radius)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(src.Pix, orig.Pix) {
			t.Fatal("source modified")
		}
		if got.W != W || got.H != H || got.C != C || len(got.Pix) != len(src.Pix) {
			t.Fatalf("got %d×%d×%d (%d samples), want %d×%d×%d", got.W, got.H, got.C, len(got.Pix), W, H, C)
		}
		for i, v := range got.Pix {
			if mask[i/C] == 0 && v != src.Pix[i] {
				t.Fatalf("unmasked sample %d changed from %d to %d", i, src.Pix[i], v)
			}
		}
		p, err := NewInpainter(radius)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Into(src, src, mask); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(src.Pix, got.Pix) {
			t.Fatal("in-place result differs")
		}
	})
}
