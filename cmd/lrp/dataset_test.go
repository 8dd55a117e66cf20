package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xai-go/lrp/tensor"
)

// A dataset folder with class sub-folders and one unreadable file.
func testDataset(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	samples, _ := filepath.Glob("../../models/samples/mnist/*.png")
	for _, s := range samples {
		label := strings.TrimSuffix(filepath.Base(s), ".png")[len(filepath.Base(s))-5:]
		dir := filepath.Join(root, "digit"+label)
		os.MkdirAll(dir, 0o755)
		b, _ := os.ReadFile(s)
		os.WriteFile(filepath.Join(dir, filepath.Base(s)), b, 0o644)
	}
	os.WriteFile(filepath.Join(root, "digit3", "broken.png"), []byte("not a png"), 0o644)
	return root
}

func TestPredictDataset(t *testing.T) {
	root := testDataset(t)
	out := filepath.Join(t.TempDir(), "logits.npy")
	var stdout bytes.Buffer
	if err := run([]string{"predict", "--data", root, "--batch-size", "3", "--top", "1", "--out", out}, &stdout); err != nil {
		t.Fatal(err)
	}
	// Folders digit0..digit9 are classes 0..9 in sorted order: the model
	// classifies its own samples correctly.
	if !strings.Contains(stdout.String(), "10 images, 1 unreadable skipped; top-1 accuracy 100.00% (10/10)") {
		t.Errorf("summary:\n%s", stdout.String())
	}
	logits, err := tensor.LoadNpy(out)
	if err != nil || logits.Shape[0] != 10 {
		t.Fatalf("logits %v %v", logits, err)
	}
	if err := run([]string{"predict", "--data", root, "--strict"}, &stdout); err == nil || !strings.Contains(err.Error(), "broken.png") {
		t.Errorf("--strict: %v", err)
	}
	if err := run([]string{"predict", "--data", root, "--classes", "digit3,digit7", "--top", "1"}, &stdout); err != nil {
		t.Fatal(err)
	}
}

func TestEvaluateDataset(t *testing.T) {
	root := testDataset(t)
	out := filepath.Join(t.TempDir(), "r.json")
	var stdout bytes.Buffer
	err := run([]string{"evaluate", "--data", root, "--limit", "7", "--batch-size", "4", "--methods", "lrp:epsilon-plus,random",
		"--patch", "4", "--order", "morf", "--out", out}, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	var res evalResults
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Inputs) != 6 || len(res.Methods[0].Orders["morf"].Scores) != 6 {
		t.Errorf("%d inputs (7 listed, 1 unreadable)", len(res.Inputs))
	}
	// In one batch: the same curves and metrics as merged from batches of
	// 4 (tolerance 1e-5 of the largest |value|: a forward pass may sum in
	// another order at another batch size).
	whole := filepath.Join(t.TempDir(), "r.json")
	err = run([]string{"evaluate", "--data", root, "--limit", "7", "--batch-size", "8", "--methods", "lrp:epsilon-plus,random",
		"--patch", "4", "--order", "morf", "--out", whole}, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	var one evalResults
	b, _ = os.ReadFile(whole)
	if err := json.Unmarshal(b, &one); err != nil {
		t.Fatal(err)
	}
	for m := range res.Methods {
		got, want := res.Methods[m].Orders["morf"], one.Methods[m].Orders["morf"]
		var scale float64
		for _, s := range want.Scores {
			for _, v := range s {
				scale = max(scale, math.Abs(v))
			}
		}
		near := func(what string, a, b float64, scale float64) {
			if math.Abs(a-b) > 1e-5*scale {
				t.Errorf("%s %s: batches of 4 give %g, one batch %g", res.Methods[m].Method, what, a, b)
			}
		}
		for n := range want.Scores {
			for k := range want.Scores[n] {
				near("score", got.Scores[n][k], want.Scores[n][k], scale)
			}
		}
		for k := range want.Mean {
			near("mean curve", got.Mean[k], want.Mean[k], scale)
		}
		near("AUC", got.AUC, want.AUC, math.Abs(want.AUC))
		near("AOPC", got.AOPC, want.AOPC, scale)
	}
}
