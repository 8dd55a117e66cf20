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
		"--methods", "lrp:epsilon-plus,random", "--patch", "8", "--perturb", "zero",
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
