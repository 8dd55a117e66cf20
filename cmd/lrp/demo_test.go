package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	var stdout bytes.Buffer
	if err := run([]string{"demo", "--out", dir, "--model", "mnist,mnist-vit"}, &stdout); err != nil {
		t.Fatal(err)
	}
	// The ViT is explained by the transformer composites, not the CNNs'.
	for _, f := range []string{"report.html", "results.json", "mnist/curves.png", "mnist/heatmaps/00-lrp-epsilon-gamma-box.png",
		"mnist-vit/heatmaps/00-lrp-attnlrp.png", "mnist-vit/heatmaps/00-lrp-cp-lrp.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if !strings.Contains(string(html), "data:image/png;base64,") || !strings.Contains(string(html), "epsilon-gamma-box") {
		t.Error("report lacks inline images or methods")
	}
	if _, err := os.Stat(filepath.Join(dir, "mnist-vit/heatmaps/00-lrp-epsilon-gamma-box.png")); err == nil {
		t.Error("the ViT was explained by a CNN composite")
	}
	if !strings.Contains(string(html), "<th>lrp:attnlrp</th>") || !strings.Contains(string(html), "<th>lrp:epsilon-gamma-box</th>") {
		t.Error("report lacks a heatmap header per model")
	}
	// The report shows LRF as well as MoRF: its table's LRF AUC and AOPC
	// are the ones in results.json.
	var res map[string]struct {
		Methods []struct {
			Method string
			Orders map[string]struct{ AUC, AOPC float64 }
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "results.json"))
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	lrf := res["mnist"].Methods[0].Orders["lrf"]
	if lrf.AUC == 0 || lrf.AOPC == 0 {
		t.Fatalf("results.json: no LRF AUC or AOPC: %+v", lrf)
	}
	if want := fmt.Sprintf(`<td class="num">%.2f</td>`, lrf.AUC); !strings.Contains(string(html), want) {
		t.Errorf("report lacks the LRF AUC %s", want)
	}
	if want := fmt.Sprintf(`<td class="num">%.2f</td></tr>`, lrf.AOPC); !strings.Contains(string(html), want) {
		t.Errorf("report lacks the LRF AOPC %s", want)
	}
	if err := run([]string{"demo", "--out", dir, "--model", "imagenet"}, &stdout); err == nil {
		t.Error("unknown embedded model accepted")
	}
}
