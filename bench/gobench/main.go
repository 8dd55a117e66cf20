// Command gobench times forward passes or explanations of an ONNX model, or
// of a torchvision architecture with random weights (seed 0), with lrp,
// for bench/compare.sh and bench/vit_compare.sh. Explanations use
// epsilon-gamma-box on CNNs and attnlrp on transformers (the commands'
// defaults, lrp.DefaultCompositeFor). It prints the median, minimum and
// maximum seconds per call as JSON.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"sort"
	"time"

	"github.com/xai-go/lrp"
	"github.com/xai-go/lrp/models/torchvision"
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/onnx"
	"github.com/xai-go/lrp/tensor"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gobench:", err)
		os.Exit(1)
	}
}

func run() error {
	model := flag.String("model", "", "ONNX file, or a torchvision architecture (vit_b_16, vgg16, …) with random weights")
	batch := flag.Int("batch", 1, "batch size")
	reps := flag.Int("reps", 3, "timed repetitions (after one warm-up)")
	mode := flag.String("mode", "forward", "forward or explain (the default composite)")
	precision := flag.String("precision", "fp32", "precision of the forward pass: fp32, bf16 or winograd")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the timed calls to this file")
	memprofile := flag.String("memprofile", "", "write an allocation profile to this file at the end")
	flag.Parse()
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(20) // as cmd/lrp does
	}
	g, shape, err := load(*model)
	if err != nil {
		return err
	}
	shape[0] = *batch
	p, err := nn.ParsePrecision(*precision)
	if err != nil {
		return err
	}
	g.SetPrecision(p)
	x := tensor.New(shape...)
	for i := range x.Data {
		x.Data[i] = float32(i%251)/125 - 1
	}
	call := func() error { g.Run(x); return nil }
	if *mode == "explain" {
		c, err := lrp.LookupComposite(lrp.DefaultCompositeFor(g))
		if err != nil {
			return err
		}
		rm, err := c.Build(g, lrp.Params{Low: tensor.FromData([]float32{-2.1179}, 1), High: tensor.FromData([]float32{2.64}, 1)})
		if err != nil {
			return err
		}
		e, err := lrp.NewExplainer(g, rm)
		if err != nil {
			return err
		}
		call = func() error { _, err := e.Explain(x, lrp.Options{}); return err }
	}
	if err := call(); err != nil {
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	times := make([]float64, *reps)
	for i := range times {
		start := time.Now()
		if err := call(); err != nil {
			return err
		}
		times[i] = time.Since(start).Seconds()
		if os.Getenv("GOBENCH_VERBOSE") != "" {
			fmt.Fprintf(os.Stderr, "call %d: %.3f s\n", i, times[i])
		}
	}
	if *memprofile != "" {
		f, err := os.Create(*memprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return err
		}
	}
	sort.Float64s(times)
	return json.NewEncoder(os.Stdout).Encode(map[string]float64{
		"median": times[len(times)/2], "min": times[0], "max": times[len(times)-1]})
}

// load reads an ONNX file, or builds a torchvision architecture with random
// weights when model names one, and returns the graph and its input shape
// (224×224 for torchvision).
func load(model string) (*nn.Graph, []int, error) {
	if slices.Contains(torchvision.Names(), model) {
		state, err := torchvision.RandomInit(model, 1000, 0)
		if err != nil {
			return nil, nil, err
		}
		g, err := torchvision.Build(model, state)
		return g, []int{1, 3, 224, 224}, err
	}
	g, err := onnx.Load(model)
	if err != nil {
		return nil, nil, err
	}
	return g, append([]int(nil), g.InputShape...), nil
}
