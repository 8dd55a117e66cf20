package sweep

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xai-go/lrp/eval"
	"github.com/xai-go/lrp/onnx"
	"github.com/xai-go/lrp/tensor"
)

func TestParseAxis(t *testing.T) {
	a, err := ParseAxis("gamma=0, logspace(-3,1,5),0.5")
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 1e-3, 1e-2, 1e-1, 1, 10, 0.5}
	if len(a.Values) != len(want) {
		t.Fatalf("values %v", a.Values)
	}
	for i, v := range want {
		if d := a.Values[i] - v; d > 1e-12*v || d < -1e-12*v {
			t.Fatalf("values %v, want %v", a.Values, want)
		}
	}
	// The count defaults to NumPy's 50, as in the thesis' logspace(-4, 0).
	short, err := ParseAxis("gamma=logspace(-4,0)")
	if err != nil {
		t.Fatal(err)
	}
	long, err := ParseAxis("gamma=logspace(-4,0,50)")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(short.Values, long.Values) {
		t.Errorf("logspace(-4,0) = %v, want logspace(-4,0,50) = %v", short.Values, long.Values)
	}
	for _, c := range []struct{ expr, want string }{
		{"gamma", "NAME=VALUES"},
		{"gamma=logspace(1)", "2 or 3 arguments"},
		{"gamma=0,,1", "position 8"},
		{"gamma=0,logspace(1,2", "missing ')'"},
		{"gamma=linspace(0,1,2.5)", "integer"},
		{"gamma=abc", "bad value"},
		{"ga-mma=1", "bad parameter name"},
	} {
		if _, err := ParseAxis(c.expr); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.expr, err, c.want)
		}
	}
}

func testConfig(t *testing.T, dir string) Config {
	t.Helper()
	g, err := onnx.Load("../testdata/models/vgg.onnx")
	if err != nil {
		t.Fatal(err)
	}
	x, err := tensor.LoadNpy("../testdata/models/vgg.input.npy")
	if err != nil {
		t.Fatal(err)
	}
	ga, _ := ParseAxis("gamma=0,0.25")
	ea, _ := ParseAxis("epsilon=0,0.25")
	return Config{Graph: g, Model: "vgg.onnx", Source: &TensorSource{X: x},
		Template:  Template{Composite: "lrp-tutorial", Low: tensor.FromData([]float32{-2.1179}, 1), High: tensor.FromData([]float32{2.64}, 1)},
		Axes:      []Axis{ga, ea},
		BatchSize: 1, Eval: eval.Config{Patch: 8, Mode: eval.Zero}, Orders: []eval.Order{eval.MoRF, eval.LRF},
		Shards: 1, Dir: dir}
}

func csvOf(t *testing.T, dirs ...string) string {
	t.Helper()
	tab, err := Merge(dirs...)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := tab.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Three shards merged give exactly the table of the unsharded run, and a
// run killed midway and resumed reproduces it.
func TestShardsAndResume(t *testing.T) {
	root := t.TempDir()
	full := testConfig(t, filepath.Join(root, "full"))
	if err := Run(full); err != nil {
		t.Fatal(err)
	}
	want := csvOf(t, full.Dir)
	if n := strings.Count(want, "\n"); n != 5 {
		t.Fatalf("table has %d lines, want header + 4 points:\n%s", n, want)
	}

	var shardDirs []string
	for i := 0; i < 3; i++ {
		c := testConfig(t, filepath.Join(root, "shard", string(rune('a'+i))))
		c.Shard, c.Shards = i, 3
		if err := Run(c); err != nil {
			t.Fatal(err)
		}
		shardDirs = append(shardDirs, c.Dir)
	}
	if got := csvOf(t, shardDirs...); got != want {
		t.Errorf("merged shards:\n%s\nunsharded:\n%s", got, want)
	}
	if _, err := Merge(shardDirs[:2]...); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("merge of 2 of 3 shards: %v", err)
	}
	if _, err := Merge(full.Dir, shardDirs[0]); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("merge with duplicates: %v", err)
	}

	// Kill: keep 3 finished units and half of the fourth line.
	killed := testConfig(t, filepath.Join(root, "killed"))
	if err := Run(killed); err != nil {
		t.Fatal(err)
	}
	path := ShardFile(killed.Dir, 0, 1)
	b, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(b), "\n")
	os.WriteFile(path, []byte(strings.Join(lines[:3], "")+lines[3][:len(lines[3])/2]), 0o644)
	if err := Run(killed); err == nil || !strings.Contains(err.Error(), "Config.Resume") {
		t.Errorf("rerun without --resume: %v", err)
	}
	killed.Resume = true
	if err := Run(killed); err != nil {
		t.Fatal(err)
	}
	if got := csvOf(t, killed.Dir); got != want {
		t.Errorf("resumed run:\n%s\nuninterrupted:\n%s", got, want)
	}

	// Different settings in the same directory are refused.
	other := testConfig(t, full.Dir)
	other.Eval.Patch = 4
	other.Resume = true
	if err := Run(other); err == nil || !strings.Contains(err.Error(), "different settings") {
		t.Errorf("different settings: %v", err)
	}
}

func TestBadTemplate(t *testing.T) {
	c := testConfig(t, t.TempDir())
	a, _ := ParseAxis("alpha=1,2")
	c.Axes = []Axis{a}
	if err := Run(c); err == nil || !strings.Contains(err.Error(), "not a parameter") {
		t.Errorf("unknown parameter: %v", err)
	}
	c.Template = Template{Rules: "conv:gamma({gamma});linear:epsilon({eps})"}
	g, _ := ParseAxis("gamma=1")
	c.Axes = []Axis{g}
	if err := Run(c); err == nil || !strings.Contains(err.Error(), "{eps}") {
		t.Errorf("placeholder without axis: %v", err)
	}
	c.Shard, c.Shards = 3, 3
	if err := Run(c); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("shard out of range: %v", err)
	}
}

// A run that fails in its first unit leaves settings.json but no finished
// unit; the corrected rerun in the same directory must not be refused.
func TestFailedRunDoesNotLock(t *testing.T) {
	dir := t.TempDir()
	bad := testConfig(t, dir)
	bad.Eval.Patch = 5 // 32×32 inputs: fails inside the first unit
	if err := Run(bad); err == nil || !strings.Contains(err.Error(), "not divisible") {
		t.Fatalf("patch 5 on 32×32: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "settings.json")); err != nil {
		t.Fatal("the failed run wrote no settings.json; the test no longer tests the lock")
	}
	good := testConfig(t, dir)
	if err := Run(good); err != nil {
		t.Fatalf("corrected rerun: %v", err)
	}
	if got := csvOf(t, dir); strings.Count(got, "\n") != 1+4 {
		t.Fatalf("table of the corrected run:\n%s", got)
	}
	if err := Run(bad); err == nil || !strings.Contains(err.Error(), "different settings") {
		t.Errorf("other settings over finished units: %v", err)
	}
}

// Split by class, the per-class tables partition the images: image counts
// add up, and the image-weighted mean of the per-class AUCs and curves is
// the overall one.
func TestMergeByClass(t *testing.T) {
	dir := t.TempDir()
	c := testConfig(t, dir)
	c.Classes = []string{"b", ""}
	if err := Run(c); err != nil {
		t.Fatal(err)
	}
	all, byClass, err := MergeByClass(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(byClass) != 2 || byClass[0].Class != "b" || byClass[1].Class != "unlabelled" {
		t.Fatalf("classes %v", byClass)
	}
	for i, r := range all.Rows {
		n := 0
		for _, o := range []string{"morf", "lrf"} {
			sum, curve := 0.0, make([]float64, len(r.Mean[o]))
			n = 0
			for _, ct := range byClass {
				cr := ct.Rows[i]
				n += cr.Images
				sum += cr.AUC[o] * float64(cr.Images)
				for k, v := range cr.Mean[o] {
					curve[k] += v * float64(cr.Images)
				}
			}
			if d := sum/float64(n) - r.AUC[o]; d > 1e-9*(1+abs(r.AUC[o])) || -d > 1e-9*(1+abs(r.AUC[o])) {
				t.Errorf("point %d %s: class-weighted AUC %g, overall %g", i, o, sum/float64(n), r.AUC[o])
			}
			for k, v := range curve {
				if d := v/float64(n) - r.Mean[o][k]; d > 1e-9*(1+abs(v)) || -d > 1e-9*(1+abs(v)) {
					t.Errorf("point %d %s step %d: %g vs %g", i, o, k, v/float64(n), r.Mean[o][k])
				}
			}
		}
		if n != r.Images || n != 2 {
			t.Errorf("point %d: %d images in the classes, %d overall", i, n, r.Images)
		}
	}
	var b bytes.Buffer
	if err := WriteClassCSV(&b, byClass); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 1+2*4 || !strings.HasPrefix(lines[0], "class,point,gamma,epsilon,images") || !strings.HasPrefix(lines[1], "b,0,") {
		t.Errorf("class CSV:\n%s", b.String())
	}
	// A sweep without classes cannot be split.
	plain := t.TempDir()
	if err := Run(testConfig(t, plain)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := MergeByClass(plain); err == nil || !strings.Contains(err.Error(), "records no classes") {
		t.Errorf("MergeByClass without classes: %v", err)
	}
	bad := testConfig(t, t.TempDir())
	bad.Classes = []string{"a"}
	if err := Run(bad); err == nil || !strings.Contains(err.Error(), "1 classes for 2 images") {
		t.Errorf("classes of the wrong length: %v", err)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
