package main

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

// TestEvaluateMetrics runs every metric of --metrics and checks that
// results.json holds per-image values and their mean, that the printed
// lines name them, and that srg and auc agree with the pixel-flipping
// numbers of the same run.
func TestEvaluateMetrics(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "results.json")
	var names []string
	for _, m := range eval.Metrics() {
		names = append(names, m.Name)
	}
	var stdout bytes.Buffer
	err := run([]string{"evaluate", "--model", lrpData + "vgg.onnx", "--input", lrpData + "vgg.input.npy",
		"--methods", "lrp:epsilon-plus,random", "--patch", "8", "--perturb", "zero", "--batch-size", "1",
		"--metrics", strings.Join(names, ","), "--out", out}, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	var res evalResults
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	for _, mr := range res.Methods {
		if len(mr.Metrics) != len(names) {
			t.Fatalf("%s: %d metrics, want %d", mr.Method, len(mr.Metrics), len(names))
		}
		for _, name := range names {
			m := mr.Metrics[name]
			if m == nil || len(m.Values) != 2 {
				t.Fatalf("%s %s: %+v", mr.Method, name, m)
			}
			if math.Abs(m.Mean-(m.Values[0]+m.Values[1])/2) > 1e-12 {
				t.Errorf("%s %s: mean %g of %v", mr.Method, name, m.Mean, m.Values)
			}
			if !strings.Contains(stdout.String(), mr.Method) || !strings.Contains(stdout.String(), " "+name+" ") {
				t.Errorf("output does not show %s %s:\n%s", mr.Method, name, stdout.String())
			}
		}
		if d := mr.Metrics["srg"].Mean - *mr.ABPC; math.Abs(d) > 1e-9*math.Abs(*mr.ABPC) {
			t.Errorf("%s: mean srg %g, abpc %g", mr.Method, mr.Metrics["srg"].Mean, *mr.ABPC)
		}
		if d := mr.Metrics["auc"].Mean - mr.Orders["morf"].AUC; math.Abs(d) > 1e-9*math.Abs(mr.Orders["morf"].AUC) {
			t.Errorf("%s: mean auc %g, morf AUC %g", mr.Method, mr.Metrics["auc"].Mean, mr.Orders["morf"].AUC)
		}
	}
	// mprt's stages hold every image, and its value is their Spearman
	// mean.
	for _, mr := range res.Methods {
		m := mr.Metrics["mprt"]
		if len(m.Layers) == 0 || len(m.Spearman) != len(m.Layers) || len(m.SSIM) != len(m.Layers) {
			t.Fatalf("%s mprt: %d layers, %d spearman, %d ssim stages", mr.Method, len(m.Layers), len(m.Spearman), len(m.SSIM))
		}
		for i, v := range m.Values {
			var s float64
			for k := range m.Layers {
				s += m.Spearman[k][i] / float64(len(m.Layers))
			}
			if math.Abs(s-v) > 1e-12 {
				t.Errorf("%s mprt image %d: %g, mean of stages %g", mr.Method, i, v, s)
			}
		}
	}
	if res.Settings["metrics"] != strings.Join(names, ",") {
		t.Errorf("settings.metrics %v", res.Settings["metrics"])
	}
}

func TestEvaluateMetricsBad(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "r.json")
	base := []string{"evaluate", "--model", lrpData + "vgg.onnx", "--input", lrpData + "vgg.input.npy", "--out", out}
	for _, c := range []struct {
		extra []string
		want  string
	}{
		{[]string{"--method", "random", "--metrics", "srg,smoothness,bogus"}, `--metrics: eval: unknown metric "smoothness", "bogus"`},
		{[]string{"--method", "random", "--metrics", "srg,srg"}, "given twice"},
		{[]string{"--relevance", lrpData + "vgg.input.npy", "--metrics", "sparseness,mprt"}, "--metrics mprt explains the inputs again"},
	} {
		err := run(append(append([]string{}, base...), c.extra...), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.extra, err, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: results written despite the error", c.extra)
		}
	}
}

// TestSweepMetricsCLI runs sweep --metrics on the embedded MNIST model:
// the best point of every metric is printed, agreement.csv holds the
// Kendall τ matrix (1 on the diagonal) and agreement.png is drawn.
func TestSweepMetricsCLI(t *testing.T) {
	dir := t.TempDir()
	var stdout bytes.Buffer
	err := run([]string{"sweep", "--model", "mnist", "--grid", "gamma=0,0.25", "--grid", "epsilon=0,0.25",
		"--perturb", "uniform", "--metrics", "srg,sparseness,faithfulness-correlation", "--seeds", "2", "--out", dir}, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"best srg (", "std over 2 seeds", "best sparseness (", "best faithfulness-correlation (", "agreement.csv"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "agreement.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 4 || lines[0] != "metric,srg,sparseness,faithfulness-correlation" || !strings.HasPrefix(lines[1], "srg,1.000000,") {
		t.Errorf("agreement.csv:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "agreement.png")); err != nil {
		t.Error(err)
	}
	if err := run([]string{"sweep", "--model", "mnist", "--grid", "gamma=0", "--metrics", "nope", "--out", filepath.Join(dir, "x")}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `unknown metric "nope"`) {
		t.Errorf("sweep --metrics nope: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
		t.Error("results directory created despite the error")
	}
}
