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
