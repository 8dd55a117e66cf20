package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/xai-go/lrp/nn"
)

// maxHeatmapSide bounds a heatmap's side in pixels (--scale × the input's
// width): 4096 pixels make a 64 MB RGBA image; larger ones are a mistake
// (--scale 1000 on a 28-pixel input once wrote 28000×28000 PNGs).
const maxHeatmapSide = 4096

// flagDomain checks the value of one flag; it is applied only when the flag
// was given on the command line, so that a flag whose default means "unset"
// (-1 or 0) is told apart from an invalid value given on purpose.
type flagDomain struct {
	what  string // the domain, as the error message states it
	valid func(v string) bool
}

func intIn(lo, hi int64, what string) flagDomain {
	return flagDomain{what, func(v string) bool {
		n, err := strconv.ParseInt(v, 0, 64)
		return err == nil && n >= lo && n <= hi
	}}
}

func floatIn(lo, hi float64, what string) flagDomain {
	return flagDomain{what, func(v string) bool {
		f, err := strconv.ParseFloat(v, 64)
		return err == nil && f >= lo && f <= hi // false for NaN
	}}
}

// boundDomain accepts a finite number or anything else (a .npy file, read
// and checked later).
var boundDomain = flagDomain{"a finite number or a .npy file", func(v string) bool {
	if !looksNumeric(v) {
		return true
	}
	f, err := strconv.ParseFloat(v, 64)
	return err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && math.Abs(f) <= math.MaxFloat32
}}

// looksNumeric reports whether v is meant as a number (so a failed parse is
// an error rather than a file name).
func looksNumeric(v string) bool {
	v = strings.ToLower(strings.TrimLeft(v, "+-"))
	return v == "nan" || v == "inf" || v == "infinity" || v != "" && (v[0] >= '0' && v[0] <= '9' || v[0] == '.') && !strings.Contains(v, ".npy")
}

// flagDomains are the domains of the flags of every command, by flag name;
// parse applies them to the flags given. A flag means the same in every
// command that has it.
var flagDomains = map[string]flagDomain{
	"top":         intIn(1, math.MaxInt32, "an integer ≥ 1"),
	"target":      intIn(0, math.MaxInt32, "a class index ≥ 0"),
	"scale":       intIn(1, maxHeatmapSide, fmt.Sprintf("an integer from 1 to %d (heatmaps are at most %d pixels wide)", maxHeatmapSide, maxHeatmapSide)),
	"overlay":     floatIn(0, 1, "an opacity from 0 to 1"),
	"epsilon":     floatIn(0, math.MaxFloat32, "a finite number ≥ 0"),
	"gamma":       floatIn(0, math.MaxFloat32, "a finite number ≥ 0"),
	"num-classes": intIn(1, math.MaxInt32, "an integer ≥ 1"),
	"radius":      floatIn(-math.MaxFloat64, math.MaxFloat64, "a finite number"),
	"batch-size":  intIn(1, math.MaxInt32, "at least 1"),
	"limit":       intIn(1, math.MaxInt32, "at least 1 (leave it out to use every image)"),
	"patch":       intIn(1, math.MaxInt32, "at least 1"),
	"steps":       intIn(1, math.MaxInt32, "at least 1"),
	"max-batch":   intIn(1, math.MaxInt32, "at least 1"),
	"low":         boundDomain,
	"high":        boundDomain,
}

// checkFlags applies flagDomains to the flags given in fs, and checks that
// --low is below --high when both are numbers.
func checkFlags(fs *flag.FlagSet) error {
	var err error
	given := map[string]string{}
	fs.Visit(func(f *flag.Flag) {
		v := f.Value.String()
		given[f.Name] = v
		if d, ok := flagDomains[f.Name]; ok && err == nil && !d.valid(v) {
			err = fmt.Errorf("--%s %s: must be %s", f.Name, v, d.what)
		}
	})
	if err != nil {
		return err
	}
	lo, okl := given["low"]
	hi, okh := given["high"]
	if okl && okh {
		l, errl := strconv.ParseFloat(lo, 64)
		h, errh := strconv.ParseFloat(hi, 64)
		if errl == nil && errh == nil && !(l < h) {
			return fmt.Errorf("--low %s --high %s: low must be below high", lo, hi)
		}
	}
	return nil
}

// checkTarget checks --target against the model's number of classes,
// before any work is done. Models whose output size is not known without
// an input are checked later by the library.
func checkTarget(fs *flag.FlagSet, g *nn.Graph, target int) error {
	if !given(fs, "target") || g.InputShape == nil {
		return nil
	}
	in := append([]int(nil), g.InputShape...)
	for i, d := range in {
		if d < 0 {
			if i > 0 {
				return nil
			}
			in[i] = 1
		}
	}
	in[0] = 1
	shapes, err := g.Shapes(in)
	if err != nil {
		return nil
	}
	out := shapes[len(shapes)-1]
	classes := 1
	for _, d := range out[1:] {
		classes *= d
	}
	if target >= classes {
		return fmt.Errorf("--target %d is out of range: the model has %d classes (0 to %d)", target, classes, classes-1)
	}
	return nil
}

// checkScale checks that --scale keeps heatmaps of inputs width pixels
// wide within maxHeatmapSide.
func checkScale(scale, width int) error {
	if scale > 0 && width > 0 && scale*width > maxHeatmapSide {
		return fmt.Errorf("--scale %d: heatmaps of %d-pixel-wide inputs would be %d pixels wide; the limit is %d (use --scale %d or less)",
			scale, width, scale*width, maxHeatmapSide, maxHeatmapSide/width)
	}
	return nil
}

// warnOut receives warnings; tests replace it.
var warnOut io.Writer = os.Stderr

var (
	warnMu   sync.Mutex
	warnSeen = map[string]bool{}
)

// warn prints each distinct warning once per run as "lrp: warning: …".
func warn(msgs ...string) {
	warnMu.Lock()
	defer warnMu.Unlock()
	for _, m := range msgs {
		if !warnSeen[m] {
			warnSeen[m] = true
			fmt.Fprintln(warnOut, "lrp: warning:", m)
		}
	}
}

// errorLine is the line main prints for err: "lrp: " and the message, with
// the prefix not repeated when a library error of package lrp already
// starts with it.
func errorLine(err error) string {
	msg := err.Error()
	for strings.HasPrefix(msg, "lrp: ") {
		msg = strings.TrimPrefix(msg, "lrp: ")
	}
	return "lrp: " + msg
}
