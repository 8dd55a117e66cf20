package inpaint

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// patchOrder returns the n = (size/patch)² patch indices in a seeded random
// order: a Fisher–Yates shuffle driven by Knuth's MMIX LCG, which
// bench_compare.sh reproduces in Python so that OpenCV is timed on the
// same masks.
func patchOrder(n int, seed uint64) []int {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	x := seed
	for i := n - 1; i > 0; i-- {
		x = x*6364136223846793005 + 1442695040888963407
		j := int((x >> 33) % uint64(i+1))
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm
}

// patchMask marks the first round(frac·n) patch×patch patches of a
// size×size image in patchOrder(n, seed), as pixel flipping does.
func patchMask(size, patch int, frac float64, seed uint64) []uint8 {
	g := size / patch
	order := patchOrder(g*g, seed)
	m := make([]uint8, size*size)
	for _, p := range order[:int(frac*float64(g*g)+0.5)] {
		y0, x0 := p/g*patch, p%g*patch
		for y := y0; y < y0+patch; y++ {
			for x := x0; x < x0+patch; x++ {
				m[y*size+x] = 255
			}
		}
	}
	return m
}

// BenchmarkTelea inpaints the 224×224 RGB astronaut with 8×8-patch masks
// of 10%, 50% and 90% coverage, radius 3, reusing one Inpainter. When
// INPAINT_BENCH_MASKS names a directory (bench_compare.sh sets it), the
// masks are first checked against the ones OpenCV is timed on there.
func BenchmarkTelea(b *testing.B) {
	src := loadPNG(b, "img_astronaut.png")
	for _, pct := range []int{10, 50, 90} {
		mask := patchMask(224, 8, float64(pct)/100, 1)
		if dir := os.Getenv("INPAINT_BENCH_MASKS"); dir != "" {
			checkBenchMask(b, filepath.Join(dir, fmt.Sprintf("mask%d.png", pct)), mask)
		}
		b.Run(fmt.Sprintf("cover=%d%%", pct), func(b *testing.B) {
			p, err := NewInpainter(3)
			if err != nil {
				b.Fatal(err)
			}
			dst := &Image{}
			if err := p.Into(dst, src, mask); err != nil { // sizes the buffers
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Into(dst, src, mask); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func checkBenchMask(b *testing.B, path string, mask []uint8) {
	fh, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		b.Fatal(err)
	}
	m, _, _, err := MaskFromImage(img)
	if err != nil {
		b.Fatal(err)
	}
	for i := range m {
		if (m[i] != 0) != (mask[i] != 0) {
			b.Fatalf("%s differs from the Go mask at pixel %d", path, i)
		}
	}
}
