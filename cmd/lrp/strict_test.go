package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/xai-go/lrp/tensor"
)

// strictInputs writes the bad inputs of TestBadInvocations into dir.
func strictInputs(t *testing.T, dir string) {
	t.Helper()
	x := tensor.New(1, 1, 28, 28)
	x.Data[3*28+4] = float32(math.NaN())
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tensor.SaveNpy(filepath.Join(dir, "nan.npy"), x))
	r := tensor.New(10, 1, 28, 28)
	r.Data[len(r.Data)-1] = float32(math.Inf(-1))
	must(tensor.SaveNpy(filepath.Join(dir, "inf-relevance.npy"), r))
	raw := func(name, descr string, data []byte) {
		header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (1, 1, 28, 28), }", descr)
		header += strings.Repeat(" ", 63-(10+len(header))%64) + "\n"
		b := append([]byte("\x93NUMPY\x01\x00"), byte(len(header)), byte(len(header)>>8))
		must(os.WriteFile(filepath.Join(dir, name), append(append(b, header...), data...), 0o644))
	}
	raw("int.npy", "<i4", make([]byte, 4*784))
	f8 := make([]byte, 8*784)
	binary.LittleEndian.PutUint64(f8[8*5:], math.Float64bits(1e39))
	raw("big.npy", "<f8", f8)
	must(os.Mkdir(filepath.Join(dir, "images"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "empty.png"), nil, 0o644))
	must(os.WriteFile(filepath.Join(dir, "text.png"), []byte("hello, not an image"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "resnet.pth"), []byte("PK\x03\x04"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "text.onnx"), []byte("hello, not an ONNX model"), 0o644))
}

// flagsOf returns the flag names of a command, from its -h output.
func flagsOf(t *testing.T, cmd string) []string {
	t.Helper()
	var help bytes.Buffer
	if err := run([]string{cmd, "-h"}, &help); err != nil {
		t.Fatalf("%s -h: %v", cmd, err)
	}
	b := help.Bytes()
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`).FindAllStringSubmatch(string(b), -1) {
		names = append(names, m[1])
	}
	if len(names) < 3 {
		t.Fatalf("%s -h lists only %v", cmd, names)
	}
	return names
}

// TestBadInvocations runs bad invocations of every kind the issue lists:
// each must return one error (no panic) that names the problem, printed
// with a single "lrp:" prefix and naming no flag the command lacks, and
// must write nothing.
func TestBadInvocations(t *testing.T) {
	in := t.TempDir()
	strictInputs(t, in)
	p := func(name string) string { return filepath.Join(in, name) }
	cases := []struct {
		args []string // "OUT" is replaced by a path in an empty directory
		want string
	}{
		// predict
		{[]string{"predict", "--top", "-1", "--out", "OUT"}, "--top -1: must be an integer ≥ 1"},
		{[]string{"predict", "--top", "0", "--out", "OUT"}, "--top 0: must be an integer ≥ 1"},
		{[]string{"predict", "--input", p("nan.npy"), "--out", "OUT"}, "nan.npy: element [0 0 3 4] is NaN"},
		{[]string{"predict", "--input", p("int.npy"), "--out", "OUT"}, `int.npy: dtype "<i4" is not floating point: give the data as float32`},
		{[]string{"predict", "--input", p("big.npy"), "--out", "OUT"}, "big.npy: float64 element 5 (in file order) is beyond float32's range"},
		{[]string{"predict", p("images"), "--out", "OUT"}, "images is a directory, not an image: use --data " + p("images")},
		{[]string{"predict", p("empty.png"), "--out", "OUT"}, "empty.png is empty (0 bytes)"},
		{[]string{"predict", p("text.png"), "--out", "OUT"}, "text.png: not a supported image format (supported: PNG, JPEG, GIF, BMP, TIFF, WebP)"},
		{[]string{"predict", "--model", p("resnet.pth"), "--out", "OUT"}, "resnet.pth is a PyTorch weights file, not a model: use --model ARCH --weights " + p("resnet.pth") + " (ARCH: vgg11"},
		{[]string{"predict", "--model", p("text.onnx"), "--out", "OUT"}, "not an ONNX model"},
		{[]string{"predict", "--model", p("images"), "--out", "OUT"}, "is a directory"},
		{[]string{"predict", "--model", "vgg16", "--random-init", "--num-classes", "-3", "--out", "OUT"}, "--num-classes -3: must be an integer ≥ 1"},
		// explain: flags with a sentinel default given an invalid value
		{[]string{"explain", "--composite", "epsilon-plus", "--target", "-2", "--out", "OUT"}, "--target -2: must be a class index ≥ 0"},
		{[]string{"explain", "--composite", "epsilon-plus", "--target", "-1", "--out", "OUT"}, "--target -1: must be a class index ≥ 0"},
		{[]string{"explain", "--composite", "epsilon-plus", "--target", "10", "--out", "OUT"}, "--target 10 is out of range: the model has 10 classes (0 to 9)"},
		{[]string{"explain", "--composite", "epsilon-plus", "--scale", "-1", "--out", "OUT"}, "--scale -1: must be an integer from 1 to 4096"},
		{[]string{"explain", "--composite", "epsilon-plus", "--scale", "0", "--out", "OUT"}, "--scale 0: must be"},
		{[]string{"explain", "--composite", "epsilon-plus", "--scale", "1000", "--out", "OUT"}, "--scale 1000: heatmaps of 28-pixel-wide inputs would be 28000 pixels wide; the limit is 4096 (use --scale 146 or less)"},
		{[]string{"explain", "--composite", "epsilon-plus", "--overlay", "1.5", "--out", "OUT"}, "--overlay 1.5: must be an opacity from 0 to 1"},
		{[]string{"explain", "--composite", "epsilon-plus", "--overlay", "-0.1", "--out", "OUT"}, "--overlay -0.1: must be"},
		{[]string{"explain", "--composite", "epsilon-gamma-box", "--epsilon", "-1", "--out", "OUT"}, "--epsilon -1: must be a finite number ≥ 0"},
		{[]string{"explain", "--composite", "epsilon-gamma-box", "--gamma", "-3", "--out", "OUT"}, "--gamma -3: must be a finite number ≥ 0"},
		{[]string{"explain", "--composite", "epsilon-gamma-box", "--gamma", "NaN", "--out", "OUT"}, "--gamma NaN: must be"},
		{[]string{"explain", "--composite", "epsilon-plus", "--gamma", "0.5", "--out", "OUT"}, "composite epsilon-plus has no γ (gamma); it takes: ε (epsilon)"},
		{[]string{"explain", "--method", "lrp:epsilon-plus", "--gamma", "0.5", "--out", "OUT"}, "composite epsilon-plus has no γ"},
		{[]string{"explain", "--rules", "*:epsilon(0.1)", "--epsilon", "0.2", "--out", "OUT"}, "--epsilon and --gamma set a composite's parameters"},
		{[]string{"explain", "--composite", "epsilon-gamma-box", "--low", "1", "--high", "0", "--out", "OUT"}, "--low 1 --high 0: low must be below high"},
		{[]string{"explain", "--composite", "epsilon-gamma-box", "--low", "inf", "--out", "OUT"}, "--low inf: must be a finite number or a .npy file"},
		{[]string{"explain", "--composite", "epsilon-gamma-box", "--low", p("int.npy"), "--out", "OUT"}, "not floating point"},
		{[]string{"explain", "--rules", "0:zbox(low=1,high=0);*:zero", "--out", "OUT"}, "rule map entry 0:zbox(high=0,low=1): zbox: box bounds: low (1) must be below high (0)"},
		{[]string{"explain", "--rules", "0:gamma(abc)", "--out", "OUT"}, `rule map entry 0:gamma(abc): gamma: "abc" is not a number`},
		{[]string{"explain", "--rules", "*:epsilon(nan)", "--out", "OUT"}, "epsilon: NaN is not a finite float32 number"},
		{[]string{"explain", "--composite", "epsilon-plus", "--input", p("nan.npy"), "--out", "OUT"}, "element [0 0 3 4] is NaN"},
		{[]string{"explain", "--method", "gradient", "--gamma", "0.5", "--out", "OUT"}, "method gradient takes none"},
		{[]string{"explain", "--method", "smoothgrad", "--composite", "epsilon-plus", "--out", "OUT"}, "method smoothgrad takes none"},
		{[]string{"explain", "--composite", "epsilon-plus", p("images"), "--out", "OUT"}, "use --data"},
		// the other commands share the checks
		{[]string{"evaluate", "--composite", "epsilon-plus", "--target", "10", "--out", "OUT"}, "--target 10 is out of range"},
		{[]string{"evaluate", "--relevance", p("inf-relevance.npy"), "--out", "OUT"}, "inf-relevance.npy: element [9 0 27 27] is -Inf"},
		{[]string{"evaluate", "--composite", "epsilon-plus", "--gamma", "1", "--out", "OUT"}, "composite epsilon-plus has no γ"},
		{[]string{"layers", "--composite", "epsilon-plus", "--gamma", "0.5"}, "composite epsilon-plus has no γ"},
		{[]string{"sweep", "--preset", "lrp-tutorial", "--grid", "gamma=0,1", "--low", "2", "--high", "1", "--out", "OUT"}, "--low 2 --high 1: low must be below high"},
		{[]string{"inpaint", "--image", p("text.png"), "--mask", p("text.png"), "--radius", "NaN", "--out", "OUT"}, "--radius NaN: must be a finite number"},
	}
	flags := map[string][]string{}
	for _, c := range cases {
		name := strings.Join(c.args, " ")
		cmd := c.args[0]
		if flags[cmd] == nil {
			flags[cmd] = flagsOf(t, cmd)
		}
		outDir := t.TempDir()
		args := slices.Clone(c.args)
		for i, a := range args {
			if a == "OUT" {
				args[i] = filepath.Join(outDir, "out")
				if cmd == "predict" || strings.Contains(name, "--relevance") {
					args[i] += ".npy"
				}
			}
		}
		err := func() (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("PANIC: %v", p)
				}
			}()
			return run(args, &bytes.Buffer{})
		}()
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		line := errorLine(err)
		if !strings.Contains(line, c.want) {
			t.Errorf("%s:\n got  %s\n want one containing %q", name, line, c.want)
		}
		// "lrp: " with its space is the prefix; "lrp:NAME" is a method.
		if n := strings.Count(line, "lrp: "); n != 1 || !strings.HasPrefix(line, "lrp: ") || strings.Contains(line, "\n") {
			t.Errorf("%s: %q has %d \"lrp: \" prefixes or several lines", name, line, n)
		}
		for _, m := range regexp.MustCompile(`(?:^|[\s(])--([a-z][a-z0-9-]*)`).FindAllStringSubmatch(line, -1) {
			if !slices.Contains(flags[cmd], m[1]) {
				t.Errorf("%s: %q names --%s, which %s does not have", name, line, m[1], cmd)
			}
		}
		if left, _ := os.ReadDir(outDir); len(left) > 0 {
			t.Errorf("%s: a failed run wrote %s", name, left[0].Name())
		}
	}
	if len(cases) < 30 {
		t.Errorf("only %d cases", len(cases))
	}
}

// Warnings go to stderr as "lrp: warning: …", once each, and do not stop
// the run.
func TestRuleMapWarningsPrinted(t *testing.T) {
	var buf bytes.Buffer
	warnOut, warnSeen = &buf, map[string]bool{}
	defer func() { warnOut = os.Stderr }()
	out := filepath.Join(t.TempDir(), "r")
	err := run([]string{"explain", "--rules", "conv:gamma(0.25);0:flat;*:epsilon(0.25)", "--data", "../../data/testdata", "--preprocess", "mnist", "--limit", "3", "--batch-size", "1", "--out", out}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	want := "lrp: warning: rule map entry 0:flat has no effect: layer 0 takes its rule from the earlier entry type=conv:gamma(0.25)\n"
	if buf.String() != want {
		t.Errorf("stderr:\n%q\nwant\n%q", buf.String(), want)
	}
}

func TestErrorLine(t *testing.T) {
	for _, c := range []struct{ err, want string }{
		{"unknown command", "lrp: unknown command"},
		{"lrp: target class 12 out of range", "lrp: target class 12 out of range"},
		{"lrp: lrp: x", "lrp: x"},
	} {
		if got := errorLine(errors.New(c.err)); got != c.want {
			t.Errorf("errorLine(%q) = %q, want %q", c.err, got, c.want)
		}
	}
}
