package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestShardOf(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, c := range []struct {
		flag string
		env  func(string) string
		i, n int
		err  string
	}{
		{"", env(), 0, 1, ""},
		{"2/5", env("SLURM_ARRAY_TASK_ID", "1"), 2, 5, ""},
		{"", env("SLURM_ARRAY_TASK_ID", "4", "SLURM_ARRAY_TASK_COUNT", "5", "SLURM_ARRAY_TASK_MIN", "1"), 3, 5, ""},
		{"", env("SGE_TASK_ID", "3", "SGE_TASK_FIRST", "1", "SGE_TASK_LAST", "4"), 2, 4, ""},
		{"", env("JOB_COMPLETION_INDEX", "0", "LRP_SHARDS", "3"), 0, 3, ""},
		{"", env("JOB_COMPLETION_INDEX", "0"), 0, 0, "LRP_SHARDS"},
		{"5/5", env(), 0, 0, "out of range"},
		{"a/b", env(), 0, 0, "not an integer"},
	} {
		i, n, err := shardOf(c.flag, c.env)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.flag, err, c.err)
			}
			continue
		}
		if err != nil || i != c.i || n != c.n {
			t.Errorf("%q: %d/%d %v, want %d/%d", c.flag, i, n, err, c.i, c.n)
		}
	}
}

func TestSweepCommand(t *testing.T) {
	dir := t.TempDir()
	base := []string{"sweep", "--model", lrpData + "vgg.onnx", "--input", lrpData + "vgg.input.npy",
		"--preset", "lrp-tutorial", "--grid", "gamma=0,0.25", "--grid", "epsilon=0.25", "--patch", "8", "--perturb", "zero"}
	var stdout bytes.Buffer
	for i := 0; i < 2; i++ {
		args := append(append([]string{}, base...), "--shard", []string{"0/2", "1/2"}[i], "--out", filepath.Join(dir, []string{"a", "b"}[i]))
		if err := run(args, &stdout); err != nil {
			t.Fatal(err)
		}
	}
	stdout.Reset()
	if err := run([]string{"sweep", "merge", filepath.Join(dir, "a"), filepath.Join(dir, "b")}, &stdout); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "best MoRF") {
		t.Errorf("merge printed:\n%s", stdout.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "a", "table.csv")); err != nil {
		t.Error(err)
	}
	err := run(append(append([]string{}, base...), "--grid", "alpha=1", "--out", filepath.Join(dir, "c")), &stdout)
	if err == nil || !strings.Contains(err.Error(), "not a parameter") {
		t.Errorf("bad grid parameter: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "c")); err == nil {
		t.Error("a refused sweep created its results directory")
	}
}
