package nn_test

import (
	"fmt"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// A linear layer in float32 and in bfloat16. The weight 1/3 (float32
// 0x3EAAAAAB) rounds to the bfloat16 0x3EAB = 0.333984375, so 3 times it
// is 1.001953125.
func ExampleGraph_SetPrecision() {
	g := &nn.Graph{}
	g.Add("fc", &nn.Linear{W: tensor.FromData([]float32{1.0 / 3}, 1, 1)}, 0)
	x := tensor.FromData([]float32{3}, 1, 1)
	fmt.Println(nn.FP32, g.Run(x).Data[0])
	g.SetPrecision(nn.BF16)
	fmt.Println(nn.BF16, g.Run(x).Data[0])
	// Output:
	// fp32 1
	// bf16 1.0019531
}

// A 3×3 convolution by Winograd's F(4×4, 3×3) gives the direct
// convolution's result up to rounding: here, 16 channels of ones
// convolved with weights 1/144 sum to 1 inside the image and less at its
// zero-padded border.
func ExampleWinograd() {
	const c = 16
	w := tensor.New(c, c, 3, 3)
	for i := range w.Data {
		w.Data[i] = 1.0 / 144
	}
	g := &nn.Graph{}
	g.Add("conv", &nn.Conv2d{W: w, Stride: [2]int{1, 1}, Pad: [4]int{1, 1, 1, 1}, Dilation: [2]int{1, 1}, Groups: 1}, 0)
	x := tensor.New(1, c, 32, 32)
	for i := range x.Data {
		x.Data[i] = 1
	}
	g.SetPrecision(nn.Winograd)
	y := g.Run(x)
	fmt.Printf("%v corner %.4f, edge %.4f, inside %.4f\n", nn.Winograd, y.Data[0], y.Data[1], y.Data[33])
	// Output:
	// winograd corner 0.4444, edge 0.6667, inside 1.0000
}
