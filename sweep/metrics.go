package sweep

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/xai-go/lrp"
	"github.com/xai-go/lrp/eval"
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// MetricStats is one metric of one grid point over all images.
type MetricStats struct {
	// Mean is the mean over the images.
	Mean float64
	// Std is the sample standard deviation over the images; SE = Std/√N
	// the standard error of the mean: differences between grid points
	// well below 2·SE are within the noise of the image sample.
	Std, SE float64
	// SeedStd is the sample standard deviation of the mean over the
	// seeds (Config.Seeds > 1, for metrics or modes with random draws),
	// else 0: differences below it are within the noise of the draws.
	SeedStd float64
	// BestDiffSE is the standard error of the mean per-image difference
	// between this grid point and the metric's best one (the images are
	// the same, so the comparison is paired and sharper than SE): the
	// point is distinguishable from the best when |Mean − best's Mean|
	// exceeds about 2·BestDiffSE (0 at the best point).
	BestDiffSE float64
	values     []float64 // per image, for BestDiffSE
}

// pairedToBest fills every row's BestDiffSE.
func (t *Table) pairedToBest() {
	for _, name := range t.Settings.Metrics {
		b := t.BestBy(name)
		if b < 0 {
			continue
		}
		best := t.Rows[b].Metrics[name].values
		for i := range t.Rows {
			st := t.Rows[i].Metrics[name]
			if i == b || len(st.values) != len(best) || len(best) == 0 {
				continue
			}
			d := make([]float64, len(best))
			for j := range d {
				d[j] = st.values[j] - best[j]
			}
			st.BestDiffSE = sampleStd(d) / math.Sqrt(float64(len(d)))
			t.Rows[i].Metrics[name] = st
		}
	}
}

// TiedWithBest returns the grid points (row indices, the best first) whose
// mean of the named metric lies within 2 paired standard errors
// (BestDiffSE) of the best point's: the points the images cannot tell
// apart from the best.
func (t *Table) TiedWithBest(metric string) []int {
	b := t.BestBy(metric)
	if b < 0 {
		return nil
	}
	out := []int{b}
	bm := t.Rows[b].Metrics[metric].Mean
	for i, r := range t.Rows {
		st := r.Metrics[metric]
		if i != b && math.Abs(st.Mean-bm) <= 2*st.BestDiffSE {
			out = append(out, i)
		}
	}
	return out
}

// metricInput is the eval.MetricInput of one grid point and batch, with
// the sanity checks' explainers built from the point's rule map.
func (c *Config) metricInput(g *nn.Graph, p Point, e *lrp.Explainer, x, r *tensor.T, targets []int) eval.MetricInput {
	explainer := func(e *lrp.Explainer) eval.Explainer {
		return func(x *tensor.T, targets []int) (*tensor.T, error) {
			res, err := e.Explain(x, lrp.Options{Targets: targets})
			if err != nil {
				return nil, err
			}
			return res.Relevance, nil
		}
	}
	cfg := c.Eval
	cfg.Shared, cfg.KeepInputs = nil, false
	return eval.MetricInput{Graph: g, X: x, R: r, Targets: targets, Config: cfg,
		Explain: explainer(e),
		ExplainFor: func(g2 *nn.Graph) (eval.Explainer, error) {
			m, err := c.Template.RuleMap(g2, p)
			if err != nil {
				return nil, err
			}
			e2, err := lrp.NewExplainer(g2, m)
			if err != nil {
				return nil, err
			}
			return explainer(e2), nil
		}}
}

// seedsOf returns how many seeds a metric is computed with: Config.Seeds
// if its value depends on random draws (its own or the mode's), else 1.
func (c *Config) seedsOf(m eval.Metric) int {
	if c.Seeds > 1 && m.SeedDependent(c.Eval.Mode) {
		return c.Seeds
	}
	return 1
}

// SeedDependent reports whether the sweep measured the named metric's
// spread over seeds (MetricStats.SeedStd).
func (t *Table) SeedDependent(metric string) bool {
	m, err := eval.LookupMetric(metric)
	return err == nil && t.Settings.Seeds > 1 && m.SeedDependent(t.Settings.Eval.Mode)
}

// computeMetrics computes c.Metrics for one unit: per-image values with
// the configured seed, and for random metrics the batch means of the
// further seeds.
func (c *Config) computeMetrics(in eval.MetricInput) (vals map[string][]float64, seedMeans map[string][]float64, err error) {
	vals, seedMeans = map[string][]float64{}, map[string][]float64{}
	for _, name := range c.Metrics {
		m, err := eval.LookupMetric(name)
		if err != nil {
			return nil, nil, err
		}
		for s := 0; s < c.seedsOf(m); s++ {
			in := in
			in.Config.Seed += uint64(s)
			if s > 0 {
				in.Curves = nil // computed with the first seed
			}
			v, err := m.Compute(in)
			if err != nil {
				return nil, nil, err
			}
			if s == 0 {
				vals[name] = v
			} else {
				seedMeans[name] = append(seedMeans[name], mean(v))
			}
		}
	}
	if len(seedMeans) == 0 {
		seedMeans = nil
	}
	return vals, seedMeans, nil
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(max(len(v), 1))
}

func sampleStd(v []float64) float64 {
	if len(v) < 2 {
		return 0
	}
	m := mean(v)
	var s float64
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(v)-1))
}

// BestBy returns the index of the row with the best mean of the named
// metric (by its direction), or −1 if the table lacks it.
func (t *Table) BestBy(metric string) int {
	m, err := eval.LookupMetric(metric)
	if err != nil {
		return -1
	}
	best := -1
	for i, r := range t.Rows {
		s, ok := r.Metrics[metric]
		if !ok || math.IsNaN(s.Mean) {
			continue
		}
		if best < 0 || (m.HigherIsBetter && s.Mean > t.Rows[best].Metrics[metric].Mean) || (!m.HigherIsBetter && s.Mean < t.Rows[best].Metrics[metric].Mean) {
			best = i
		}
	}
	return best
}

// Agreement returns the Kendall rank correlation τ_b between every pair of
// the table's metrics' rankings of the grid points, each metric oriented
// so that better is higher: τ[i][j] = 1 when metrics i and j order the
// grid points alike, −1 when oppositely, near 0 when unrelated.
func (t *Table) Agreement() (names []string, tau [][]float64) {
	names = slices.Clone(t.Settings.Metrics)
	score := make([][]float64, len(names))
	for k, name := range names {
		m, err := eval.LookupMetric(name)
		sign := -1.0
		if err == nil && m.HigherIsBetter {
			sign = 1
		}
		for _, r := range t.Rows {
			score[k] = append(score[k], sign*r.Metrics[name].Mean)
		}
	}
	tau = make([][]float64, len(names))
	for i := range tau {
		tau[i] = make([]float64, len(names))
		for j := range tau[i] {
			tau[i][j] = KendallTau(score[i], score[j])
		}
	}
	return names, tau
}

// KendallTau returns Kendall's τ_b of a and b (equal lengths), which
// accounts for ties as scipy.stats.kendalltau does:
//
//	τ_b = (C − D) / √((n₀ − T_a)(n₀ − T_b)),
//
// C and D the concordant and discordant pairs, n₀ = n(n−1)/2, T_a and T_b
// the pairs tied in a and in b. It returns NaN when either is constant.
func KendallTau(a, b []float64) float64 {
	if len(a) != len(b) {
		panic("sweep: KendallTau of slices of different lengths")
	}
	var c, d, ta, tb float64
	for i := range a {
		for j := i + 1; j < len(a); j++ {
			da, db := a[i]-a[j], b[i]-b[j]
			switch {
			case da == 0 && db == 0:
				ta++
				tb++
			case da == 0:
				ta++
			case db == 0:
				tb++
			case (da > 0) == (db > 0):
				c++
			default:
				d++
			}
		}
	}
	n0 := float64(len(a)*(len(a)-1)) / 2
	den := math.Sqrt((n0 - ta) * (n0 - tb))
	if den == 0 {
		return math.NaN()
	}
	return (c - d) / den
}

// checkMetrics validates Config.Metrics and Seeds.
func (c *Config) checkMetrics() error {
	if c.Seeds < 0 {
		return fmt.Errorf("sweep: %d seeds: must be at least 1", c.Seeds)
	}
	seen := map[string]bool{}
	for _, n := range c.Metrics {
		if _, err := eval.LookupMetric(n); err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
		if seen[n] {
			return fmt.Errorf("sweep: metric %q given twice", n)
		}
		seen[n] = true
	}
	return nil
}

// WriteAgreementCSV writes Agreement's matrix: a header "metric" and the
// metrics' names, then one line per metric with its τ_b against each.
func (t *Table) WriteAgreementCSV(w io.Writer) error {
	names, tau := t.Agreement()
	if len(names) == 0 {
		return fmt.Errorf("sweep: the sweep scored no metrics")
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(append([]string{"metric"}, names...)); err != nil {
		return err
	}
	for i, n := range names {
		line := []string{n}
		for _, v := range tau[i] {
			line = append(line, strconv.FormatFloat(v, 'f', 6, 64))
		}
		if err := cw.Write(line); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
