package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/xai-go/lrp/data"
	"github.com/xai-go/lrp/inpaint"
	"github.com/xai-go/lrp/internal/outfile"
	"github.com/xai-go/lrp/viz"
)

// runInpaint implements
//
//	lrp inpaint --image in.png --mask mask.png [--radius 3] --out out.png
//
// It fills the pixels of the image that are nonzero in the mask with
// Telea's fast-marching inpainting (package inpaint, which matches OpenCV's
// cv2.inpaint(img, mask, radius, cv2.INPAINT_TELEA)) and writes the result
// as PNG through a temporary file and a rename, so that a failed run leaves
// no partial output.
func runInpaint(args []string, stdout io.Writer) error {
	fs := newFlags("inpaint", "--image IN --mask MASK [--radius 3] --out OUT.png")
	imagePath := fs.String("image", "", "image to inpaint (PNG, JPEG, GIF, BMP, TIFF, WebP); gray stays gray, anything else is RGB, alpha is dropped")
	maskPath := fs.String("mask", "", "mask image of the same size: its nonzero pixels (any colour component) are filled")
	radius := fs.Float64("radius", 3, "radius of the neighbourhood each filled pixel is taken from, as OpenCV's inpaintRadius (rounded, clamped to 1…100)")
	out := fs.String("out", "", "output PNG file")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return fmt.Errorf("inpaint: unexpected arguments %q (the image is given with --image)", pos)
	case *imagePath == "":
		return fmt.Errorf("inpaint: no image given: use --image FILE")
	case *maskPath == "":
		return fmt.Errorf("inpaint: no mask given: use --mask FILE")
	case *out == "":
		return fmt.Errorf("inpaint: no output given: use --out FILE.png")
	case !strings.EqualFold(filepath.Ext(*out), ".png"):
		return fmt.Errorf("inpaint: --out %s: the output is written as PNG and must end in .png", *out)
	}
	p, err := inpaint.NewInpainter(*radius)
	if err != nil {
		return err
	}
	if err := outfile.Check(*out); err != nil {
		return err
	}

	img, err := data.Decode(*imagePath)
	if err != nil {
		return err
	}
	src, err := inpaint.FromImage(img)
	if err != nil {
		return fmt.Errorf("%s: %w", *imagePath, err)
	}
	mimg, err := data.Decode(*maskPath)
	if err != nil {
		return err
	}
	mask, mw, mh, err := inpaint.MaskFromImage(mimg)
	if err != nil {
		return fmt.Errorf("%s: %w", *maskPath, err)
	}
	if mw != src.W || mh != src.H {
		return fmt.Errorf("inpaint: mask %s is %d×%d but image %s is %d×%d", *maskPath, mw, mh, *imagePath, src.W, src.H)
	}
	n := 0
	for _, v := range mask {
		if v != 0 {
			n++
		}
	}

	dst := &inpaint.Image{}
	if err := p.Into(dst, src, mask); err != nil {
		return err
	}
	if err := viz.SavePNG(*out, dst.ToImage()); err != nil {
		return fmt.Errorf("inpaint: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: %d×%d, %d channel(s), %d of %d pixels (%.1f%%) inpainted with radius %d\n",
		*out, src.W, src.H, src.C, n, len(mask), 100*float64(n)/float64(len(mask)), p.Radius())
	return nil
}
