package onnx_test

import (
	"fmt"
	"log"

	"github.com/xai-go/lrp/onnx"
	"github.com/xai-go/lrp/tensor"
)

// Load an ONNX file (here a small test model) and run it.
func ExampleLoad() {
	g, err := onnx.Load("../testdata/models/mlp.onnx")
	if err != nil {
		log.Fatal(err)
	}
	x, err := tensor.LoadNpy("../testdata/models/mlp.input.npy")
	if err != nil {
		log.Fatal(err)
	}
	if err := g.CheckInput(x.Shape); err != nil {
		log.Fatal(err)
	}
	logits := g.Run(x)
	fmt.Println("input", x.Shape, "logits", logits.Shape)
	// Output: input [2 3 4 4] logits [2 5]
}
