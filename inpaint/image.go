package inpaint

import (
	"errors"
	"fmt"
	"image"
	"image/color"
)

// Image is an 8-bit image with interleaved channels, row-major (like
// OpenCV's Mat): the sample of channel c at column x, row y is
// Pix[(y*W+x)*C+c]. Telea accepts C = 1 (gray) and C = 3 (colour; the order
// of the channels does not matter, each is inpainted on its own).
type Image struct {
	W, H, C int
	Pix     []uint8
}

// New returns a zeroed w×h image with c channels.
func New(w, h, c int) (*Image, error) {
	if err := checkSize(w, h, c); err != nil {
		return nil, err
	}
	return &Image{W: w, H: h, C: c, Pix: make([]uint8, w*h*c)}, nil
}

// maxPixels bounds W×H so that sizes and indices never overflow.
const maxPixels = 1 << 28

func checkSize(w, h, c int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("inpaint: image size %d×%d is empty", w, h)
	}
	if w > maxPixels || h > maxPixels || int64(w)*int64(h) > maxPixels {
		return fmt.Errorf("inpaint: image size %d×%d is larger than %d pixels", w, h, maxPixels)
	}
	if c != 1 && c != 3 {
		return fmt.Errorf("inpaint: %d channels (want 1 or 3)", c)
	}
	return nil
}

// check reports whether m is a well-formed image that Telea can process.
func (m *Image) check(what string) error {
	if m == nil {
		return fmt.Errorf("inpaint: %s image is nil", what)
	}
	if err := checkSize(m.W, m.H, m.C); err != nil {
		return fmt.Errorf("%w (%s image)", err, what)
	}
	if len(m.Pix) != m.W*m.H*m.C {
		return fmt.Errorf("inpaint: %s image has %d samples, want %d×%d×%d = %d",
			what, len(m.Pix), m.W, m.H, m.C, m.W*m.H*m.C)
	}
	return nil
}

// Clone returns a deep copy of m.
func (m *Image) Clone() *Image {
	c := *m
	c.Pix = append([]uint8(nil), m.Pix...)
	return &c
}

// FromImage converts img to an Image: *image.Gray and *image.Gray16 give
// C = 1 (16-bit samples keep their high byte), every other image C = 3 with
// its non-premultiplied R, G, B (alpha is dropped without compositing).
func FromImage(img image.Image) (*Image, error) {
	if img == nil {
		return nil, errors.New("inpaint: nil image")
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	switch m := img.(type) {
	case *image.Gray:
		out, err := New(w, h, 1)
		if err != nil {
			return nil, err
		}
		for y := 0; y < h; y++ {
			copy(out.Pix[y*w:(y+1)*w], m.Pix[y*m.Stride:])
		}
		return out, nil
	case *image.Gray16:
		out, err := New(w, h, 1)
		if err != nil {
			return nil, err
		}
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride:]
			for x := 0; x < w; x++ {
				out.Pix[y*w+x] = row[2*x]
			}
		}
		return out, nil
	}
	out, err := New(w, h, 3)
	if err != nil {
		return nil, err
	}
	switch m := img.(type) {
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride:]
			o := out.Pix[3*y*w : 3*(y+1)*w]
			for x := 0; x < w; x++ {
				o[3*x], o[3*x+1], o[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride:]
			o := out.Pix[3*y*w : 3*(y+1)*w]
			for x := 0; x < w; x++ {
				p := row[4*x : 4*x+4]
				if p[3] == 0xff {
					o[3*x], o[3*x+1], o[3*x+2] = p[0], p[1], p[2]
				} else {
					c := color.NRGBAModel.Convert(color.RGBA{p[0], p[1], p[2], p[3]}).(color.NRGBA)
					o[3*x], o[3*x+1], o[3*x+2] = c.R, c.G, c.B
				}
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				i := 3 * (y*w + x)
				out.Pix[i], out.Pix[i+1], out.Pix[i+2] = c.R, c.G, c.B
			}
		}
	}
	return out, nil
}

// MaskFromImage returns a W×H mask for Telea from any image: a pixel is
// marked (1) when any of its colour components is nonzero, as
// img.At(x, y).RGBA() reports them (so fully transparent pixels are not
// marked), and 0 otherwise.
func MaskFromImage(img image.Image) ([]uint8, int, int, error) {
	if img == nil {
		return nil, 0, 0, errors.New("inpaint: nil mask image")
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if err := checkSize(w, h, 1); err != nil {
		return nil, 0, 0, fmt.Errorf("%w (mask)", err)
	}
	mask := make([]uint8, w*h)
	if g, ok := img.(*image.Gray); ok {
		for y := 0; y < h; y++ {
			for x, v := range g.Pix[y*g.Stride : y*g.Stride+w] {
				if v != 0 {
					mask[y*w+x] = 1
				}
			}
		}
		return mask, w, h, nil
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			if r|g|bl != 0 {
				mask[y*w+x] = 1
			}
		}
	}
	return mask, w, h, nil
}

// ToImage returns m as an *image.Gray (C = 1) or an opaque *image.NRGBA
// (C = 3), ready for image/png. It returns nil for a malformed Image.
func (m *Image) ToImage() image.Image {
	if m.check("output") != nil {
		return nil
	}
	r := image.Rect(0, 0, m.W, m.H)
	if m.C == 1 {
		g := image.NewGray(r)
		copy(g.Pix, m.Pix)
		return g
	}
	o := image.NewNRGBA(r)
	for i, j := 0, 0; i < len(m.Pix); i, j = i+3, j+4 {
		o.Pix[j], o.Pix[j+1], o.Pix[j+2], o.Pix[j+3] = m.Pix[i], m.Pix[i+1], m.Pix[i+2], 0xff
	}
	return o
}
