package data

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"
	"os"

	// Image formats Decode understands. PNG, JPEG and GIF come from the
	// standard library, BMP, TIFF and WebP (lossy and lossless, no
	// animation) from golang.org/x/image.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// MaxPixels is the largest image, in pixels (width × height), that Decode,
// DecodeReader and Apply accept: 2^26, a 8192×8192 image. Decode checks it
// against the size in the file's header before decoding any pixel data, so
// a small file that claims a huge size is refused without allocating it.
const MaxPixels = 1 << 26

// Decode reads and decodes the image file at path. It recognizes PNG, JPEG,
// GIF (first frame), BMP, TIFF and WebP by their content, not by the file
// name. Images of more than MaxPixels pixels are refused. Errors name the
// file.
func Decode(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: could not decode image %s: %w", path, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("data: could not decode image %s: it is a directory", path)
	}
	return DecodeReader(f, path)
}

// DecodeReader decodes an image from r as Decode does; name identifies the
// input in error messages (a file name, say). It reads the header with
// image.DecodeConfig first and refuses images with a non-positive size or
// of more than MaxPixels pixels before decoding the pixels.
func DecodeReader(r io.Reader, name string) (img image.Image, err error) {
	if r == nil {
		return nil, fmt.Errorf("data: could not decode image %s: nil reader", name)
	}
	// A decoder must never take the process down on hostile input.
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("data: could not decode image %s: decoder failed: %v", name, p)
		}
	}()
	var head bytes.Buffer
	cfg, format, err := image.DecodeConfig(io.TeeReader(r, &head))
	if errors.Is(err, image.ErrFormat) {
		if head.Len() == 0 {
			return nil, fmt.Errorf("data: could not decode image %s: it is empty", name)
		}
		return nil, fmt.Errorf("data: could not decode image %s: not a supported image format (supported: PNG, JPEG, GIF, BMP, TIFF, WebP)", name)
	}
	if err != nil {
		return nil, fmt.Errorf("data: could not decode image %s: %w", name, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("data: could not decode image %s: %s header gives size %d×%d", name, format, cfg.Width, cfg.Height)
	}
	if n := int64(cfg.Width) * int64(cfg.Height); n > MaxPixels {
		return nil, fmt.Errorf("data: could not decode image %s: %s of %d×%d = %d pixels is larger than the limit of %d pixels",
			name, format, cfg.Width, cfg.Height, n, MaxPixels)
	}
	// The bytes DecodeConfig consumed are replayed in front of the rest.
	img, _, err = image.Decode(io.MultiReader(&head, r))
	if err != nil {
		return nil, fmt.Errorf("data: could not decode image %s (%s): %w", name, format, err)
	}
	// A GIF's first frame may be smaller than its logical screen, so only
	// the decoded size itself is checked again.
	if b := img.Bounds(); b.Empty() || int64(b.Dx())*int64(b.Dy()) > MaxPixels {
		return nil, fmt.Errorf("data: could not decode image %s (%s): decoded size %d×%d is empty or over %d pixels",
			name, format, b.Dx(), b.Dy(), MaxPixels)
	}
	return img, nil
}
