package torchvision_test

import (
	"fmt"
	"log"

	"github.com/xai-go/lrp/models/torchvision"
	"github.com/xai-go/lrp/tensor"
	"github.com/xai-go/lrp/weights"
)

// Build a torchvision architecture from a PyTorch state_dict
// (torch.save(model.state_dict(), "resnet18.pth")); here a narrow ResNet-18
// with 7 classes from the tests. Real weights load the same way:
// torchvision.WeightsURL("resnet18") tells where to get them.
func ExampleBuild() {
	state, err := weights.Load("testdata/resnet18.pth")
	if err != nil {
		log.Fatal(err)
	}
	g, err := torchvision.Build("resnet18", state)
	if err != nil {
		log.Fatal(err)
	}
	x, err := tensor.LoadNpy("testdata/input.npy")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("input", x.Shape, "logits", g.Run(x).Shape)
	// Output: input [2 3 64 72] logits [2 7]
}
