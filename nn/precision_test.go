package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/xai-go/lrp/internal/kernels"
	"github.com/xai-go/lrp/tensor"
)

// precisionGraph is a grouped, strided, padded convolution, ReLU, and a
// linear layer on the flattened result (through Transpose-free reshaping:
// the convolution output is 1×1 spatially).
func precisionGraph(rng *rand.Rand) *Graph {
	g := &Graph{InputShape: []int{-1, 6, 9, 9}}
	conv := &Conv2d{W: randT(rng, 10, 3, 9, 9), B: randT(rng, 10), Stride: [2]int{1, 1}, Dilation: [2]int{1, 1}, Groups: 2}
	v := g.Add("conv", conv, 0)
	v = g.Add("relu", ReLU{}, v)
	v = g.Add("flatten", &Flatten{Axis: 1}, v)
	g.Add("fc", &Linear{W: randT(rng, 7, 10), B: randT(rng, 7)}, v)
	return g
}

// TestSetPrecisionBF16 checks a BF16 graph against the float64 loops of
// the same layers on bfloat16-rounded operands, and that FP32 restores the
// float32 result.
func TestSetPrecisionBF16(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	g := precisionGraph(rng)
	x := randT(rng, 3, 6, 9, 9)
	fp32 := g.Run(x).Clone()
	g.SetPrecision(BF16)
	got := g.Run(x)

	conv := g.Nodes[0].Layer.(*Conv2d)
	fc := g.Nodes[3].Layer.(*Linear)
	r := func(v float32) float64 { return float64(kernels.RoundBF16(v)) }
	for n := 0; n < 3; n++ {
		h := make([]float64, 10)
		for o := 0; o < 10; o++ {
			gr := o / 5
			s := float64(conv.B.Data[o])
			for c := 0; c < 3; c++ {
				for i := 0; i < 81; i++ {
					s += r(conv.W.Data[(o*3+c)*81+i]) * r(x.Data[(n*6+gr*3+c)*81+i])
				}
			}
			h[o] = float64(max(float32(s), 0))
		}
		for o := 0; o < 7; o++ {
			s := float64(fc.B.Data[o])
			for i := 0; i < 10; i++ {
				s += r(fc.W.Data[o*10+i]) * r(float32(h[i]))
			}
			if d := math.Abs(float64(got.Data[n*7+o]) - s); d > 1e-4*(1+math.Abs(s)) {
				t.Errorf("sample %d logit %d: bf16 %v, float64 reference %v", n, o, got.Data[n*7+o], s)
			}
		}
	}
	g.SetPrecision(FP32)
	back := g.Run(x)
	for i := range back.Data {
		if back.Data[i] != fp32.Data[i] {
			t.Fatalf("FP32 after BF16 differs at %d: %v, was %v", i, back.Data[i], fp32.Data[i])
		}
	}
}

// TestSetPrecisionConcurrent runs a freshly switched graph from several
// goroutines at once: the weights are packed once, on first use, and all
// runs agree.
func TestSetPrecisionConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	g := precisionGraph(rng)
	x := randT(rng, 2, 6, 9, 9)
	g.SetPrecision(BF16)
	outs := make([]*tensor.T, 8)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Go(func() { outs[i] = g.Run(x).Clone() })
	}
	wg.Wait()
	for i := range outs {
		for j := range outs[0].Data {
			if outs[i].Data[j] != outs[0].Data[j] {
				t.Fatalf("run %d differs at %d", i, j)
			}
		}
	}
}

func TestParsePrecision(t *testing.T) {
	for _, p := range []Precision{FP32, BF16, Winograd} {
		if q, err := ParsePrecision(p.String()); err != nil || q != p {
			t.Errorf("ParsePrecision(%q) = %v, %v", p.String(), q, err)
		}
	}
	if _, err := ParsePrecision("fp16"); err == nil {
		t.Error("ParsePrecision(fp16) gave no error")
	}
	if BF16Kernel() == "" {
		t.Error("no BF16 kernel name")
	}
}

// TestBF16BatchIndependent: with the bfloat16 kernels a sample's logits
// are the same bits alone and in a batch (pixel flipping batches its
// inputs freely).
func TestBF16BatchIndependent(t *testing.T) {
	if BF16Kernel() == "float32" {
		t.Skip("the float32 fallback does not promise it")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	g := precisionGraph(rng)
	g.SetPrecision(BF16)
	x := randT(rng, 5, 6, 9, 9)
	all := g.Run(x).Clone()
	for i := 0; i < 5; i++ {
		one := g.Run(x.Batch(i).Reshape(1, 6, 9, 9))
		for j := range one.Data {
			if one.Data[j] != all.Data[i*7+j] {
				t.Fatalf("sample %d logit %d: alone %v, in the batch %v", i, j, one.Data[j], all.Data[i*7+j])
			}
		}
	}
}

// TestWithPrecision checks that the BF16 copy computes exactly what g
// computes after SetPrecision(BF16), while g itself stays FP32.
func TestWithPrecision(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	g := precisionGraph(rng)
	x := randT(rng, 2, 6, 9, 9)
	fp32 := g.Run(x).Clone()
	bf := g.WithPrecision(BF16)
	fromCopy := bf.Run(x).Clone()
	if again := g.Run(x); !slices.Equal(again.Data, fp32.Data) {
		t.Fatal("g changed precision when a copy was made")
	}
	g.SetPrecision(BF16)
	want := g.Run(x)
	if !slices.Equal(fromCopy.Data, want.Data) {
		t.Errorf("WithPrecision(BF16) gives %v, SetPrecision(BF16) %v", fromCopy.Data, want.Data)
	}
	if slices.Equal(fromCopy.Data, fp32.Data) {
		t.Error("the BF16 copy computes the FP32 result to the bit")
	}
}
