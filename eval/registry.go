package eval

import (
	"fmt"
	"strings"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// MetricInput is everything a metric may need. Config holds the
// perturbation settings (Patch, Mode, Seed, MaxBatch, Mean, Std, Radius;
// Steps is used by auc, aopc and srg, Order by none: each metric fixes its
// own).
type MetricInput struct {
	Graph   *nn.Graph
	X, R    *tensor.T
	Targets []int
	Config  Config
	Options Options
	// Explain computes relevances with Graph (random-logit); ExplainFor
	// builds the same method on another model (mprt). Metrics that need
	// them fail without them.
	Explain    Explainer
	ExplainFor ExplainerFor
	// MPRTLayers bounds the layers mprt randomizes (0: all).
	MPRTLayers int
	// Curves, if set, holds results of Run with Config (in the order of
	// the key) for these X, R and Targets; auc, aopc, abpc and srg reuse
	// them instead of flipping again. Missing orders are run.
	Curves map[Order]*Result
}

// Metric describes one metric of the registry.
type Metric struct {
	// Name is the kebab-case name used on the command line and in
	// results.json.
	Name string
	// HigherIsBetter tells which way the metric ranks explanations.
	HigherIsBetter bool
	// Random reports whether the value depends on the seed whatever the
	// perturbation mode (random subsets or classes).
	Random bool
	// Summary is a one-line description with the paper.
	Summary string
	compute func(in MetricInput) ([]float64, error)
	// unperturbed marks metrics that perturb no input (they read the
	// relevance, or randomize the model), so a random mode leaves them be.
	unperturbed bool
}

// SeedDependent reports whether the metric's value depends on the seed
// with the perturbation mode: metrics that draw at random, and those that
// perturb the input in a random mode. MPRT's randomized weights depend on
// the seed too, but are another model per seed, not noise.
func (m Metric) SeedDependent(mode Mode) bool {
	return m.Random || !m.unperturbed && randomMode(mode)
}

// Compute returns the metric's value for every image of in.X.
func (m Metric) Compute(in MetricInput) ([]float64, error) {
	v, err := m.compute(in)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.Name, err)
	}
	return v, nil
}

// curve runs pixel flipping in the given order with in's settings.
func curve(in MetricInput, o Order) (*Result, error) {
	if r := in.Curves[o]; r != nil {
		return r, nil
	}
	cfg := in.Config
	cfg.Order, cfg.KeepInputs = o, false
	return Run(in.Graph, in.X, in.R, in.Targets, cfg)
}

func perImageAOPC(r *Result) []float64 {
	out := make([]float64, len(r.Scores))
	for i, s := range r.Scores {
		out[i] = AOPC(s)
	}
	return out
}

func srg(in MetricInput) ([]float64, error) {
	m, err := curve(in, MoRF)
	if err != nil {
		return nil, err
	}
	l, err := curve(in, LRF)
	if err != nil {
		return nil, err
	}
	return SRG(m.Summary, l.Summary)
}

var metrics = []Metric{
	{Name: "auc", Summary: "area under the MoRF pixel-flipping curve (Samek et al. 2017)", compute: func(in MetricInput) ([]float64, error) {
		r, err := curve(in, MoRF)
		if err != nil {
			return nil, err
		}
		return r.AUCs, nil
	}},
	{Name: "aopc", HigherIsBetter: true, Summary: "average drop of the MoRF curve from the unperturbed score (Samek et al. 2017)", compute: func(in MetricInput) ([]float64, error) {
		r, err := curve(in, MoRF)
		if err != nil {
			return nil, err
		}
		return perImageAOPC(r), nil
	}},
	{Name: "abpc", HigherIsBetter: true, Summary: "AUC(LRF) − AUC(MoRF) per image; the same as srg", compute: srg},
	{Name: "srg", HigherIsBetter: true, Summary: "symmetric relevance gain AUC(LRF) − AUC(MoRF) (Blücher et al. 2024)", compute: srg},
	{Name: "irof", HigherIsBetter: true, Summary: "iterative removal of SLIC superpixels, area over the normalized curve (Rieger & Hansen 2020)", compute: func(in MetricInput) ([]float64, error) {
		return IROF(in.Graph, in.X, in.R, in.Targets, in.Config, nil)
	}},
	{Name: "faithfulness-correlation", HigherIsBetter: true, Random: true, Summary: "Pearson correlation of subset relevance and logit drop (Bhatt et al. 2020)", compute: func(in MetricInput) ([]float64, error) {
		return FaithfulnessCorrelation(in.Graph, in.X, in.R, in.Targets, in.Config, in.Options)
	}},
	{Name: "selectivity", Summary: "area under the curve removing one patch at a time, most relevant first (Montavon et al. 2018)", compute: func(in MetricInput) ([]float64, error) {
		return Selectivity(in.Graph, in.X, in.R, in.Targets, in.Config)
	}},
	{Name: "sensitivity-n", HigherIsBetter: true, Random: true, Summary: "mean over subset sizes n of the correlation of subset relevance and logit drop (Ancona et al. 2018)", compute: func(in MetricInput) ([]float64, error) {
		return SensitivityN(in.Graph, in.X, in.R, in.Targets, in.Config, in.Options)
	}},
	{Name: "monotonicity", HigherIsBetter: true, Summary: "Spearman correlation of patch relevance and the logit's squared change (Nguyen & Martínez 2020)", compute: func(in MetricInput) ([]float64, error) {
		return MonotonicityCorrelation(in.Graph, in.X, in.R, in.Targets, in.Config, in.Options)
	}},
	{Name: "infidelity", Summary: "mean squared error between relevance·perturbation and logit drop (Yeh et al. 2019)", compute: func(in MetricInput) ([]float64, error) {
		return Infidelity(in.Graph, in.X, in.R, in.Targets, in.Config, in.Options)
	}},
	{Name: "mprt", unperturbed: true, Summary: "mean Spearman correlation with the relevance of cascadingly randomized models (Adebayo et al. 2018)", compute: func(in MetricInput) ([]float64, error) {
		if in.ExplainFor == nil {
			return nil, fmt.Errorf("needs an attribution method, not a fixed relevance")
		}
		r, err := MPRT(in.Graph, in.ExplainFor, in.X, in.R, in.Targets, in.Config.Seed, in.MPRTLayers)
		if err != nil {
			return nil, err
		}
		return r.Values, nil
	}},
	{Name: "random-logit", Random: true, Summary: "SSIM between the relevance of the target and of a random other class (Sixt et al. 2020)", compute: func(in MetricInput) ([]float64, error) {
		if in.Explain == nil {
			return nil, fmt.Errorf("needs an attribution method, not a fixed relevance")
		}
		shapes, err := in.Graph.Shapes(in.X.Shape)
		if err != nil {
			return nil, err
		}
		out := in.Graph.LogitsValue()
		return RandomLogit(in.Explain, in.X, in.R, in.Targets, tensor.Size(shapes[out])/in.X.Shape[0], in.Config.Seed)
	}},
	{Name: "sparseness", HigherIsBetter: true, unperturbed: true, Summary: "Gini index of |R| (Chalasani et al. 2020)", compute: func(in MetricInput) ([]float64, error) { return Sparseness(in.R) }},
	{Name: "complexity", unperturbed: true, Summary: "entropy of |R| / Σ|R| (Bhatt et al. 2020)", compute: func(in MetricInput) ([]float64, error) { return Complexity(in.R) }},
}

// Metrics lists the metrics by name, in the order of the command line's
// help.
func Metrics() []Metric { return append([]Metric(nil), metrics...) }

// MetricNames returns the names of the metrics, comma-separated.
func MetricNames() string {
	var s []string
	for _, m := range metrics {
		s = append(s, m.Name)
	}
	return strings.Join(s, ", ")
}

// LookupMetric returns the metric of the given name.
func LookupMetric(name string) (Metric, error) {
	for _, m := range metrics {
		if m.Name == name {
			return m, nil
		}
	}
	return Metric{}, fmt.Errorf("eval: unknown metric %q (%s)", name, MetricNames())
}

// ParseMetrics parses a comma-separated list of metric names; it reports
// every unknown name at once and refuses repeats.
func ParseMetrics(list string) ([]Metric, error) {
	var out []Metric
	var bad []string
	seen := map[string]bool{}
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		m, err := LookupMetric(s)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%q", s))
			continue
		}
		if seen[s] {
			return nil, fmt.Errorf("eval: metric %q given twice", s)
		}
		seen[s] = true
		out = append(out, m)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("eval: unknown metric %s (known: %s)", strings.Join(bad, ", "), MetricNames())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("eval: no metric given (known: %s)", MetricNames())
	}
	return out, nil
}
