package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/xai-go/lrp/tensor"
)

// Sparseness is the sparseness of Chalasani et al., "Concise Explanations
// of Neural Networks using Adversarial Training" (ICML 2020): the Gini
// index of the absolute relevance of all n elements of each image (every
// channel), sorted ascending as v_1 ≤ … ≤ v_n,
//
//	G = Σ_k (2k − n − 1) v_k / (n Σ_k v_k),
//
// in [0, 1); higher is sparser. An all-zero relevance gives 0. Quantus
// adds 1e-7 to every element first; that changes G by less than 1e-7·n/Σv.
func Sparseness(r *tensor.T) ([]float64, error) {
	if r.Dims() < 2 || r.Shape[0] == 0 {
		return nil, fmt.Errorf("eval: sparseness needs a batch of relevances, got shape %s", tensor.ShapeString(r.Shape))
	}
	out := make([]float64, r.Shape[0])
	for i := range out {
		ri := r.Batch(i).Data
		v := make([]float64, len(ri))
		var sum float64
		for j, x := range ri {
			v[j] = math.Abs(float64(x))
			sum += v[j]
		}
		if sum == 0 {
			continue
		}
		slices.Sort(v)
		n := float64(len(v))
		var s float64
		for k, x := range v {
			s += (2*float64(k+1) - n - 1) * x
		}
		out[i] = s / (n * sum)
	}
	return out, nil
}

// Complexity is the complexity of Bhatt et al., "Evaluating and
// Aggregating Feature-based Model Explanations" (IJCAI 2020): the entropy
// of the fractional contribution p_k = |R_k| / Σ|R| of every element of
// each image (every channel),
//
//	H = −Σ_k p_k ln p_k   (0 ln 0 = 0),
//
// between 0 and ln n; lower is simpler. An all-zero relevance gives 0.
func Complexity(r *tensor.T) ([]float64, error) {
	if r.Dims() < 2 || r.Shape[0] == 0 {
		return nil, fmt.Errorf("eval: complexity needs a batch of relevances, got shape %s", tensor.ShapeString(r.Shape))
	}
	out := make([]float64, r.Shape[0])
	for i := range out {
		ri := r.Batch(i).Data
		var sum float64
		for _, x := range ri {
			sum += math.Abs(float64(x))
		}
		if sum == 0 {
			continue
		}
		var h float64
		for _, x := range ri {
			if p := math.Abs(float64(x)) / sum; p > 0 {
				h -= p * math.Log(p)
			}
		}
		out[i] = h
	}
	return out, nil
}

// SRG returns every image's symmetric relevance gain of Blücher et al.,
// "Decoupling Pixel Flipping and Occlusion Strategy for Consistent XAI
// Benchmarks" (TMLR 2024),
//
//	SRG = AUC(LRF) − AUC(MoRF),
//
// from the summaries of the two orders over the same images: the ABPC of
// each image's curves (ABPC is that of the mean curves, equal to the mean
// of the SRGs). Higher is better.
func SRG(morf, lrf Summary) ([]float64, error) {
	if len(morf.AUCs) != len(lrf.AUCs) {
		return nil, fmt.Errorf("eval: srg: %d MoRF and %d LRF curves", len(morf.AUCs), len(lrf.AUCs))
	}
	out := make([]float64, len(morf.AUCs))
	for i := range out {
		out[i] = lrf.AUCs[i] - morf.AUCs[i]
	}
	return out, nil
}

// Explainer computes the relevance (N×C×H×W) of x for the given target
// classes; sanity checks call it with other targets or models.
type Explainer func(x *tensor.T, targets []int) (*tensor.T, error)

// RandomLogit is the random logit test of Sixt et al., "When Explanations
// Lie: Why Many Modified BP Attributions Fail" (ICML 2020): each image is
// explained again for a class drawn uniformly (seeded) among the other
// classes−1 classes, and the value is the SSIM between the two relevance
// maps, each reduced to one channel (luminance for three channels, the sum
// otherwise). Lower is better: an explanation that does not change with
// the class explains the input, not the model's decision.
func RandomLogit(explain Explainer, x, r *tensor.T, targets []int, classes int, seed uint64) ([]float64, error) {
	if !tensor.SameShape(x.Shape, r.Shape) || x.Dims() != 4 {
		return nil, fmt.Errorf("eval: random logit: relevance shape %s does not match input %s", tensor.ShapeString(r.Shape), tensor.ShapeString(x.Shape))
	}
	if classes < 2 {
		return nil, fmt.Errorf("eval: random logit needs at least 2 classes, got %d", classes)
	}
	if len(targets) != x.Shape[0] {
		return nil, fmt.Errorf("eval: %d targets for %d inputs", len(targets), x.Shape[0])
	}
	off := make([]int, len(targets))
	for i, t := range targets {
		if t < 0 || t >= classes {
			return nil, fmt.Errorf("eval: target class %d out of range: the model has %d classes", t, classes)
		}
		rng := rand.New(rand.NewPCG(seed, uint64(i)<<8|0x40))
		off[i] = rng.IntN(classes - 1)
		if off[i] >= t {
			off[i]++
		}
	}
	r2, err := explain(x, off)
	if err != nil {
		return nil, fmt.Errorf("eval: random logit: %w", err)
	}
	if !tensor.SameShape(r2.Shape, r.Shape) {
		return nil, fmt.Errorf("eval: random logit: explanation shape %s, want %s", tensor.ShapeString(r2.Shape), tensor.ShapeString(r.Shape))
	}
	h, w := x.Shape[2], x.Shape[3]
	out := make([]float64, len(targets))
	for i := range out {
		out[i] = SSIM(pixelRelevance(r, i), pixelRelevance(r2, i), h, w)
	}
	return out, nil
}

// SSIM returns the structural similarity of the h×w maps a and b as
// scikit-image's structural_similarity computes it with its defaults
// (7×7 uniform window, K1 = 0.01, K2 = 0.03, sample covariances, mean over
// the windows inside the image) and the data range max − min over both
// maps, as Quantus' ssim passes it. Two constant equal maps give 1. Maps
// smaller than 7×7 use the largest odd window that fits.
func SSIM(a, b []float64, h, w int) float64 {
	if len(a) != h*w || len(b) != h*w {
		panic("eval: SSIM of maps of the wrong size")
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range a {
		lo, hi = min(lo, a[i], b[i]), max(hi, a[i], b[i])
	}
	dr := hi - lo
	if dr == 0 {
		return 1
	}
	win := min(7, h, w)
	if win%2 == 0 {
		win--
	}
	np := float64(win * win)
	covNorm := np / (np - 1)
	c1, c2 := (0.01*dr)*(0.01*dr), (0.03*dr)*(0.03*dr)
	var sum float64
	cnt := 0
	for y := 0; y+win <= h; y++ {
		for x := 0; x+win <= w; x++ {
			var ma, mb, maa, mbb, mab float64
			for dy := 0; dy < win; dy++ {
				for dx := 0; dx < win; dx++ {
					va, vb := a[(y+dy)*w+x+dx], b[(y+dy)*w+x+dx]
					ma += va
					mb += vb
					maa += va * va
					mbb += vb * vb
					mab += va * vb
				}
			}
			ma, mb, maa, mbb, mab = ma/np, mb/np, maa/np, mbb/np, mab/np
			va, vb, cov := covNorm*(maa-ma*ma), covNorm*(mbb-mb*mb), covNorm*(mab-ma*mb)
			sum += ((2*ma*mb + c1) * (2*cov + c2)) / ((ma*ma + mb*mb + c1) * (va + vb + c2))
			cnt++
		}
	}
	return sum / float64(cnt)
}
