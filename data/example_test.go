package data_test

import (
	"fmt"
	"log"

	"github.com/xai-go/lrp/data"
)

// Preprocess a photo as torchvision's
// Compose([Resize(256), CenterCrop(224), ToTensor(), Normalize(...)]) does
// after Image.open(path).convert("RGB").
func ExampleLookup() {
	img, err := data.Decode("testdata/chelsea.png")
	if err != nil {
		log.Fatal(err)
	}
	p, err := data.Lookup("imagenet-crop")
	if err != nil {
		log.Fatal(err)
	}
	x, err := p.Apply(img)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("shape:", x.Shape)
	fmt.Printf("x[0,0,0,0] = %.4f\n", x.Data[0])

	// Back to [0, 1] pixel scale, e.g. to edit the image, and normalized again.
	if err := p.Invert(x); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("as a level: %.0f/255\n", x.Data[0]*255)
	if err := p.Normalize(x); err != nil {
		log.Fatal(err)
	}
	// Output:
	// shape: [1 3 224 224]
	// x[0,0,0,0] = 0.7762
	// as a level: 169/255
}

// The box rule's bounds for ImageNet-normalized inputs: the images of the
// pixel values 0 and 1 under the normalization, per channel.
func ExamplePreprocess_Bounds() {
	p, err := data.Lookup("imagenet")
	if err != nil {
		log.Fatal(err)
	}
	low, high, err := p.Bounds([]int{8, 3, 224, 224})
	if err != nil {
		log.Fatal(err)
	}
	plane := 224 * 224
	for c := 0; c < 3; c++ {
		fmt.Printf("channel %d: [%.4f, %.4f]\n", c, low.Data[c*plane], high.Data[c*plane])
	}
	mean, std, err := p.MeanStd(3)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("mean", mean, "std", std)
	// By hand: (0 − 0.485)/0.229 = −2.1179, (1 − 0.485)/0.229 = 2.2489, …
	// Output:
	// channel 0: [-2.1179, 2.2489]
	// channel 1: [-2.0357, 2.4286]
	// channel 2: [-1.8044, 2.6400]
	// mean [0.485 0.456 0.406] std [0.229 0.224 0.225]
}

// A 3-channel .npy tensor with no named normalization is taken to be
// ImageNet-normalized, a 1-channel one MNIST-normalized.
func ExampleDefaultNormalization() {
	for _, c := range []int{3, 1, 2} {
		p, err := data.DefaultNormalization(c)
		if err != nil {
			fmt.Println(c, "channels: error")
			continue
		}
		fmt.Println(c, "channels:", p.Name, p.Mean, p.Std)
	}
	// Output:
	// 3 channels: imagenet [0.485 0.456 0.406] [0.229 0.224 0.225]
	// 1 channels: mnist [0.1307] [0.3081]
	// 2 channels: error
}
