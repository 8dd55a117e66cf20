package sweep

import (
	"strings"
	"testing"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/onnx"
	"github.com/xai-go/lrp/tensor"
)

func TestGridWarnings(t *testing.T) {
	vgg, err := onnx.Load("../testdata/models/vgg.onnx")
	if err != nil {
		t.Fatal(err)
	}
	mlp, err := onnx.Load("../testdata/models/mlp.onnx")
	if err != nil {
		t.Fatal(err)
	}
	tutorial := Template{Composite: "lrp-tutorial", Low: tensor.FromData([]float32{-3}, 1), High: tensor.FromData([]float32{3}, 1)}
	axes := func(exprs ...string) []Axis {
		var out []Axis
		for _, e := range exprs {
			a, err := ParseAxis(e)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, a)
		}
		return out
	}
	for _, c := range []struct {
		name string
		g    *nn.Graph
		tmpl Template
		axes []Axis
		want []string
	}{
		{"vgg: both axes matter", vgg, tutorial, axes("gamma=0,0.25", "epsilon=0,0.25"), nil},
		{"mlp: epsilon applies to layers 17-30", mlp, tutorial, axes("gamma=0,0.25", "epsilon=0,0.25,1"), []string{
			"grid axis epsilon changes no layer's rule on this model: all its points are the same " +
				"(lrp-tutorial sets it in 17-30:epsilon(0,thesis), which gives no layer its rule; " +
				"the model's convolution, linear and average-pooling layers are 1 to 5)"}},
		{"duplicates", vgg, tutorial, axes("gamma=0.1,0.25,0.1", "epsilon=logspace(-1,0,2),0.1"), []string{
			"grid axis gamma repeats the value 0.1: its grid points are computed twice",
			"grid axis epsilon repeats the value 0.1: its grid points are computed twice"}},
		{"one value", mlp, tutorial, axes("epsilon=0.25"), nil},
		{"rules template, shadowed", mlp, Template{Rules: "1-5:epsilon({epsilon});*:gamma({gamma})"}, axes("epsilon=0,1", "gamma=0,1"), []string{
			"grid axis gamma changes no layer's rule on this model: all its points are the same " +
				"(the rules template sets it in type=*:gamma(0), which gives no layer its rule; " +
				"the model's convolution, linear and average-pooling layers are 1 to 5)"}},
		{"refused by Check: no warnings", mlp, tutorial, axes("gamma2=0,1"), nil},
	} {
		got := GridWarnings(c.g, c.tmpl, c.axes)
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s: warnings\n%q\nwant\n%q", c.name, got, c.want)
		}
	}
}
