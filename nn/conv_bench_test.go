package nn

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xai-go/lrp/tensor"
)

// benchConvs are convolutions of VGG16 and ResNet50 at 224×224 (in
// channels, out channels, input size, kernel, stride, padding).
var benchConvs = []struct {
	name                 string
	c, o, hw, k, s, p, n int
}{
	{"vgg1_2", 64, 64, 224, 3, 1, 1, 1},
	{"vgg2_2", 128, 128, 112, 3, 1, 1, 1},
	{"vgg3_2", 256, 256, 56, 3, 1, 1, 1},
	{"vgg4_2", 512, 512, 28, 3, 1, 1, 1},
	{"vgg5_2", 512, 512, 14, 3, 1, 1, 1},
	{"vgg5_2b8", 512, 512, 14, 3, 1, 1, 8},
	{"res_conv1", 3, 64, 224, 7, 2, 3, 1},
	{"res1_1x1", 256, 64, 56, 1, 1, 0, 1},
	{"res1_3x3", 64, 64, 56, 3, 1, 1, 1},
	{"res2_3x3s2", 128, 128, 56, 3, 2, 1, 1},
	{"res4_3x3", 512, 512, 7, 3, 1, 1, 1},
	{"res4_1x1", 512, 2048, 7, 1, 1, 0, 1},
	{"res4_1x1in", 2048, 512, 7, 1, 1, 0, 1},
	{"res1_1x1x4", 64, 256, 56, 1, 1, 0, 1},
	{"res2_ds", 256, 512, 56, 1, 2, 0, 1},
	{"res4_ds", 1024, 2048, 14, 1, 2, 0, 1},
	{"res3_3x3", 256, 256, 14, 3, 1, 1, 1},
	{"res4_3x3b8", 512, 512, 7, 3, 1, 1, 8},
	{"res1_3x3b8", 64, 64, 56, 3, 1, 1, 8},
}

// BenchmarkConv reports GFLOP/s of the forward and transposed passes, and
// for the 3×3 stride-1 shapes of the forward pass by Winograd's algorithm
// (SetPrecision(Winograd)), in direct-convolution flops per second: the
// rate the direct convolution would need to match it.
// LRP_CONV_BUDGET and LRP_CONV_MINCOLS override the tiling knobs, for
// tuning.
func BenchmarkConv(b *testing.B) {
	for env, knob := range map[string]*int{"LRP_CONV_BUDGET": &convColBudget, "LRP_CONV_MINCOLS": &convMinCols} {
		if v, err := strconv.Atoi(os.Getenv(env)); err == nil {
			defer func(old int) { *knob = old }(*knob)
			*knob = v
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range benchConvs {
		l := &Conv2d{W: randT(r, c.o, c.c, c.k, c.k), B: randT(r, c.o), Stride: [2]int{c.s, c.s},
			Pad: [4]int{c.p, c.p, c.p, c.p}, Dilation: [2]int{1, 1}, Groups: 1}
		x := randT(r, c.n, c.c, c.hw, c.hw)
		y := l.Forward([]*tensor.T{x})
		flops := 2 * float64(c.o*c.c*c.k*c.k) * float64(y.Len()/c.o)
		b.Run(fmt.Sprintf("%s/forward", c.name), func(b *testing.B) {
			for b.Loop() {
				tensor.Recycle(l.ForwardWith(x, l.W, l.B))
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		if g, _ := l.geom(x.Shape); winoApplies(&g) {
			wl := *l
			wl.wino = &winoWeights{}
			tensor.Recycle(wl.Forward([]*tensor.T{x})) // transforms the weights
			b.Run(fmt.Sprintf("%s/winograd", c.name), func(b *testing.B) {
				for b.Loop() {
					tensor.Recycle(wl.Forward([]*tensor.T{x}))
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
		b.Run(fmt.Sprintf("%s/transposed", c.name), func(b *testing.B) {
			for b.Loop() {
				tensor.Recycle(l.BackwardWith(y, l.W, x.Shape))
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestConvTune prints, for each benchmark convolution with its weights
// stacked twice along the output channels (as the γ rule runs it), the
// best GFLOP/s of the forward and the transposed pass (with a cached
// transposed weight) over LRP_CONV_TUNE rounds for several settings of the
// tiling knobs, interleaved so that they share the noise of a busy
// machine. It is skipped unless LRP_CONV_TUNE is set.
func TestConvTune(t *testing.T) {
	rounds, err := strconv.Atoi(os.Getenv("LRP_CONV_TUNE"))
	if err != nil {
		t.Skip("LRP_CONV_TUNE not set")
	}
	vars := []*int{&convColBudget, &convColMin, &convColMax, &convMinCols, &convItemsPerWorker, &convItemsPerWorkerPointwise}
	defaults := make([]int, len(vars))
	for i, v := range vars {
		defaults[i] = *v
	}
	defer func() {
		for i, v := range vars {
			*v = defaults[i]
		}
	}()
	knobs := []struct {
		name string
		set  func()
	}{
		{"default", func() {}},
		{"items1", func() { convItemsPerWorker = 1 }},
		{"items4", func() { convItemsPerWorker = 4 }},
		{"pw2", func() { convItemsPerWorkerPointwise = 2 }},
		{"mincols256", func() { convMinCols = 256 }},
		{"mincols1024", func() { convMinCols = 1024 }},
		{"colmax1M", func() { convColMax = 1 << 20 }},
	}
	stack := 2
	if os.Getenv("LRP_CONV_TUNE_PLAIN") != "" {
		stack = 1
	}
	only := os.Getenv("LRP_CONV_TUNE_ONLY")
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range benchConvs {
		if only != "" && !strings.Contains(c.name, only) {
			continue
		}
		l := &Conv2d{W: randT(r, c.o, c.c, c.k, c.k), B: randT(r, c.o), Stride: [2]int{c.s, c.s},
			Pad: [4]int{c.p, c.p, c.p, c.p}, Dilation: [2]int{1, 1}, Groups: 1}
		w2, b2 := randT(r, stack*c.o, c.c, c.k, c.k), randT(r, stack*c.o)
		wt := l.TransposedWeight(w2)
		x := randT(r, c.n, c.c, c.hw, c.hw)
		y := l.ForwardWith(x, w2, b2)
		flops := 2 * float64(stack*c.o*c.c*c.k*c.k) * float64(y.Len()/(stack*c.o))
		best := make([]float64, len(knobs))
		bestT := make([]float64, len(knobs))
		for range rounds {
			for i, k := range knobs {
				for i, v := range vars {
					*v = defaults[i]
				}
				k.set()
				start := time.Now()
				l.ForwardWith(x, w2, b2)
				best[i] = max(best[i], flops/time.Since(start).Seconds()/1e9)
				start = time.Now()
				l.BackwardWithTransposed(y, w2, wt, x.Shape)
				bestT[i] = max(bestT[i], flops/time.Since(start).Seconds()/1e9)
			}
		}
		line := fmt.Sprintf("%-11s", c.name)
		for i, k := range knobs {
			line += fmt.Sprintf(" %s %3.0f/%3.0f", k.name, best[i], bestT[i])
		}
		t.Log(line)
	}
}
