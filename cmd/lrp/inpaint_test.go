package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xai-go/lrp/inpaint"
)

const inpaintData = "../../inpaint/testdata/"

func readPNG(t *testing.T, path string) *inpaint.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	m, err := inpaint.FromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// lrp inpaint reproduces OpenCV's goldens, gray and RGB.
func TestInpaintCommand(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ image, mask, want string }{
		{"img_camera.png", "mask_p8_30.png", "out_camera_p8_30.png"},
		{"img_astronaut.png", "mask_blob.png", "out_astronaut_blob.png"},
	} {
		out := filepath.Join(dir, "out.png")
		var stdout bytes.Buffer
		err := runInpaint([]string{"--image", inpaintData + c.image, "--mask", inpaintData + c.mask, "--out", out}, &stdout)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stdout.String(), "wrote "+out) || !strings.Contains(stdout.String(), "radius 3") {
			t.Errorf("stdout: %q", stdout.String())
		}
		got, want := readPNG(t, out), readPNG(t, inpaintData+c.want)
		if got.W != want.W || got.H != want.H || got.C != want.C || !bytes.Equal(got.Pix, want.Pix) {
			t.Errorf("%s with %s: output differs from OpenCV's %s", c.image, c.mask, c.want)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".lrp-inpaint-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestInpaintCommandErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.png")
	small := filepath.Join(dir, "small.png")
	f, _ := os.Create(small)
	png.Encode(f, image.NewGray(image.Rect(0, 0, 5, 4)))
	f.Close()
	notImage := filepath.Join(dir, "x.png")
	os.WriteFile(notImage, []byte("not a png"), 0o644)
	img, mask := inpaintData+"img_chelsea.png", inpaintData+"mask_p8_10.png"
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--mask", mask, "--out", out}, "no image"},
		{[]string{"--image", img, "--out", out}, "no mask"},
		{[]string{"--image", img, "--mask", mask}, "no output"},
		{[]string{"--image", img, "--mask", mask, "--out", filepath.Join(dir, "out.jpg")}, "must end in .png"},
		{[]string{"--image", img, "--mask", mask, "--out", out, "extra"}, "unexpected arguments"},
		{[]string{"--image", img, "--mask", small, "--out", out}, "is 5×4 but image"},
		{[]string{"--image", notImage, "--mask", mask, "--out", out}, "x.png"},
		{[]string{"--image", img, "--mask", filepath.Join(dir, "missing.png"), "--out", out}, "missing.png"},
		{[]string{"--image", img, "--mask", mask, "--radius", "NaN", "--out", out}, "radius"},
		{[]string{"--image", img, "--mask", mask, "--out", filepath.Join(dir, "x.png", "dir", "o.png")}, "cannot write " + filepath.Join(dir, "x.png", "dir", "o.png")},
		{[]string{"--image", img, "--mask", mask, "--radius", "three", "--out", out}, "invalid value"},
	}
	for _, c := range cases {
		err := runInpaint(c.args, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one containing %q", c.args, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error spans several lines: %q", c.args, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if n := e.Name(); n != "small.png" && n != "x.png" {
			t.Errorf("a failed run left %s", n)
		}
	}
}
