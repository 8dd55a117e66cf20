package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xai-go/lrp/tensor"
)

// npyRowHashes hashes the data section of a little-endian float32 .npy
// file row by row, straight from its bytes: an independent computation
// of sampleHashes.
func npyRowHashes(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:6]) != "\x93NUMPY" || b[6] != 1 {
		t.Fatalf("%s: not a version-1 .npy", path)
	}
	hlen := int(binary.LittleEndian.Uint16(b[8:10]))
	header := string(b[10 : 10+hlen])
	if !strings.Contains(header, "'<f4'") {
		t.Fatalf("%s: header %q is not little-endian float32", path, header)
	}
	x, err := tensor.LoadNpy(path)
	if err != nil {
		t.Fatal(err)
	}
	data := b[10+hlen:]
	rows := x.Shape[0]
	per := len(data) / rows
	var out []string
	for i := 0; i < rows; i++ {
		s := sha256.Sum256(data[i*per : (i+1)*per])
		out = append(out, hex.EncodeToString(s[:]))
	}
	return out
}

// swapRows writes x with its first two samples exchanged.
func swapRows(t *testing.T, in, out string) {
	t.Helper()
	x, err := tensor.LoadNpy(in)
	if err != nil {
		t.Fatal(err)
	}
	per := x.Len() / x.Shape[0]
	y := tensor.FromData(append(append([]float32{}, x.Data[per:2*per]...), x.Data[:per]...), append([]int{2}, x.Shape[1:]...)...)
	if err := tensor.SaveNpy(out, y); err != nil {
		t.Fatal(err)
	}
}

// captureStderr runs fn with os.Stderr redirected and returns what it
// printed.
func captureStderr(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	defer func() { os.Stderr = old }()
	fn()
	w.Close()
	os.Stderr = old
	return <-done
}

func TestExitCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errInterrupted, 130},
		{fmt.Errorf("explain: %w", errInterrupted), 130},
		{errors.New("model: no such file"), 2},
		{flag.ErrHelp, 2},
	} {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("exitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

func TestSampleHashesMatchFileBytes(t *testing.T) {
	x, err := tensor.LoadNpy(lrpData + "vgg.input.npy")
	if err != nil {
		t.Fatal(err)
	}
	got, want := sampleHashes(x), npyRowHashes(t, lrpData+"vgg.input.npy")
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("sampleHashes %v, want %v", got, want)
	}
}

// An output under a regular file fails before the model is even opened
// (the model named here does not exist); a missing parent is created.
func TestExplainOutputCheckedFirst(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file.txt")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{filepath.Join(file, "x.npy"), filepath.Join(file, "heatmaps")} {
		err := run([]string{"explain", "--model", filepath.Join(dir, "missing.onnx"), "--input", lrpData + "vgg.input.npy",
			"--composite", "epsilon-plus", "--out", out}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "cannot write "+out) {
			t.Errorf("--out %s: error %v, want one naming it before the model", out, err)
		}
	}
	out := filepath.Join(dir, "nodir", "sub", "x.npy")
	err := run([]string{"explain", "--model", lrpData + "vgg.onnx", "--input", lrpData + "vgg.input.npy",
		"--composite", "epsilon-plus", "--target", "3", "--out", out}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var side relevanceInfo
	if err := json.Unmarshal(b, &side); err != nil {
		t.Fatal(err)
	}
	want := npyRowHashes(t, lrpData+"vgg.input.npy")
	if strings.Join(side.Inputs.SHA256, ",") != strings.Join(want, ",") || len(side.Inputs.Names) != 2 ||
		fmt.Sprint(side.Targets) != "[3 3]" || side.Method == nil || side.Method.Composite != "epsilon-plus" ||
		side.Model == nil || len(side.Model.SHA256) != 64 || side.Tool == "" || fmt.Sprint(side.Shape) != "[2 3 32 32]" {
		t.Errorf("sidecar:\n%s", b)
	}
}

func TestExplainRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "old-heatmap.png"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"explain", "--model", lrpData + "vgg.onnx", "--input", lrpData + "vgg.input.npy", "--composite", "epsilon-plus", "--out", dir}
	err := run(args, io.Discard)
	if err == nil || !strings.Contains(err.Error(), dir+" is not empty") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("error %v, want a refusal of the non-empty %s", err, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "relevance.npy")); err == nil {
		t.Error("a refused run wrote relevance.npy")
	}
	if err := run(append(args, "--force"), io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"relevance.npy", "relevance.npy.json", "old-heatmap.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

// results.json records what is needed to repeat the run.
func TestEvaluateRecordsSettings(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.txt")
	if err := os.WriteFile(rules, []byte("0-:epsilon(0.5)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "new", "results.json")
	err := run([]string{"evaluate", "--model", lrpData + "vgg.onnx", "--input", lrpData + "vgg.input.npy",
		"--composite", "lrp-tutorial", "--gamma", "0.1", "--low", "-3", "--high", "3", "--batch-size", "1", "--max-batch", "5",
		"--patch", "4", "--perturb", "zero", "--seed", "7", "--out", out}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		evalResults
		Settings map[string]any `json:"settings"`
	}
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	spec := res.Methods[0].Spec
	if spec == nil || spec.Composite != "lrp-tutorial" || spec.Gamma == nil || *spec.Gamma != 0.1 || spec.Low != "-3" ||
		!strings.Contains(spec.RuleMap, "gamma(0.1") {
		t.Errorf("method spec %+v", spec)
	}
	wantHash := npyRowHashes(t, lrpData+"vgg.input.npy")
	if res.Tool == "" || res.Model == nil || len(res.Model.SHA256) != 64 || res.InputIdentity == nil ||
		strings.Join(res.InputIdentity.SHA256, ",") != strings.Join(wantHash, ",") {
		t.Errorf("tool %q, model %+v, inputs %+v", res.Tool, res.Model, res.InputIdentity)
	}
	for k, v := range map[string]any{"batch_size": 1.0, "max_batch": 5.0, "seed": 7.0, "patch": 4.0, "perturb": "zero"} {
		if res.Settings[k] != v {
			t.Errorf("settings[%s] = %v, want %v", k, res.Settings[k], v)
		}
	}

	// A rules file is recorded with its content.
	err = run([]string{"evaluate", "--model", lrpData + "vgg.onnx", "--input", lrpData + "vgg.input.npy",
		"--rules-file", rules, "--patch", "4", "--perturb", "zero", "--out", out}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(out)
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if s := res.Methods[0].Spec; s == nil || s.RulesFile != rules || s.RulesFileContent != "0-:epsilon(0.5)\n" || s.RuleMap == "" {
		t.Errorf("method spec %+v", s)
	}
}

// A figure that fails after the work keeps results.json and reports the
// error.
func TestEvaluateKeepsResultsWhenAFigureFails(t *testing.T) {
	dir := t.TempDir()
	fig := filepath.Join(dir, "fig")
	// A directory where the flips plot goes: the check of --figures passes,
	// the write of fig/flips-per-step.png at the end fails.
	if err := os.MkdirAll(filepath.Join(fig, "flips-per-step.png"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "results.json")
	err := run([]string{"evaluate", "--model", lrpData + "vgg.onnx", "--input", lrpData + "vgg.input.npy",
		"--method", "random", "--patch", "4", "--perturb", "zero", "--out", out, "--figures", fig}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "flips-per-step.png") || !strings.Contains(err.Error(), out+" was written") {
		t.Errorf("error %v, want the failed figure reported", err)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("results.json lost: %v", err)
	}
}

func TestRelevancePairing(t *testing.T) {
	dir := t.TempDir()
	r := filepath.Join(dir, "r.npy")
	model, input := lrpData+"vgg.onnx", lrpData+"vgg.input.npy"
	if err := run([]string{"explain", "--model", model, "--input", input, "--composite", "epsilon-plus", "--target", "3", "--out", r}, io.Discard); err != nil {
		t.Fatal(err)
	}
	evaluate := func(in string) error {
		return run([]string{"evaluate", "--model", model, "--input", in, "--relevance", r, "--patch", "4", "--perturb", "zero",
			"--out", filepath.Join(dir, "res.json")}, io.Discard)
	}
	// The same inputs pair; the targets explained are the ones scored.
	if err := evaluate(input); err != nil {
		t.Fatal(err)
	}
	var res evalResults
	b, _ := os.ReadFile(filepath.Join(dir, "res.json"))
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.Methods[0].Targets) != "[3 3]" {
		t.Errorf("targets %v, want the explained [3 3]", res.Methods[0].Targets)
	}
	// The same inputs in another order are refused, naming both files.
	swapped := filepath.Join(dir, "swapped.npy")
	swapRows(t, input, swapped)
	err := evaluate(swapped)
	if err == nil || !strings.Contains(err.Error(), r) || !strings.Contains(err.Error(), r+".json") {
		t.Errorf("swapped inputs: error %v, want a refusal naming %s and its .json", err, r)
	}
	// Fewer inputs are refused.
	one := filepath.Join(dir, "one.npy")
	x, _ := tensor.LoadNpy(input)
	if err := tensor.SaveNpy(one, x.Batch(0).Reshape(append([]int{1}, x.Shape[1:]...)...)); err != nil {
		t.Fatal(err)
	}
	if err := evaluate(one); err == nil || !strings.Contains(err.Error(), "explains 2 inputs") {
		t.Errorf("one input: error %v", err)
	}
	// Without the sidecar the pairing is unchecked, and said so.
	if err := os.Remove(r + ".json"); err != nil {
		t.Fatal(err)
	}
	var runErr error
	msg := captureStderr(t, func() { runErr = evaluate(swapped) })
	if runErr != nil || !strings.Contains(msg, "warning: "+r+" has no r.npy.json") {
		t.Errorf("no sidecar: error %v, stderr %q", runErr, msg)
	}
}

// Every command checks its outputs before it opens the model (which does
// not exist here) or reads any input.
func TestOutputsCheckedBeforeWork(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file.txt")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(file, "out")
	missing := filepath.Join(dir, "missing.onnx")
	for _, args := range [][]string{
		{"predict", "--model", missing, "--input", lrpData + "vgg.input.npy", "--out", bad + ".npy"},
		{"explain", "--model", missing, "--input", lrpData + "vgg.input.npy", "--composite", "epsilon-plus", "--out", bad},
		{"evaluate", "--model", missing, "--input", lrpData + "vgg.input.npy", "--method", "random", "--out", bad + ".json"},
		{"evaluate", "--model", missing, "--input", lrpData + "vgg.input.npy", "--method", "random", "--out", filepath.Join(dir, "r.json"), "--save-steps", bad},
		{"sweep", "--model", missing, "--grid", "gamma=0,0.25", "--preset", "epsilon-gamma-box", "--out", bad},
		{"sweep", "merge", dir, "--out", bad},
		{"demo", "--model", "no-such-model", "--out", bad},
		{"inpaint", "--image", missing, "--mask", missing, "--out", bad + ".png"},
	} {
		err := run(args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "cannot write "+bad) {
			t.Errorf("%v: error %v, want one naming %s first", args, err, bad)
		}
	}
	es, _ := os.ReadDir(dir)
	if len(es) != 1 {
		t.Errorf("%d entries left in %s, want only file.txt", len(es), dir)
	}
}
