package eval

import (
	"fmt"
	"math"
	"slices"
)

// Summary holds the metrics of a set of perturbation curves of one order,
// one curve per image.
type Summary struct {
	// Images is the number of curves.
	Images int
	// Mean is the mean curve: Mean[k] = Σ_n Scores[n][k] / N.
	Mean []float64
	// AUC and AOPC are those of the mean curve. AUC is linear, so it is
	// also the mean of the images' AUCs.
	AUC, AOPC float64
	// AUCs holds every image's AUC, AUCStd their sample standard
	// deviation (0 for one image).
	AUCs   []float64
	AUCStd float64
}

// Summarize computes the mean curve and the metrics of the given curves
// (Scores[n][k] of image n after step k), which must all have the same
// length. The mean curve is accumulated as Σ_n (Scores[n][k] / N), in
// image order, which Run and the command line's results.json use. It
// returns the zero Summary for no curves.
func Summarize(scores [][]float64) (Summary, error) {
	s := Summary{Images: len(scores)}
	if len(scores) == 0 {
		return s, nil
	}
	steps := len(scores[0])
	s.Mean = make([]float64, steps)
	s.AUCs = make([]float64, len(scores))
	for n, sc := range scores {
		if len(sc) != steps {
			return Summary{}, fmt.Errorf("eval: curve %d has %d steps, curve 0 has %d", n, len(sc), steps)
		}
		for k, v := range sc {
			s.Mean[k] += v / float64(len(scores))
		}
		s.AUCs[n] = AUC(sc)
	}
	s.AUC, s.AOPC = AUC(s.Mean), AOPC(s.Mean)
	var mean float64
	for _, a := range s.AUCs {
		mean += a
	}
	mean /= float64(len(s.AUCs))
	if len(s.AUCs) > 1 {
		for _, a := range s.AUCs {
			s.AUCStd += (a - mean) * (a - mean)
		}
		s.AUCStd = math.Sqrt(s.AUCStd / float64(len(s.AUCs)-1))
	}
	return s, nil
}

// ABPC returns the area between the perturbation curves,
// AUC(LRF) − AUC(MoRF), of the mean curves: higher is better.
func ABPC(morf, lrf Summary) float64 { return lrf.AUC - morf.AUC }

// Merge joins the results of Run on consecutive batches of one dataset
// (same patch size, steps, order and perturbation) into one: Scores and AUCs are concatenated in the order given, Mean, AUC and
// AOPC are recomputed over all images, and the times are summed. Inputs
// and PatchOrder are not joined (the result has none), so callers may drop
// each batch's before merging. Config is the first result's, without
// Shared.
func Merge(results ...*Result) (*Result, error) {
	if len(results) == 0 {
		return nil, fmt.Errorf("eval: merge of no results")
	}
	first := results[0]
	out := &Result{Config: first.Config, Flips: slices.Clone(first.Flips)}
	out.Config.Shared = nil
	for i, r := range results {
		c := r.Config
		if c.Patch != first.Config.Patch || c.Steps != first.Config.Steps || c.Order != first.Config.Order || c.Mode != first.Config.Mode || !slices.Equal(r.Flips, first.Flips) {
			return nil, fmt.Errorf("eval: merge: result %d (patch %d, %d steps, %s, %s) does not match result 0 (patch %d, %d steps, %s, %s)",
				i, c.Patch, c.Steps, c.Order, c.Mode, first.Config.Patch, first.Config.Steps, first.Config.Order, first.Config.Mode)
		}
		out.Scores = append(out.Scores, r.Scores...)
		out.PerturbTime += r.PerturbTime
		out.ForwardTime += r.ForwardTime
	}
	if err := out.summarize(); err != nil {
		return nil, err
	}
	return out, nil
}
