package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	var stdout bytes.Buffer
	if err := run([]string{"demo", "--out", dir, "--model", "mnist"}, &stdout); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"report.html", "results.json", "mnist/curves.png", "mnist/heatmaps/00-lrp-epsilon-gamma-box.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if !strings.Contains(string(html), "data:image/png;base64,") || !strings.Contains(string(html), "epsilon-gamma-box") {
		t.Error("report lacks inline images or methods")
	}
	if err := run([]string{"demo", "--out", dir, "--model", "imagenet"}, &stdout); err == nil {
		t.Error("unknown embedded model accepted")
	}
}
