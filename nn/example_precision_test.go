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
