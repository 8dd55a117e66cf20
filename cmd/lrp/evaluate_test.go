package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEvaluate(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "results.json")
	var stdout bytes.Buffer
	err := run([]string{"evaluate", "--model", lrpData + "vgg.onnx", "--input", lrpData + "vgg.input.npy",
		"--methods", "lrp:epsilon-plus,random", "--patch", "4", "--order", "morf,lrf", "--perturb", "zero",
		"--out", out, "--plot", filepath.Join(dir, "curves.png"), "--figures", filepath.Join(dir, "fig")}, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	var res evalResults
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Methods) != 2 || res.Methods[0].ABPC == nil || len(res.Flips) != 10 {
		t.Fatalf("results: %d methods, flips %v", len(res.Methods), res.Flips)
	}
	lrpRes, random := res.Methods[0], res.Methods[1]
	// A faithful explanation destroys the logit faster than random order.
	if lrpRes.Orders["morf"].AUC >= random.Orders["morf"].AUC {
		t.Errorf("LRP MoRF AUC %g not below random's %g", lrpRes.Orders["morf"].AUC, random.Orders["morf"].AUC)
	}
	for _, f := range []string{"curves.png", "fig/flips-per-step.png", "fig/input001-lrp-epsilon-plus-lrf.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestEvaluateBadInput(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/file.txt", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"evaluate", "--model", lrpData + "vgg.onnx", "--input", lrpData + "vgg.input.npy", "--method", "random"}
	for _, c := range []struct {
		extra []string
		want  string
	}{
		{[]string{"--patch", "5", "--out", dir + "/r.json"}, "not divisible"},
		{[]string{"--patch", "4", "--steps", "20", "--out", dir + "/r.json"}, "at most 9"},
		{[]string{"--perturb", "smudge", "--out", dir + "/r.json"}, "unknown perturbation"},
		{[]string{"--order", "best", "--out", dir + "/r.json"}, "unknown order"},
		{[]string{"--out", dir + "/file.txt/r.json"}, "cannot write " + dir + "/file.txt/r.json"},
		{[]string{"--out", dir + "/r.json", "--plot", dir + "/file.txt/c.png"}, "cannot write " + dir + "/file.txt/c.png"},
		{[]string{"--out", dir + "/r.json", "--figures", dir + "/file.txt/fig"}, "cannot write " + dir + "/file.txt/fig"},
		{[]string{"--out", dir + "/r.json", "--save-steps", dir + "/file.txt"}, "cannot write " + dir + "/file.txt"},
		{[]string{"--relevance", lrpData + "mlp.zero.relevance.npy", "--out", dir + "/r.json"}, "does not match"},
	} {
		err := run(append(append([]string{}, base...), c.extra...), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one containing %q", c.extra, err, c.want)
		}
	}
	if _, err := os.Stat(dir + "/r.json"); err == nil {
		t.Error("a failed run wrote results")
	}
}

// evaluate with no rule flags uses the default composite: the same curves
// as naming it.
func TestEvaluateDefaultComposite(t *testing.T) {
	dir := t.TempDir()
	var got [2]evalResults
	for i, extra := range [][]string{nil, {"--methods", "lrp:epsilon-gamma-box"}} {
		out := filepath.Join(dir, fmt.Sprintf("r%d.json", i))
		args := append([]string{"evaluate", "--model", "mnist", "--patch", "4", "--out", out}, extra...)
		if err := run(args, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &got[i]); err != nil {
			t.Fatal(err)
		}
		if len(got[i].Methods) != 1 || got[i].Methods[0].Orders["morf"] == nil || len(got[i].Inputs) == 0 {
			t.Fatalf("results %d: %+v", i, got[i])
		}
	}
	a, b := got[0].Methods[0].Orders["morf"], got[1].Methods[0].Orders["morf"]
	if got[0].Methods[0].Method != "lrp" || fmt.Sprint(a.Scores) != fmt.Sprint(b.Scores) || a.AUC != b.AUC {
		t.Errorf("default: %s AUC %g, named composite: AUC %g", got[0].Methods[0].Method, a.AUC, b.AUC)
	}
}

// --precision bf16 scores the perturbed inputs in bfloat16 while the
// relevance stays float32: on the trained embedded models every image's
// AUC stays within 1% of float32's (the bound the matrix-engine issue sets
// for choosing bf16), the step-0 scores (unperturbed inputs) within 1% of
// the largest |logit|, and a bad value is refused before any work.
// --precision winograd (float32 with Winograd's 3×3 convolutions) is held
// to 1e-5 of the same: it changes only the rounding.
func TestEvaluatePrecision(t *testing.T) {
	precs := []string{"fp32", "bf16", "winograd"}
	limits := []float64{0, 0.01, 1e-5}
	for _, model := range []string{"mnist", "fashion-mnist"} {
		dir := t.TempDir()
		got := make([]evalResults, len(precs))
		for i, prec := range precs {
			out := filepath.Join(dir, prec+".json")
			if err := run([]string{"evaluate", "--model", model, "--precision", prec, "--out", out}, &bytes.Buffer{}); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &got[i]); err != nil {
				t.Fatal(err)
			}
			if got[i].Settings["precision"] != prec {
				t.Errorf("%s: settings record precision %v", prec, got[i].Settings["precision"])
			}
		}
		for k := 1; k < len(precs); k++ {
			prec, limit := precs[k], limits[k]
			for _, o := range []string{"morf", "lrf"} {
				f, h := got[0].Methods[0].Orders[o], got[k].Methods[0].Orders[o]
				identical := true
				for i := range f.AUCs {
					if d := math.Abs(h.AUCs[i] - f.AUCs[i]); d > limit*math.Abs(f.AUCs[i]) {
						t.Errorf("%s %s image %d: %s AUC %g, fp32 %g", model, o, i, prec, h.AUCs[i], f.AUCs[i])
					}
					identical = identical && h.AUCs[i] == f.AUCs[i]
					if d := math.Abs(h.Scores[i][0] - f.Scores[i][0]); d > limit*math.Abs(f.Scores[i][0]) {
						t.Errorf("%s %s image %d: %s logit %g, fp32 %g", model, o, i, prec, h.Scores[i][0], f.Scores[i][0])
					}
				}
				if identical {
					t.Errorf("%s %s: %s scores equal fp32's to the bit: the scorer did not run in %s", model, o, prec, prec)
				}
			}
		}
	}
	out := filepath.Join(t.TempDir(), "r.json")
	if err := run([]string{"evaluate", "--precision", "fp16", "--out", out}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "--precision fp16") {
		t.Errorf("--precision fp16: %v", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("--precision fp16 wrote results")
	}
}
