package eval_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xai-go/lrp/eval"
	"github.com/xai-go/lrp/onnx"
	"github.com/xai-go/lrp/tensor"
)

// TestSummarize checks Summarize on the reference scores against the
// reference's mean curves, AUCs and AOPCs (golden.json) and the standard
// deviations and ABPCs of summary.json (gen_summary.py). Tolerance 1e-12
// relative: only the order of float64 sums differs.
func TestSummarize(t *testing.T) {
	d := loadGolden(t)
	b, err := os.ReadFile(filepath.Join("testdata", "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		AUCStd []float64          `json:"auc_std"`
		ABPC   map[string]float64 `json:"abpc"`
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-12*max(1, math.Abs(want)) {
			t.Errorf("%s = %.15g, want %.15g", what, got, want)
		}
	}
	sums := map[string]map[string]eval.Summary{}
	for i, c := range d.Cases {
		s, err := eval.Summarize(c.Scores)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("%s/%s/p%d/S%d", c.Mode, c.Order, c.Patch, c.Steps)
		if s.Images != len(c.Scores) || len(s.Mean) != len(c.Mean) || len(s.AUCs) != len(c.AUCs) {
			t.Fatalf("%s: %d images, %d steps, %d AUCs", name, s.Images, len(s.Mean), len(s.AUCs))
		}
		for k := range c.Mean {
			near(name+" mean curve", s.Mean[k], c.Mean[k])
		}
		for n := range c.AUCs {
			near(name+" AUC of an image", s.AUCs[n], c.AUCs[n])
		}
		near(name+" AUC", s.AUC, c.AUC)
		near(name+" AOPC", s.AOPC, c.AOPC)
		near(name+" AUC std", s.AUCStd, want.AUCStd[i])
		key := fmt.Sprintf("%s/p%d/S%d", c.Mode, c.Patch, c.Steps)
		if sums[key] == nil {
			sums[key] = map[string]eval.Summary{}
		}
		sums[key][c.Order] = s
	}
	for key, abpc := range want.ABPC {
		near(key+" ABPC", eval.ABPC(sums[key]["morf"], sums[key]["lrf"]), abpc)
	}
	if s, err := eval.Summarize(nil); err != nil || s.Images != 0 {
		t.Errorf("Summarize(nil) = %+v, %v", s, err)
	}
	if _, err := eval.Summarize([][]float64{{1, 2}, {1}}); err == nil {
		t.Error("curves of different lengths: no error")
	}
}

// TestMerge runs the golden cases on the images split in two batches and
// checks that the merged result is the reference's (the tolerances of
// TestGoldenThesis) and that Merge refuses results that do not fit.
func TestMerge(t *testing.T) {
	d := loadGolden(t)
	g, err := onnx.Load(filepath.Join("testdata", "cnn.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	slice := func(x *tensor.T, lo, hi int) *tensor.T {
		per := x.Len() / x.Shape[0]
		return &tensor.T{Shape: append([]int{hi - lo}, x.Shape[1:]...), Data: x.Data[lo*per : hi*per]}
	}
	var byOrder []*eval.Result
	for _, c := range d.Cases[:4] { // inpaint, MoRF and LRF, p 4 and 2
		var parts []*eval.Result
		for _, b := range [][2]int{{0, 1}, {1, 3}} {
			r, err := eval.Run(g, slice(d.x, b[0], b[1]), slice(d.r, b[0], b[1]), d.Targets[b[0]:b[1]], d.config(c))
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, r)
		}
		m, err := eval.Merge(parts...)
		if err != nil {
			t.Fatal(err)
		}
		var scale float64
		for _, s := range c.Scores {
			scale = max(scale, maxAbs(s...))
		}
		if len(m.Scores) != len(c.Scores) || len(m.AUCs) != len(c.AUCs) || fmt.Sprint(m.Flips) != fmt.Sprint(c.Flips) {
			t.Fatalf("merged %d curves, %d AUCs, flips %v", len(m.Scores), len(m.AUCs), m.Flips)
		}
		for n := range c.Scores {
			for k := range c.Scores[n] {
				if diff := math.Abs(m.Scores[n][k]-c.Scores[n][k]) / scale; diff > tolInpaint {
					t.Errorf("image %d step %d: %g, want %g", n, k, m.Scores[n][k], c.Scores[n][k])
				}
			}
		}
		for k := range c.Mean {
			if diff := math.Abs(m.Mean[k]-c.Mean[k]) / scale; diff > tolInpaint {
				t.Errorf("mean step %d: %g, want %g", k, m.Mean[k], c.Mean[k])
			}
		}
		if diff := math.Abs(m.AUC-c.AUC) / maxAbs(append([]float64{c.AUC}, c.AUCs...)...); diff > tolInpaint {
			t.Errorf("AUC %g, want %g", m.AUC, c.AUC)
		}
		if diff := math.Abs(m.AOPC-c.AOPC) / scale; diff > tolInpaint {
			t.Errorf("AOPC %g, want %g", m.AOPC, c.AOPC)
		}
		if m.ForwardTime != parts[0].ForwardTime+parts[1].ForwardTime || m.Inputs != nil || m.Config.Shared != nil {
			t.Error("times not summed, or inputs or shared steps kept")
		}
		byOrder = append(byOrder, parts[0])
	}
	for _, bad := range [][]*eval.Result{nil, {byOrder[0], byOrder[2]}, {byOrder[0], byOrder[1]}} {
		if _, err := eval.Merge(bad...); err == nil || !strings.Contains(err.Error(), "merge") {
			t.Errorf("merge of %d mismatched results: error %v", len(bad), err)
		}
	}
}
