package eval

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/xai-go/lrp/tensor"
)

// Order is the order in which patches are flipped.
type Order string

// The sort objectives.
const (
	MoRF        Order = "morf"   // most relevant first
	LRF         Order = "lrf"    // least relevant first
	RandomOrder Order = "random" // seeded random permutation
)

// ParseOrder returns the order of the given name.
func ParseOrder(s string) (Order, error) {
	switch o := Order(s); o {
	case MoRF, LRF, RandomOrder:
		return o, nil
	}
	return "", fmt.Errorf("eval: unknown order %q (morf, lrf, random)", s)
}

// FlipsPerStep returns the number of patches flipped at each step 0…m+1
// for m patches per side: 0, then 2k−1 for step k ≤ m, then all m² at the
// final midpoint step.
func FlipsPerStep(m int) []int {
	flips := make([]int, m+2)
	for k := 1; k <= m; k++ {
		flips[k] = 2*k - 1
	}
	flips[m+1] = m * m
	return flips
}

// luminance weights for reducing RGB relevance to one channel (as
// torchvision's Grayscale).
var luminance = [3]float64{0.2989, 0.587, 0.114}

// PatchRelevance reduces one image's relevance (C×H×W) to one channel and
// sums it over p×p patches, in row-major patch order.
func PatchRelevance(r *tensor.T, p int) []float64 {
	c, h, w := r.Shape[0], r.Shape[1], r.Shape[2]
	m := w / p
	sums := make([]float64, (h/p)*m)
	for ch := 0; ch < c; ch++ {
		weight := 1.0
		if c == 3 {
			weight = luminance[ch]
		}
		plane := r.Data[ch*h*w : (ch+1)*h*w]
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				sums[(y/p)*m+x/p] += weight * float64(plane[y*w+x])
			}
		}
	}
	return sums
}

// PatchOrder returns the patch indices in flipping order. Ties keep the
// row-major patch order; the random order uses rng.
func PatchOrder(sums []float64, o Order, rng *rand.Rand) []int {
	idx := make([]int, len(sums))
	for i := range idx {
		idx[i] = i
	}
	switch o {
	case MoRF:
		sort.SliceStable(idx, func(a, b int) bool { return sums[idx[a]] > sums[idx[b]] })
	case LRF:
		sort.SliceStable(idx, func(a, b int) bool { return sums[idx[a]] < sums[idx[b]] })
	default:
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	}
	return idx
}

// AUC returns the trapezoidal area under y with x = 0, 1, 2, ….
func AUC(y []float64) float64 {
	var a float64
	for k := 0; k+1 < len(y); k++ {
		a += (y[k] + y[k+1]) / 2
	}
	return a
}

// AOPC returns the average over the curve of the drop from y[0].
func AOPC(y []float64) float64 {
	if len(y) == 0 {
		return 0
	}
	var s float64
	for _, v := range y {
		s += y[0] - v
	}
	return s / float64(len(y))
}
