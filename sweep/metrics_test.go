package sweep

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xai-go/lrp/eval"
)

func TestKendallTau(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "kendall.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []struct {
			A, B []float64
			Tau  float64 `json:"tau_b"`
		}
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	for i, c := range g.Cases {
		if got := KendallTau(c.A, c.B); math.Abs(got-c.Tau) > 1e-12 {
			t.Errorf("case %d: τ_b %.15g, scipy %.15g", i, got, c.Tau)
		}
	}
	if !math.IsNaN(KendallTau([]float64{1, 1}, []float64{1, 2})) {
		t.Error("τ of a constant is not NaN")
	}
}

func TestBestByAndAgreement(t *testing.T) {
	tb := &Table{Settings: Settings{Metrics: []string{"selectivity", "srg", "sparseness"}}}
	// selectivity (lower is better) and srg (higher is better) rank the
	// three points alike; sparseness the other way.
	for i, v := range [][3]float64{{3, 1, 0.9}, {1, 5, 0.1}, {2, 2, 0.5}} {
		tb.Rows = append(tb.Rows, Row{Point: Point{Index: i}, Metrics: map[string]MetricStats{
			"selectivity": {Mean: v[0]}, "srg": {Mean: v[1]}, "sparseness": {Mean: v[2]}}})
	}
	if tb.BestBy("selectivity") != 1 || tb.BestBy("srg") != 1 || tb.BestBy("sparseness") != 0 || tb.BestBy("irof") != -1 {
		t.Errorf("best: selectivity %d, srg %d, sparseness %d, irof %d", tb.BestBy("selectivity"), tb.BestBy("srg"), tb.BestBy("sparseness"), tb.BestBy("irof"))
	}
	names, tau := tb.Agreement()
	want := [][]float64{{1, 1, -1}, {1, 1, -1}, {-1, -1, 1}}
	for i := range want {
		for j := range want[i] {
			if math.Abs(tau[i][j]-want[i][j]) > 1e-12 {
				t.Errorf("τ(%s, %s) = %g, want %g", names[i], names[j], tau[i][j], want[i][j])
			}
		}
	}
	var b bytes.Buffer
	if err := tb.WriteAgreementCSV(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "metric,selectivity,srg,sparseness\nselectivity,1.000000,1.000000,-1.000000\n") {
		t.Errorf("agreement.csv:\n%s", b.String())
	}
}

// TestSweepMetrics runs a sweep with metrics, sharded and not: the
// per-image values are those eval computes for the grid point, srg's mean
// is the ABPC, shards merge to the unsharded table, and the CSV has the
// metric columns.
func TestSweepMetrics(t *testing.T) {
	dir := t.TempDir()
	c := testConfig(t, filepath.Join(dir, "all"))
	c.Metrics = []string{"srg", "sparseness", "selectivity"}
	if err := Run(c); err != nil {
		t.Fatal(err)
	}
	all, err := Merge(c.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all.Rows {
		if d := r.Metrics["srg"].Mean - *r.ABPC; math.Abs(d) > 1e-9*math.Abs(*r.ABPC) {
			t.Errorf("point %d: srg %g, abpc %g", r.Point.Index, r.Metrics["srg"].Mean, *r.ABPC)
		}
		if r.Metrics["sparseness"].SE <= 0 || r.Metrics["sparseness"].SeedStd != 0 {
			t.Errorf("point %d: sparseness %+v", r.Point.Index, r.Metrics["sparseness"])
		}
	}
	var parts []string
	for s := 0; s < 2; s++ {
		cs := c
		cs.Dir, cs.Shard, cs.Shards = filepath.Join(dir, "shard", string(rune('a'+s))), s, 2
		if err := Run(cs); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, cs.Dir)
	}
	merged, err := Merge(parts...)
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := all.WriteCSV(&a); err != nil {
		t.Fatal(err)
	}
	if err := merged.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Errorf("sharded table differs:\n%s\nunsharded:\n%s", b.String(), a.String())
	}
	if !strings.Contains(strings.SplitN(a.String(), "\n", 2)[0], ",abpc,srg,srg_std,srg_se,srg_best_diff_se,sparseness,sparseness_std,sparseness_se,sparseness_best_diff_se,selectivity,") {
		t.Errorf("header %q", strings.SplitN(a.String(), "\n", 2)[0])
	}
}

// TestSweepMetricSeeds checks the noise floor over seeds: measured for a
// random perturbation, not for sparseness.
func TestSweepMetricSeeds(t *testing.T) {
	c := testConfig(t, t.TempDir())
	c.Axes = c.Axes[:1]
	c.Eval.Mode = eval.Uniform
	c.Metrics, c.Seeds = []string{"srg", "sparseness"}, 3
	if err := Run(c); err != nil {
		t.Fatal(err)
	}
	tb, err := Merge(c.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if !tb.SeedDependent("srg") || tb.SeedDependent("sparseness") {
		t.Error("seed dependence of srg/sparseness wrong")
	}
	for _, r := range tb.Rows {
		if r.Metrics["srg"].SeedStd <= 0 || r.Metrics["sparseness"].SeedStd != 0 {
			t.Errorf("point %d: srg %+v, sparseness %+v", r.Point.Index, r.Metrics["srg"], r.Metrics["sparseness"])
		}
	}
	var b bytes.Buffer
	if err := tb.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "srg_seed_std") {
		t.Error("no srg_seed_std column")
	}
}

func TestSweepMetricErrors(t *testing.T) {
	for _, c := range []struct {
		metrics []string
		seeds   int
		want    string
	}{
		{[]string{"srg", "bogus"}, 1, `unknown metric "bogus"`},
		{[]string{"srg", "srg"}, 1, "given twice"},
		{[]string{"srg"}, -1, "seeds"},
	} {
		cfg := testConfig(t, t.TempDir())
		cfg.Metrics, cfg.Seeds = c.metrics, c.seeds
		if err := Run(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v/%d: %v, want %q", c.metrics, c.seeds, err, c.want)
		}
		if _, err := os.Stat(filepath.Join(cfg.Dir, "settings.json")); err == nil {
			t.Errorf("%v: settings written despite the error", c.metrics)
		}
	}
}

// TestPairedToBest checks the paired standard error against the best
// point and the points it cannot tell apart: differences (−1, 0, 1) have
// mean 0 and sample standard deviation 1, so SE = 1/√3.
func TestPairedToBest(t *testing.T) {
	tb := &Table{Settings: Settings{Metrics: []string{"srg"}}}
	for i, v := range [][]float64{{5, 6, 7}, {4, 6, 8}, {1, 2, 3}} {
		tb.Rows = append(tb.Rows, Row{Point: Point{Index: i}, Metrics: map[string]MetricStats{"srg": {Mean: mean(v), values: v}}})
	}
	tb.pairedToBest()
	want := []float64{0, 1 / math.Sqrt(3), 0} // row 2: differences (−4, −4, −4)
	for i, w := range want {
		if got := tb.Rows[i].Metrics["srg"].BestDiffSE; math.Abs(got-w) > 1e-15 {
			t.Errorf("row %d: paired SE %g, want %g", i, got, w)
		}
	}
	// Rows 0 and 1 tie (equal means); row 2 is 4 below with SE 0.
	if got := tb.TiedWithBest("srg"); len(got) != 2 || got[0] != 0 || got[1] != 1 {
		t.Errorf("tied with best: %v, want [0 1]", got)
	}
}
