package eval_test

import (
	"fmt"
	"log"
	"math"

	"github.com/xai-go/lrp/eval"
	"github.com/xai-go/lrp/onnx"
	"github.com/xai-go/lrp/tensor"
)

// Pixel flipping of three images in two batches, merged into the result
// of one run over all three, and ABPC from the two orders.
func ExampleMerge() {
	g, err := onnx.Load("testdata/cnn.onnx")
	if err != nil {
		log.Fatal(err)
	}
	x, err := tensor.LoadNpy("testdata/input.npy") // 3×3×32×32, ImageNet-normalized
	if err != nil {
		log.Fatal(err)
	}
	r, err := tensor.LoadNpy("testdata/relevance.npy")
	if err != nil {
		log.Fatal(err)
	}
	targets := []int{8, 8, 4}
	batch := func(t *tensor.T, lo, hi int) *tensor.T {
		per := t.Len() / t.Shape[0]
		return &tensor.T{Shape: append([]int{hi - lo}, t.Shape[1:]...), Data: t.Data[lo*per : hi*per]}
	}
	var summaries []eval.Summary
	for _, order := range []eval.Order{eval.MoRF, eval.LRF} {
		cfg := eval.Config{Patch: 4, Order: order, Mode: eval.Zero,
			Mean: []float64{0.485, 0.456, 0.406}, Std: []float64{0.229, 0.224, 0.225}}
		var parts []*eval.Result
		for _, b := range [][2]int{{0, 2}, {2, 3}} {
			res, err := eval.Run(g, batch(x, b[0], b[1]), batch(r, b[0], b[1]), targets[b[0]:b[1]], cfg)
			if err != nil {
				log.Fatal(err)
			}
			parts = append(parts, res)
		}
		all, err := eval.Merge(parts...)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(order, "images:", all.Images, "steps:", len(all.Mean), "flips per step:", all.Flips)
		summaries = append(summaries, all.Summary)
	}
	fmt.Println("LRF above MoRF:", eval.ABPC(summaries[0], summaries[1]) > 0)
	// Output:
	// morf images: 3 steps: 10 flips per step: [0 1 3 5 7 9 11 13 15 64]
	// lrf images: 3 steps: 10 flips per step: [0 1 3 5 7 9 11 13 15 64]
	// LRF above MoRF: true
}

// Summarize computes the mean curve and the metrics of any curves, here
// two images' scores after steps 0, 1 and 2.
func ExampleSummarize() {
	s, err := eval.Summarize([][]float64{{4, 2, 0}, {2, 2, 2}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("mean curve", s.Mean, "AUC", s.AUC, "AUCs", s.AUCs, "AOPC", s.AOPC)
	// By hand: mean (3, 2, 1); AUC (3+2)/2 + (2+1)/2 = 4; AOPC (0+1+2)/3 = 1.
	// Output: mean curve [3 2 1] AUC 4 AUCs [4 4] AOPC 1
}

// Sparseness and Complexity of two relevance maps: one concentrated on a
// single pixel, one spread evenly.
func ExampleSparseness() {
	r := tensor.New(2, 1, 2, 2)
	r.Data[0] = 5                           // image 0: one pixel
	copy(r.Data[4:], []float32{1, 1, 1, 1}) // image 1: uniform
	gini, _ := eval.Sparseness(r)
	entropy, _ := eval.Complexity(r)
	fmt.Printf("sparseness %.2f %.2f\n", gini[0], gini[1])
	fmt.Printf("complexity %.3f %.3f (ln 4 = %.3f)\n", entropy[0], entropy[1], math.Log(4))
	// Output:
	// sparseness 0.75 0.00
	// complexity 0.000 1.386 (ln 4 = 1.386)
}
