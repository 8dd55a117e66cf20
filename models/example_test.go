package models_test

import (
	"fmt"
	"log"

	"github.com/xai-go/lrp/models"
)

// The embedded models come with their labels, preprocessing and sample
// images; Graph returns the model ready to run.
func ExampleLookup() {
	emb, err := models.Lookup("mnist")
	if err != nil {
		log.Fatal(err)
	}
	g, err := emb.Graph()
	if err != nil {
		log.Fatal(err)
	}
	samples, err := emb.Samples()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(models.Names())
	fmt.Println(len(emb.Labels), "classes, preprocessing", emb.Preprocess, "input", g.InputShape)
	fmt.Println(len(samples) > 0)
	// Output:
	// [fashion-mnist fashion-mnist-vit mnist mnist-vit]
	// 10 classes, preprocessing mnist input [-1 1 28 28]
	// true
}
