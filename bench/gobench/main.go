// Command gobench times forward passes or epsilon-gamma-box explanations
// of an ONNX model with lrp, for bench/compare.sh. It prints the median,
// minimum and maximum seconds per call as JSON.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"time"

	"github.com/xai-go/lrp"
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
	model := flag.String("model", "", "ONNX file")
	batch := flag.Int("batch", 1, "batch size")
	reps := flag.Int("reps", 3, "timed repetitions (after one warm-up)")
	mode := flag.String("mode", "forward", "forward or explain (epsilon-gamma-box)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the timed calls to this file")
	memprofile := flag.String("memprofile", "", "write an allocation profile to this file at the end")
	flag.Parse()
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(20) // as cmd/lrp does
	}
	g, err := onnx.Load(*model)
	if err != nil {
		return err
	}
	shape := append([]int(nil), g.InputShape...)
	shape[0] = *batch
	x := tensor.New(shape...)
	for i := range x.Data {
		x.Data[i] = float32(i%251)/125 - 1
	}
	call := func() error { g.Run(x); return nil }
	if *mode == "explain" {
		c, err := lrp.LookupComposite("epsilon-gamma-box")
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
