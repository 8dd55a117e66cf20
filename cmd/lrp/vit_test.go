package main

import (
	"bytes"
	"math"
	"path/filepath"
	"testing"

	"github.com/xai-go/lrp/tensor"
)

// On a ViT, explain without rule flags uses attnlrp, and --composite
// cp-lrp --gamma reproduces the LXT golden (testdata/gen_vit.py).
func TestExplainViT(t *testing.T) {
	vit := "../../testdata/vit/"
	for _, c := range []struct {
		args   []string
		golden string
	}{
		{nil, "attnlrp.npy"},
		{[]string{"--composite", "cp-lrp", "--gamma", "0.25"}, "cp-lrp_gamma0.25.npy"},
		{[]string{"--composite", "attnlrp", "--epsilon", "0.01"}, "attnlrp_epsilon0.01.npy"},
	} {
		dir := filepath.Join(t.TempDir(), "out")
		args := append([]string{"explain", "--model", vit + "vit.onnx", "--input", vit + "input.npy", "--out", dir}, c.args...)
		if err := run(args, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		got, err := tensor.LoadNpy(filepath.Join(dir, "relevance.npy"))
		if err != nil {
			t.Fatal(err)
		}
		want, err := tensor.LoadNpy(vit + c.golden)
		if err != nil {
			t.Fatal(err)
		}
		var d, m float64
		for i, w := range want.Data {
			d = max(d, math.Abs(float64(got.Data[i]-w)))
			m = max(m, math.Abs(float64(w)))
		}
		if d > 1e-4*m {
			t.Errorf("%v: relevance differs from %s by %.3g of max |R|", c.args, c.golden, d/m)
		}
	}
}
