package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/slic"
	"github.com/xai-go/lrp/tensor"
)

// Options holds the settings of the metrics beyond Config. Zero fields
// stand for their defaults.
type Options struct {
	// Runs is the number of random patch subsets of Faithfulness
	// Correlation (default 100, Quantus' nr_runs) and of Sensitivity-N per
	// subset size (default 20).
	Runs int
	// Subset is the size in patches of Faithfulness Correlation's subsets
	// (default a tenth of the patches, at least 1).
	Subset int
	// SensitivityN lists Sensitivity-N's subset sizes in patches (default
	// 1%, 2%, 5%, 10%, 20%, 50% and 80% of the patches, rounded, at least
	// 1 and below the number of patches, without repeats).
	SensitivityN []int
	// Samples is the number of perturbations per patch that Monotonicity
	// and Infidelity average over (default 1 for the deterministic modes
	// zero, mean, blur and inpaint, 4 for random, uniform and road).
	Samples int
}

// randomMode reports whether a mode draws random values.
func randomMode(m Mode) bool { return m == Random || m == Uniform || m == ROAD }

func (o Options) resolve(cfg Config, patches int) (Options, error) {
	if o.Runs < 0 || o.Subset < 0 || o.Samples < 0 {
		return o, fmt.Errorf("eval: metric options: runs %d, subset %d, samples %d: must not be negative", o.Runs, o.Subset, o.Samples)
	}
	if o.Subset == 0 {
		o.Subset = max(1, patches/10)
	}
	if o.Subset > patches {
		return o, fmt.Errorf("eval: faithfulness correlation subset of %d patches, but the image has only %d", o.Subset, patches)
	}
	if len(o.SensitivityN) == 0 {
		for _, f := range []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.8} {
			n := min(max(1, int(math.Round(f*float64(patches)))), max(1, patches-1))
			if !slices.Contains(o.SensitivityN, n) {
				o.SensitivityN = append(o.SensitivityN, n)
			}
		}
	}
	for _, n := range o.SensitivityN {
		if n < 1 || n > patches {
			return o, fmt.Errorf("eval: sensitivity-n subset size %d: must be between 1 and the %d patches", n, patches)
		}
	}
	if o.Samples == 0 {
		o.Samples = 1
		if randomMode(cfg.Mode) {
			o.Samples = 4
		}
	}
	return o, nil
}

// subsetStream separates the random draws of the subsets from those of
// the perturbation.
const subsetStream = 0x80

// drawSubsets draws, for each of n images, runs subsets of size k of the
// patches 0…total−1 (each subset without repeats).
func drawSubsets(n, total, k, runs int, seed uint64, stream uint64) [][][]int {
	out := make([][][]int, n)
	for i := range out {
		rng := rand.New(rand.NewPCG(seed, uint64(i)<<8|subsetStream|stream))
		out[i] = make([][]int, runs)
		for r := range out[i] {
			out[i][r] = rng.Perm(total)[:k]
		}
	}
	return out
}

// pixelRelevance reduces every image of r to one channel as PatchRelevance
// does (luminance for three channels, the sum otherwise): PatchRelevance
// with p = 1.
func pixelRelevance(r *tensor.T, i int) []float64 { return PatchRelevance(r.Batch(i), 1) }

func sumAt(v []float64, idx []int) float64 {
	var s float64
	for _, i := range idx {
		s += v[i]
	}
	return s
}

// FaithfulnessCorrelation is the faithfulness correlation of Bhatt et al.,
// "Evaluating and Aggregating Feature-based Model Explanations" (IJCAI
// 2020), over patches: for Options.Runs random subsets S of
// Options.Subset patches, perturbed by the configured mode,
//
//	μF = corr_S( Σ_{j∈S} R_j , f(x) − f(x_S) ),
//
// the Pearson correlation over the subsets between the subset's relevance
// (reduced to one channel as in pixel flipping) and the drop of the target
// logit. Higher is better; one value per image. Quantus draws subsets of
// single elements (pixels of one channel); here they are patches of all
// channels, which every perturbation mode can fill.
func FaithfulnessCorrelation(g *nn.Graph, x, r *tensor.T, targets []int, cfg Config, opt Options) ([]float64, error) {
	s, opt, err := metricScorer(g, x, r, targets, cfg, opt)
	if err != nil {
		return nil, err
	}
	runs := opt.Runs
	if runs == 0 {
		runs = 100
	}
	if runs < 2 {
		return nil, fmt.Errorf("eval: faithfulness correlation needs at least 2 runs, got %d", runs)
	}
	return s.subsetCorrelation(r, drawSubsets(x.Shape[0], s.m*s.m, opt.Subset, runs, s.cfg.Seed, 1))
}

// metricScorer is newScorer followed by resolving the metric options
// against its configuration, the start of every perturbing metric.
func metricScorer(g *nn.Graph, x, r *tensor.T, targets []int, cfg Config, opt Options) (*scorer, Options, error) {
	s, err := newScorer(g, x, r, targets, cfg)
	if err != nil {
		return nil, opt, err
	}
	opt, err = opt.resolve(s.cfg, s.m*s.m)
	return s, opt, err
}

// subsetCorrelation returns per image the Pearson correlation between the
// relevance of each subset and the logit drop when it is perturbed.
func (s *scorer) subsetCorrelation(r *tensor.T, subsets [][][]int) ([]float64, error) {
	y0, err := s.unperturbed()
	if err != nil {
		return nil, err
	}
	return s.subsetCorrelationFrom(r, y0, subsets)
}

// subsetCorrelationFrom is subsetCorrelation given the unperturbed scores
// y0 (s.unperturbed).
func (s *scorer) subsetCorrelationFrom(r *tensor.T, y0 [][]float64, subsets [][][]int) ([]float64, error) {
	ys, err := s.scoreSubsets(subsets)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(subsets))
	for i := range out {
		out[i] = subsetPearson(PatchRelevance(r.Batch(i), s.cfg.Patch), y0[i][0], subsets[i], ys[i])
	}
	return out, nil
}

// scoreSubsets returns the target scores of every image i with each of
// its subsets[i] of patches perturbed.
func (s *scorer) scoreSubsets(subsets [][][]int) ([][]float64, error) {
	counts := make([]int, len(subsets))
	for i := range counts {
		counts[i] = len(subsets[i])
	}
	return s.score(counts, 1, func(c *imageCtx, emit func(int, *tensor.T)) error {
		for j, sub := range subsets[c.i] {
			img, err := c.perturbed(c.mask(sub))
			if err != nil {
				return err
			}
			emit(j, img)
		}
		return nil
	})
}

// subsetPearson is the Pearson correlation over the subsets between the
// patch relevance rel summed over each subset and the drop y0 − ys[j] of
// the score it causes.
func subsetPearson(rel []float64, y0 float64, subsets [][]int, ys []float64) float64 {
	a, d := make([]float64, len(subsets)), make([]float64, len(subsets))
	for j, sub := range subsets {
		a[j], d[j] = sumAt(rel, sub), y0-ys[j]
	}
	return Pearson(a, d)
}

// SensitivityN is Sensitivity-N of Ancona et al., "Towards better
// understanding of gradient-based attribution methods for deep neural
// networks" (ICLR 2018), over patches: for each subset size n of
// Options.SensitivityN, the Pearson correlation over Options.Runs random
// subsets S of n patches between Σ_{j∈S} R_j and f(x) − f(x_S), as in
// FaithfulnessCorrelation; the value of an image is the mean of these
// correlations over the sizes (Ancona et al. plot them against n). Higher
// is better. Quantus' SensitivityN instead removes features cumulatively
// in the order of the relevance and correlates over the images.
func SensitivityN(g *nn.Graph, x, r *tensor.T, targets []int, cfg Config, opt Options) ([]float64, error) {
	s, opt, err := metricScorer(g, x, r, targets, cfg, opt)
	if err != nil {
		return nil, err
	}
	runs := opt.Runs
	if runs == 0 {
		runs = 20
	}
	if runs < 2 {
		return nil, fmt.Errorf("eval: sensitivity-n needs at least 2 runs, got %d", runs)
	}
	sets := make([][][][]int, len(opt.SensitivityN))
	for k, size := range opt.SensitivityN {
		sets[k] = drawSubsets(x.Shape[0], s.m*s.m, size, runs, s.cfg.Seed, 2+uint64(k)%0x70)
	}
	return s.sensitivityN(r, sets)
}

// sensitivityN averages subsetCorrelation over the subsets of each size:
// sets[k][i] are image i's subsets of the k-th size. The subsets of all
// sizes are scored together, in as few batches as they fill.
func (s *scorer) sensitivityN(r *tensor.T, sets [][][][]int) ([]float64, error) {
	y0, err := s.unperturbed() // once for every size
	if err != nil {
		return nil, err
	}
	all := make([][][]int, s.x.Shape[0])
	for i := range all {
		for _, subsets := range sets {
			all[i] = append(all[i], subsets[i]...)
		}
	}
	ys, err := s.scoreSubsets(all)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(all))
	for i := range out {
		rel := PatchRelevance(r.Batch(i), s.cfg.Patch)
		j0 := 0
		for _, subsets := range sets {
			k := len(subsets[i])
			out[i] += subsetPearson(rel, y0[i][0], subsets[i], ys[i][j0:j0+k]) / float64(len(sets))
			j0 += k
		}
	}
	return out, nil
}

// Selectivity is the selectivity of Montavon et al., "Methods for
// interpreting and understanding deep neural networks" (Digital Signal
// Processing 2018): patches are perturbed one at a time, most relevant
// first, cumulatively, and the value is the area (trapezoid, unit steps)
// under the target logit after 1, 2, …, m² patches, as Quantus'
// Selectivity computes it. Lower is better. The steps do not depend on
// each other's scores, so all m² perturbed inputs are scored in batches.
func Selectivity(g *nn.Graph, x, r *tensor.T, targets []int, cfg Config) ([]float64, error) {
	s, err := newScorer(g, x, r, targets, cfg)
	if err != nil {
		return nil, err
	}
	curves, err := s.cumulativePixels(func(i int) [][]int {
		order := PatchOrder(PatchRelevance(r.Batch(i), s.cfg.Patch), MoRF, nil)
		steps := make([][]int, len(order))
		for k, p := range order {
			steps[k] = s.patchPixels(p)
		}
		return steps
	}, 3)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(curves))
	for i, c := range curves {
		out[i] = AUC(c)
	}
	return out, nil
}

// patchPixels returns the pixel indices of patch p, row-major ascending.
func (s *scorer) patchPixels(p int) []int {
	w, size := s.x.Shape[3], s.cfg.Patch
	py, px := p/s.m, p%s.m
	out := make([]int, 0, size*size)
	for y := py * size; y < (py+1)*size; y++ {
		for x := px * size; x < (px+1)*size; x++ {
			out = append(out, y*w+x)
		}
	}
	return out
}

// cumulativePixels perturbs every image step by step, step k adding the
// pixels steps(i)[k] (pixel indices) to those perturbed before, and returns
// the target logit after each step.
func (s *scorer) cumulativePixels(steps func(i int) [][]int, stream uint64) ([][]float64, error) {
	n := s.x.Shape[0]
	all := make([][][]int, n)
	counts := make([]int, n)
	for i := range all {
		all[i] = steps(i)
		counts[i] = len(all[i])
	}
	hw := s.x.Shape[2] * s.x.Shape[3]
	return s.score(counts, stream, func(c *imageCtx, emit func(int, *tensor.T)) error {
		img := c.orig.Clone()
		acc := make([]bool, hw)
		step := make([]bool, hw)
		for k, px := range all[c.i] {
			clear(step)
			for _, j := range px {
				step[j], acc[j] = true, true
			}
			if err := c.p.step(img, step, acc); err != nil {
				return err
			}
			emit(k, img.Clone())
		}
		return nil
	})
}

// MonotonicityCorrelation is the monotonicity of Nguyen & Martínez, "On
// quantitative aspects of model interpretability" (arXiv 2007.07584,
// 2020), Quantus' MonotonicityCorrelation, over patches: each patch j is
// perturbed alone (Options.Samples times for random modes), giving the
// normalized squared change of the target logit
//
//	v_j = mean_samples (f(x_j) − f(x))² / f(x)²   (÷ 1 if |f(x)| < 1e-5),
//
// and the value is the Spearman rank correlation between the patches'
// relevance R_j and v_j. Higher is better.
func MonotonicityCorrelation(g *nn.Graph, x, r *tensor.T, targets []int, cfg Config, opt Options) ([]float64, error) {
	s, opt, err := metricScorer(g, x, r, targets, cfg, opt)
	if err != nil {
		return nil, err
	}
	y0, ys, err := s.singlePatches(opt.Samples, 4)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(ys))
	for i := range out {
		inv := 1.0
		if math.Abs(y0[i]) >= 1e-5 {
			inv = 1 / (y0[i] * y0[i])
		}
		v := make([]float64, s.m*s.m)
		for j := range v {
			for k := 0; k < opt.Samples; k++ {
				d := ys[i][j*opt.Samples+k] - y0[i]
				v[j] += d * d * inv / float64(opt.Samples)
			}
		}
		out[i] = Spearman(PatchRelevance(r.Batch(i), s.cfg.Patch), v)
	}
	return out, nil
}

// singlePatches scores every image with each patch perturbed alone,
// samples times: ys[i][j·samples+k]. It returns the unperturbed scores too.
func (s *scorer) singlePatches(samples int, stream uint64) (y0 []float64, ys [][]float64, err error) {
	u, err := s.unperturbed()
	if err != nil {
		return nil, nil, err
	}
	n, P := s.x.Shape[0], s.m*s.m
	counts := make([]int, n)
	for i := range counts {
		counts[i] = P * samples
	}
	ys, err = s.score(counts, stream, func(c *imageCtx, emit func(int, *tensor.T)) error {
		for j := 0; j < P; j++ {
			mask := c.mask([]int{j})
			for k := 0; k < samples; k++ {
				img, err := c.perturbed(mask)
				if err != nil {
					return err
				}
				emit(j*samples+k, img)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	y0 = make([]float64, n)
	for i := range y0 {
		y0[i] = u[i][0]
	}
	return y0, ys, nil
}

// Infidelity is the infidelity of Yeh et al., "On the (In)fidelity and
// Sensitivity of Explanations" (NeurIPS 2019) with square-removal
// perturbations: each patch j is perturbed alone (Options.Samples times
// for random modes) into x_j, I = x − x_j, and
//
//	INFD = mean_j ( Σ_elements R ⊙ I − (f(x) − f(x_j)) )²,
//
// over all channels' elements of the relevance. Lower is better. Quantus'
// Infidelity perturbs its patches cumulatively instead (each perturbation
// keeps the previous ones), which departs from the paper's independent
// perturbations.
func Infidelity(g *nn.Graph, x, r *tensor.T, targets []int, cfg Config, opt Options) ([]float64, error) {
	s, opt, err := metricScorer(g, x, r, targets, cfg, opt)
	if err != nil {
		return nil, err
	}
	y0, err := s.unperturbed()
	if err != nil {
		return nil, err
	}
	n, P := x.Shape[0], s.m*s.m
	counts := make([]int, n)
	for i := range counts {
		counts[i] = P * opt.Samples
	}
	dots := make([][]float64, n) // Σ R ⊙ (x − x_j), filled by the generators
	ys, err := s.score(counts, 5, func(c *imageCtx, emit func(int, *tensor.T)) error {
		ri := r.Batch(c.i)
		dots[c.i] = make([]float64, counts[c.i])
		for j := 0; j < P; j++ {
			mask := c.mask([]int{j})
			for k := 0; k < opt.Samples; k++ {
				img, err := c.perturbed(mask)
				if err != nil {
					return err
				}
				var d float64
				for e, v := range img.Data {
					d += float64(ri.Data[e]) * (float64(c.orig.Data[e]) - float64(v))
				}
				dots[c.i][j*opt.Samples+k] = d
				emit(j*opt.Samples+k, img)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]float64, n)
	for i := range out {
		for j, y := range ys[i] {
			e := dots[i][j] - (y0[i][0] - y)
			out[i] += e * e / float64(len(ys[i]))
		}
	}
	return out, nil
}

// IROF is Iterative Removal Of Features of Rieger & Hansen, "IROF: a low
// resource evaluation metric for explanation methods" (ICLR 2020
// workshop): the image is split into segments (segments[i] labels image
// i's pixels, row-major H×W, labels 0…K−1), the segments are ordered by
// their mean relevance (reduced to one channel), most relevant first, and
// removed cumulatively by the configured mode; with y_k the target logit
// after k segments,
//
//	IROF = K − Σ_{k=1}^{K−1} (y_k + y_{k+1}) / (2 y_0),
//
// the area over the normalized curve, as Quantus computes it for one
// image (in a batch, Quantus adds (y_K + 0)/(2 y_0) to images with fewer
// segments than the batch's most). Higher is better. With segments nil,
// they are SLICSegments(x), as in Quantus; PatchSegments gives the patch
// grid instead.
func IROF(g *nn.Graph, x, r *tensor.T, targets []int, cfg Config, segments [][]int) ([]float64, error) {
	s, err := newScorer(g, x, r, targets, cfg)
	if err != nil {
		return nil, err
	}
	n, h, w := x.Shape[0], x.Shape[2], x.Shape[3]
	if segments == nil {
		if segments, err = SLICSegments(x); err != nil {
			return nil, err
		}
	}
	if len(segments) != n {
		return nil, fmt.Errorf("eval: irof: %d segmentations for %d images", len(segments), n)
	}
	groups := make([][][]int, n)
	for i, seg := range segments {
		if len(seg) != h*w {
			return nil, fmt.Errorf("eval: irof: segmentation %d has %d labels for %d×%d pixels", i, len(seg), h, w)
		}
		k := 0
		for _, l := range seg {
			if l < 0 || l >= h*w {
				return nil, fmt.Errorf("eval: irof: segmentation %d: label %d out of range", i, l)
			}
			k = max(k, l+1)
		}
		groups[i] = make([][]int, k)
		for px, l := range seg {
			groups[i][l] = append(groups[i][l], px)
		}
		groups[i] = slices.DeleteFunc(groups[i], func(g []int) bool { return len(g) == 0 })
	}
	y0, err := s.unperturbed()
	if err != nil {
		return nil, err
	}
	curves, err := s.cumulativePixels(func(i int) [][]int {
		rel := pixelRelevance(r, i)
		means := make([]float64, len(groups[i]))
		for k, g := range groups[i] {
			means[k] = sumAt(rel, g) / float64(len(g))
		}
		order := PatchOrder(means, MoRF, nil)
		steps := make([][]int, len(order))
		for k, o := range order {
			steps[k] = groups[i][o]
		}
		return steps
	}, 6)
	if err != nil {
		return nil, err
	}
	out := make([]float64, n)
	for i, c := range curves {
		norm := make([]float64, len(c))
		for k, v := range c {
			norm[k] = v / y0[i][0]
		}
		out[i] = float64(len(c)) - AUC(norm)
	}
	return out, nil
}

// Pearson returns the Pearson correlation coefficient of a and b (equal
// lengths), or 0 when either is constant.
func Pearson(a, b []float64) float64 {
	if len(a) != len(b) {
		panic("eval: Pearson of slices of different lengths")
	}
	n := float64(len(a))
	var ma, mb float64
	for i := range a {
		ma += a[i] / n
		mb += b[i] / n
	}
	var sab, saa, sbb float64
	for i := range a {
		da, db := a[i]-ma, b[i]-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if saa == 0 || sbb == 0 {
		return 0
	}
	return sab / math.Sqrt(saa*sbb)
}

// ranks returns the ranks (1-based) of v, ties given their mean rank.
func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
			j++
		}
		for k := i; k <= j; k++ {
			r[idx[k]] = float64(i+j)/2 + 1
		}
		i = j + 1
	}
	return r
}

// Spearman returns the Spearman rank correlation of a and b (the Pearson
// correlation of their ranks, ties given their mean rank, as scipy's
// spearmanr), or 0 when either is constant.
func Spearman(a, b []float64) float64 { return Pearson(ranks(a), ranks(b)) }

// SLICSegments returns the SLIC superpixels of every image of x
// (N×C×H×W, in the model's input space), with scikit-image's default
// settings as Quantus' IROF uses them (see package slic): about 100
// segments per image.
func SLICSegments(x *tensor.T) ([][]int, error) {
	if x.Dims() != 4 {
		return nil, fmt.Errorf("eval: slic needs N×C×H×W images, got %s", tensor.ShapeString(x.Shape))
	}
	out := make([][]int, x.Shape[0])
	for i := range out {
		xi := x.Batch(i)
		img := make([]float64, xi.Len())
		for j, v := range xi.Data {
			img[j] = float64(v)
		}
		var err error
		if out[i], err = slic.Segment(img, x.Shape[1], x.Shape[2], x.Shape[3], slic.Options{}); err != nil {
			return nil, fmt.Errorf("eval: image %d: %w", i, err)
		}
	}
	return out, nil
}

// PatchSegments returns n segmentations of size×size images into the
// patch×patch patches of pixel flipping (row-major labels).
func PatchSegments(n, size, patch int) [][]int {
	m := size / patch
	out := make([][]int, n)
	for i := range out {
		out[i] = make([]int, size*size)
		for px := range out[i] {
			out[i][px] = (px/size/patch)*m + (px%size)/patch
		}
	}
	return out
}
