package eval

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/onnx"
	"github.com/xai-go/lrp/tensor"
)

// metricsGolden is testdata/metrics.json, written by gen_metrics.py: an
// independent float64 NumPy/torch implementation of every metric's
// formula on cnn.onnx, input.npy and relevance.npy (see
// testdata/README.md), and Quantus' values where it computes the same.
type metricsGolden struct {
	Patch   int       `json:"patch"`
	Targets []int     `json:"targets"`
	Y0      []float64 `json:"y0"`
	FC      struct {
		Subsets [][][]int            `json:"subsets"`
		Values  map[string][]float64 `json:"values"`
	} `json:"faithfulness_correlation"`
	SensN struct {
		Sizes   []int                `json:"sizes"`
		Subsets [][][][]int          `json:"subsets"`
		Values  map[string][]float64 `json:"values"`
	} `json:"sensitivity_n"`
	Selectivity  map[string][]float64 `json:"selectivity"`
	Monotonicity map[string][]float64 `json:"monotonicity"`
	Infidelity   map[string][]float64 `json:"infidelity"`
	IROF         struct {
		SlicSegments [][]int              `json:"slic_segments"`
		Patches      map[string][]float64 `json:"patches"`
		Slic         map[string][]float64 `json:"slic"`
	} `json:"irof"`
	Sparseness   []float64 `json:"sparseness"`
	Complexity   []float64 `json:"complexity"`
	SSIMNext     []float64 `json:"ssim_next"`
	SpearmanTies struct {
		A, B  []float64
		Value float64
	} `json:"spearman_ties"`
	Quantus struct {
		SelectivityZeroReplicated []float64 `json:"selectivity_zero_replicated"`
		IROFSlicZeroReplicated    []float64 `json:"irof_slic_zero_replicated"`
		Sparseness                []float64 `json:"sparseness"`
		Complexity                []float64 `json:"complexity"`
	} `json:"quantus"`
}

type metricsFixture struct {
	metricsGolden
	g    *nn.Graph
	x, r *tensor.T
}

func loadMetrics(t *testing.T) *metricsFixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f metricsFixture
	if err := json.Unmarshal(b, &f.metricsGolden); err != nil {
		t.Fatal(err)
	}
	if f.g, err = onnx.Load(filepath.Join("testdata", "cnn.onnx")); err != nil {
		t.Fatal(err)
	}
	if f.x, err = tensor.LoadNpy(filepath.Join("testdata", "input.npy")); err != nil {
		t.Fatal(err)
	}
	if f.r, err = tensor.LoadNpy(filepath.Join("testdata", "relevance.npy")); err != nil {
		t.Fatal(err)
	}
	return &f
}

func (f *metricsFixture) cfg(mode Mode) Config {
	return Config{Patch: f.Patch, Mode: mode, Mean: []float64{0.485, 0.456, 0.406}, Std: []float64{0.229, 0.224, 0.225}}
}

func (f *metricsFixture) scorer(t *testing.T, mode Mode) *scorer {
	t.Helper()
	s, err := newScorer(f.g, f.x, f.r, f.Targets, f.cfg(mode))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Tolerance of the Go metrics (float32 forward passes) against the
// float64 reference: |got − want| ≤ metricTol · max(1, max |want|) of the
// case. Measured worst cases are logged with -v.
const metricTol = 1e-5

func closeTo(t *testing.T, name string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	scale := 1.0
	for _, w := range want {
		scale = max(scale, math.Abs(w))
	}
	var worst float64
	for i := range want {
		d := math.Abs(got[i]-want[i]) / scale
		worst = max(worst, d)
		if !(d <= tol) {
			t.Errorf("%s image %d: %.9g, want %.9g (difference %.2g of %g > %g)", name, i, got[i], want[i], d, scale, tol)
		}
	}
	t.Logf("%s: worst difference %.2g of %g", name, worst, scale)
}

func TestGoldenSubsetMetrics(t *testing.T) {
	f := loadMetrics(t)
	for mode, want := range f.FC.Values {
		got, err := f.scorer(t, Mode(mode)).subsetCorrelation(f.r, f.FC.Subsets)
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "faithfulness-correlation/"+mode, got, want, metricTol)
	}
	for mode, want := range f.SensN.Values {
		got, err := f.scorer(t, Mode(mode)).sensitivityN(f.r, f.SensN.Subsets)
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "sensitivity-n/"+mode, got, want, metricTol)
	}
}

func TestGoldenSequentialMetrics(t *testing.T) {
	f := loadMetrics(t)
	for mode, want := range f.Selectivity {
		got, err := Selectivity(f.g, f.x, f.r, f.Targets, f.cfg(Mode(mode)))
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "selectivity/"+mode, got, want, metricTol)
	}
	for mode, want := range f.IROF.Patches {
		got, err := IROF(f.g, f.x, f.r, f.Targets, f.cfg(Mode(mode)), PatchSegments(3, 32, f.Patch))
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "irof/patches/"+mode, got, want, metricTol)
	}
	// Without segments IROF uses package slic, whose labels are
	// skimage's: the same values as with the golden segments.
	seg, err := SLICSegments(f.x)
	if err != nil {
		t.Fatal(err)
	}
	for i := range seg {
		if !slices.Equal(seg[i], f.IROF.SlicSegments[i]) {
			t.Errorf("image %d: SLIC segments differ from skimage's", i)
		}
	}
	got, err := IROF(f.g, f.x, f.r, f.Targets, f.cfg(Zero), nil)
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "irof/default/zero", got, f.IROF.Slic["zero"], metricTol)
	for mode, want := range f.IROF.Slic {
		got, err := IROF(f.g, f.x, f.r, f.Targets, f.cfg(Mode(mode)), f.IROF.SlicSegments)
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "irof/slic/"+mode, got, want, metricTol)
	}
}

func TestGoldenSinglePatchMetrics(t *testing.T) {
	f := loadMetrics(t)
	for mode, want := range f.Monotonicity {
		got, err := MonotonicityCorrelation(f.g, f.x, f.r, f.Targets, f.cfg(Mode(mode)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "monotonicity/"+mode, got, want, metricTol)
	}
	for mode, want := range f.Infidelity {
		got, err := Infidelity(f.g, f.x, f.r, f.Targets, f.cfg(Mode(mode)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "infidelity/"+mode, got, want, metricTol)
	}
}

func TestGoldenComplexityMetrics(t *testing.T) {
	f := loadMetrics(t)
	sp, err := Sparseness(f.r)
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "sparseness", sp, f.Sparseness, 1e-12)
	cx, err := Complexity(f.r)
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "complexity", cx, f.Complexity, 1e-12)
	// Quantus adds 1e-7 to every |R| before the Gini index (relevances
	// here are ~1e-3, so that moves it by ~3e-5) and computes the entropy
	// in float32.
	closeTo(t, "sparseness vs Quantus", sp, f.Quantus.Sparseness, 1e-4)
	closeTo(t, "complexity vs Quantus", cx, f.Quantus.Complexity, 1e-6)
	var ssim []float64
	n := f.r.Shape[0]
	for i := 0; i < n; i++ {
		ssim = append(ssim, SSIM(pixelRelevance(f.r, i), pixelRelevance(f.r, (i+1)%n), 32, 32))
	}
	closeTo(t, "ssim vs skimage", ssim, f.SSIMNext, 1e-12)
	closeTo(t, "spearman with ties vs scipy", []float64{Spearman(f.SpearmanTies.A, f.SpearmanTies.B)}, []float64{f.SpearmanTies.Value}, 1e-12)
}

// replicated returns the luminance of r repeated over its three channels.
func replicated(r *tensor.T) *tensor.T {
	out := tensor.New(r.Shape...)
	hw := r.Shape[2] * r.Shape[3]
	for i := 0; i < r.Shape[0]; i++ {
		l := pixelRelevance(r, i)
		for c := 0; c < 3; c++ {
			for j, v := range l {
				out.Data[(i*3+c)*hw+j] = float32(v)
			}
		}
	}
	return out
}

// TestQuantus compares with Quantus 0.6 where it computes the same thing:
// Selectivity and IROF (on SLIC segments), zero baseline, relevance
// replicated over channels so that Quantus' channel sums order as our
// luminance does.
func TestQuantus(t *testing.T) {
	f := loadMetrics(t)
	rep := replicated(f.r)
	sel, err := Selectivity(f.g, f.x, rep, f.Targets, f.cfg(Zero))
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "selectivity vs Quantus", sel, f.Quantus.SelectivityZeroReplicated, metricTol)
	irof, err := IROF(f.g, f.x, rep, f.Targets, f.cfg(Zero), f.IROF.SlicSegments)
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "irof vs Quantus", irof, f.Quantus.IROFSlicZeroReplicated, metricTol)
}

func TestMetricErrors(t *testing.T) {
	f := loadMetrics(t)
	cfg := f.cfg(Zero)
	if _, err := FaithfulnessCorrelation(f.g, f.x, f.r, f.Targets, cfg, Options{Subset: 65}); err == nil || !strings.Contains(err.Error(), "subset") {
		t.Errorf("subset larger than the patches: %v", err)
	}
	if _, err := SensitivityN(f.g, f.x, f.r, f.Targets, cfg, Options{SensitivityN: []int{0}}); err == nil {
		t.Error("sensitivity-n size 0 accepted")
	}
	if _, err := Selectivity(f.g, f.x, f.r, []int{1, 2}, cfg); err == nil {
		t.Error("2 targets for 3 images accepted")
	}
	if _, err := IROF(f.g, f.x, f.r, f.Targets, cfg, [][]int{{0}}); err == nil {
		t.Error("bad segmentation accepted")
	}
	bad := cfg
	bad.Patch = 5
	if _, err := Infidelity(f.g, f.x, f.r, f.Targets, bad, Options{}); err == nil {
		t.Error("patch 5 on 32×32 accepted")
	}
	if _, err := ParseMetrics("srg,bogus,nope"); err == nil || !strings.Contains(err.Error(), `"bogus", "nope"`) {
		t.Errorf("unknown metrics: %v", err)
	}
	if _, err := ParseMetrics("srg,srg"); err == nil {
		t.Error("repeated metric accepted")
	}
	for _, name := range []string{"mprt", "random-logit"} {
		m, err := LookupMetric(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Compute(MetricInput{Graph: f.g, X: f.x, R: f.r, Targets: f.Targets, Config: cfg}); err == nil || !strings.Contains(err.Error(), "attribution method") {
			t.Errorf("%s without an explainer: %v", name, err)
		}
	}
}
