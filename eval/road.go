package eval

import (
	"math"
	"math/rand/v2"
)

// ROAD is the noisy linear imputation of Rong et al., "A Consistent and
// Efficient Evaluation Strategy for Attribution Methods" (ICML 2022): every
// flipped pixel takes the weighted mean of its 8 neighbours (weight 1/6
// for the 4 direct, 1/12 for the 4 diagonal ones; neighbours outside the
// image are left out), solved jointly over all flipped pixels of a channel,
//
//	(Σ_j w_ij) x_i − Σ_{j flipped} w_ij x_j = Σ_{j kept} w_ij v_j,
//
// then Gaussian noise of standard deviation RoadNoise is added. The system
// is symmetric positive semi-definite and is solved by conjugate gradients.
const ROAD Mode = "road"

// RoadNoise is the standard deviation of the noise added to imputed values
// (ROAD's default).
const RoadNoise = 0.01

var roadOffsets = [8][3]int{ // dy, dx, weight class (0: direct, 1: diagonal)
	{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0},
	{-1, -1, 1}, {-1, 1, 1}, {1, -1, 1}, {1, 1, 1},
}

var roadWeights = [2]float64{1.0 / 6, 1.0 / 12}

// roadImpute fills the pixels of plane (h×w) where mask is set, from the
// original values of the others.
func roadImpute(plane []float32, orig []float32, mask []bool, h, w int, rng *rand.Rand, noise float64) {
	idx := make([]int, h*w) // pixel → unknown index, or −1
	var unknowns []int
	for i, m := range mask {
		idx[i] = -1
		if m {
			idx[i] = len(unknowns)
			unknowns = append(unknowns, i)
		}
	}
	n := len(unknowns)
	if n == 0 {
		return
	}
	diag := make([]float64, n)
	b := make([]float64, n)
	for u, p := range unknowns {
		y, x := p/w, p%w
		for _, o := range roadOffsets {
			yy, xx := y+o[0], x+o[1]
			if yy < 0 || yy >= h || xx < 0 || xx >= w {
				continue
			}
			wt := roadWeights[o[2]]
			diag[u] += wt
			if q := yy*w + xx; idx[q] < 0 {
				b[u] += wt * float64(orig[q])
			}
		}
	}
	// A·v = diag·v − Σ_{flipped neighbours} w·v
	apply := func(v, out []float64) {
		for u, p := range unknowns {
			y, x := p/w, p%w
			s := diag[u] * v[u]
			for _, o := range roadOffsets {
				yy, xx := y+o[0], x+o[1]
				if yy < 0 || yy >= h || xx < 0 || xx >= w {
					continue
				}
				if j := idx[yy*w+xx]; j >= 0 {
					s -= roadWeights[o[2]] * v[j]
				}
			}
			out[u] = s
		}
	}
	x := conjugateGradient(apply, b, 1e-7, 4*n+100)
	for u, p := range unknowns {
		plane[p] = float32(x[u] + noise*rng.NormFloat64())
	}
}

// conjugateGradient solves A x = b for a symmetric positive semi-definite
// A given as a function, from x = 0, until ‖r‖ ≤ tol·‖b‖ or maxIter.
func conjugateGradient(apply func(v, out []float64), b []float64, tol float64, maxIter int) []float64 {
	n := len(b)
	x := make([]float64, n)
	r := append([]float64(nil), b...)
	p := append([]float64(nil), b...)
	ap := make([]float64, n)
	rr := dot(r, r)
	limit := tol * tol * math.Max(rr, 1e-30)
	for it := 0; it < maxIter && rr > limit; it++ {
		apply(p, ap)
		pap := dot(p, ap)
		if pap <= 0 {
			break
		}
		alpha := rr / pap
		for i := range x {
			x[i] += alpha * p[i]
			r[i] -= alpha * ap[i]
		}
		rr2 := dot(r, r)
		beta := rr2 / rr
		rr = rr2
		for i := range p {
			p[i] = r[i] + beta*p[i]
		}
	}
	return x
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
