package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xai-go/lrp"
	"github.com/xai-go/lrp/models/torchvision"
	"github.com/xai-go/lrp/sweep"
)

// captureProgress sends progress output to a buffer for the test.
func captureProgress(t *testing.T) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	old := progressOutput
	progressOutput = &b
	t.Cleanup(func() { progressOutput = old })
	return &b
}

// Values outside a flag's domain are errors naming flag and value, for
// every command that takes the flag, and nothing is written.
func TestFlagDomains(t *testing.T) {
	captureProgress(t)
	dir := t.TempDir()
	sample := "../../models/samples/mnist/0-7.png"
	cases := []struct {
		flags []string
		want  string
	}{
		{[]string{"--patch", "0"}, "--patch 0: must be at least 1"},
		{[]string{"--patch", "-4"}, "--patch -4: must be at least 1"},
		{[]string{"--steps", "0"}, "--steps 0: must be at least 1"},
		{[]string{"--max-batch", "-1"}, "--max-batch -1: must be at least 1"},
		{[]string{"--batch-size", "0"}, "--batch-size 0: must be at least 1"},
		{[]string{"--limit", "-1", "--data", "."}, "--limit -1: must be at least 1"},
		{[]string{"--limit", "0", "--data", "."}, "--limit 0: must be at least 1"},
		{[]string{"--patch", "5"}, "--patch 5: eval: image size 28 is not divisible by the patch size 5"},
		{[]string{"--steps", "9"}, "--steps 9: eval: 9 steps requested; with 7 patches per side at most 8"},
		{[]string{"--classes", "3"}, "--classes applies to --data"},
		{[]string{"--input", lrpData + "vgg.input.npy", sample}, "not several"},
	}
	for _, cmd := range [][]string{
		{"evaluate", "--model", "mnist", "--composite", "epsilon-gamma-box", "--out", filepath.Join(dir, "r.json")},
		{"sweep", "--model", "mnist", "--grid", "gamma=0", "--out", filepath.Join(dir, "sweep")},
	} {
		for _, c := range cases {
			args := append(append([]string{}, cmd...), c.flags...)
			err := run(args, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s %v: error %v, want %q", cmd[0], c.flags, err, c.want)
			}
		}
	}
	for _, cmd := range []string{"predict", "explain"} {
		for _, c := range cases[4:7] {
			args := append([]string{cmd, "--model", "mnist", "--out", filepath.Join(dir, "x.npy")}, c.flags...)
			err := run(args, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s %v: error %v, want %q", cmd, c.flags, err, c.want)
			}
		}
	}
	err := run([]string{"explain", "--model", "mnist", "--normalization", "mnist", "--out", filepath.Join(dir, "x.npy")}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--normalization applies to .npy input") {
		t.Errorf("explain --normalization on images: %v", err)
	}
	err = run([]string{"predict", "--model", "mnist", "--normalization", "mnist"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--normalization applies to") {
		t.Errorf("predict --normalization: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("refused runs wrote %v", entries)
	}
}

// evaluate on the embedded model works without --patch (the model's
// default, 4) and, when stderr is not a terminal, logs its progress.
func TestEvaluateProgressAndDefaultPatch(t *testing.T) {
	logs := captureProgress(t)
	out := filepath.Join(t.TempDir(), "r.json")
	s := "../../models/samples/mnist/"
	err := run([]string{"evaluate", "--model", "mnist", "--composite", "epsilon-gamma-box", "--batch-size", "1",
		s + "0-7.png", s + "1-2.png", "--out", out}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var res evalResults
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Settings["patch"] != 4.0 || res.Settings["steps"] != 8.0 || res.Settings["orders"] != "morf,lrf" {
		t.Errorf("settings %v, want patch 4, 8 steps, morf,lrf", res.Settings)
	}
	// 2 images × 2 orders, one image per batch: a line per curve.
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 5 || !strings.Contains(lines[0], "evaluating 2 inputs") || !strings.HasPrefix(lines[4], "lrp: 4/4 curves") {
		t.Errorf("progress lines:\n%s", logs.String())
	}
}

func readSettings(t *testing.T, dir string) sweep.Settings {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "settings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s sweep.Settings
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// lrp sweep on the embedded model needs only a grid: the default
// composite and the model's patch size; a run that failed before its
// first unit does not lock its directory.
func TestSweepDefaultsAndFailedRerun(t *testing.T) {
	logs := captureProgress(t)
	dir := filepath.Join(t.TempDir(), "sweep")
	base := []string{"sweep", "--model", "mnist", "--grid", "gamma=0,0.25", "--out", dir}
	// --steps 30 is more than 28×28 with patch 1 allows: refused before
	// anything is written.
	if err := run(append(append([]string{}, base...), "--patch", "1", "--steps", "30"), &bytes.Buffer{}); err == nil {
		t.Fatal("--steps 30 with patch 1 on 28×28 was accepted")
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("a refused sweep created its directory")
	}
	var stdout bytes.Buffer
	if err := run(append(append([]string{}, base...), "--by-class"), &stdout); err != nil {
		t.Fatal(err)
	}
	s := readSettings(t, dir)
	if s.Composite != lrp.DefaultComposite || s.Eval.Patch != 4 || len(s.Orders) != 2 || len(s.Images) != 10 {
		t.Errorf("settings: composite %q, patch %d, orders %v, %d images", s.Composite, s.Eval.Patch, s.Orders, len(s.Images))
	}
	if !strings.Contains(logs.String(), "default composite "+lrp.DefaultComposite) || !strings.Contains(logs.String(), "[4/4]") {
		t.Errorf("progress:\n%s", logs.String())
	}
	// table-by-class.csv: a class column; the 10 samples are one digit each.
	f, err := os.Open(filepath.Join(dir, "table-by-class.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+10*2 || rows[0][0] != "class" || rows[1][0] != "0" || rows[20][0] != "9" || rows[1][3] != "1" {
		t.Errorf("table-by-class.csv: %d rows, first %v", len(rows), rows[:2])
	}
	for _, p := range []string{"table.csv", "curves.png", "class-7/curves.png"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stdout.String(), "class 7 (1 images): best MoRF") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
}

// A directory whose settings.json no finished unit depends on (a run
// that died before its first unit) is free for a rerun with other
// settings; once a unit finished, other settings are refused.
func TestSweepFailedThenCorrected(t *testing.T) {
	captureProgress(t)
	dir := filepath.Join(t.TempDir(), "sweep")
	base := []string{"sweep", "--model", lrpData + "vgg.onnx", "--input", lrpData + "vgg.input.npy", "--preset", "lrp-tutorial",
		"--grid", "gamma=0,0.25", "--perturb", "zero", "--order", "morf", "--out", dir}
	if err := run(append(append([]string{}, base...), "--limit", "1"), &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(sweep.ShardFile(dir, 0, 1), 0); err != nil {
		t.Fatal(err)
	}
	if err := run(base, &bytes.Buffer{}); err != nil {
		t.Fatalf("rerun with other settings in a directory without finished units: %v", err)
	}
	if n := len(readSettings(t, dir).Images); n != 2 {
		t.Errorf("settings.json lists %d images, want the rerun's 2", n)
	}
	err := run(append(append([]string{}, base...), "--limit", "1"), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "different settings") {
		t.Errorf("other settings over finished units: %v", err)
	}
}

// --classes takes class folders and the model's class names; sweep
// records the classes of the images it keeps.
func TestSweepClasses(t *testing.T) {
	logs := captureProgress(t)
	root := testDataset(t)
	dir := filepath.Join(t.TempDir(), "sweep")
	var stdout bytes.Buffer
	err := run([]string{"sweep", "--model", "mnist", "--data", root, "--classes", "digit3,7", "--grid", "gamma=0.25",
		"--by-class", "--out", dir}, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	s := readSettings(t, dir)
	if strings.Join(s.Classes, ",") != "3,7" || len(s.Images) != 2 {
		t.Errorf("classes %v, images %v", s.Classes, s.Images)
	}
	if !strings.Contains(logs.String(), "skipping") || !strings.Contains(logs.String(), "broken.png") {
		t.Errorf("the unreadable image was not reported:\n%s", logs.String())
	}
	err = run([]string{"sweep", "--model", "mnist", "--data", root, "--classes", "digit3", "--strict", "--grid", "gamma=0.25",
		"--out", filepath.Join(t.TempDir(), "s")}, &stdout)
	if err == nil || !strings.Contains(err.Error(), "broken.png") {
		t.Errorf("--strict over an unreadable image: %v", err)
	}
	err = run([]string{"sweep", "--model", "mnist", "--data", root, "--classes", "axolotl", "--grid", "gamma=0.25",
		"--out", filepath.Join(t.TempDir(), "s")}, &stdout)
	if err == nil || !strings.Contains(err.Error(), "--classes axolotl") {
		t.Errorf("unknown class: %v", err)
	}
}

// --classes values that are no folder are looked up among the model's
// class names: ImageNet's "axolotl" is class 29 (torchvision's
// imagenet_classes order), whose synset folder is n01629819.
func TestResolveClass(t *testing.T) {
	folders := []string{"n01443537", "n01629819"}
	index := map[string]int{"n01443537": 1, "n01629819": 29}
	labels := torchvision.ImageNetClasses()
	for _, c := range []struct{ value, want, err string }{
		{"n01443537", "n01443537", ""},
		{"axolotl", "n01629819", ""},
		{"Axolotl", "n01629819", ""},
		{"goldfish", "n01443537", ""},
		{"tench", "", "class 0 (tench) has no folder"},
		{"dragon", "", "neither a class folder nor a class name"},
	} {
		got, err := resolveClass(c.value, folders, index, labels)
		if got != c.want || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q: %q, %v; want %q, %q", c.value, got, err, c.want, c.err)
		}
	}
}

// explain and predict on more images than a batch log their progress.
func TestProgressExplainPredict(t *testing.T) {
	logs := captureProgress(t)
	s := "../../models/samples/mnist/"
	imgs := []string{s + "0-7.png", s + "1-2.png", s + "11-6.png"}
	out := filepath.Join(t.TempDir(), "r.npy")
	args := append([]string{"explain", "--model", "mnist", "--composite", "epsilon-gamma-box", "--batch-size", "2", "--out", out}, imgs...)
	if err := run(args, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "lrp: 2/3 images") || !strings.Contains(logs.String(), "lrp: 3/3 images") {
		t.Errorf("explain progress:\n%s", logs.String())
	}
	logs.Reset()
	if err := run(append([]string{"predict", "--model", "mnist", "--batch-size", "2"}, imgs...), &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "lrp: 3/3 images") {
		t.Errorf("predict progress:\n%s", logs.String())
	}
}
