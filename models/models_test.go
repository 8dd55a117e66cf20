package models

import (
	"encoding/json"
	"image"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/xai-go/lrp/data"
)

// referenceSample is one entry of train/sample_logits.json, written by
// train.py from the float32 PyTorch model.
type referenceSample struct {
	Name   string    `json:"name"`
	Index  int       `json:"index"`
	Label  int       `json:"label"`
	Logits []float64 `json:"logits"`
}

func readReference(t *testing.T) map[string][]referenceSample {
	t.Helper()
	b, err := os.ReadFile("train/sample_logits.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref map[string][]referenceSample
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

func TestNamesAndLookup(t *testing.T) {
	names := Names()
	if want := []string{"fashion-mnist", "fashion-mnist-vit", "mnist", "mnist-vit"}; !slices.Equal(names, want) {
		t.Fatalf("Names() = %v, want %v", names, want)
	}
	for _, n := range names {
		e, err := Lookup(n)
		if err != nil {
			t.Fatal(err)
		}
		if e.Name != n || len(e.Labels) != 10 || e.Preprocess != strings.TrimSuffix(n, "-vit") || len(e.ONNX()) == 0 {
			t.Errorf("Lookup(%q) = {Name %q, %d labels, Preprocess %q, %d ONNX bytes}", n, e.Name, len(e.Labels), e.Preprocess, len(e.ONNX()))
		}
		e.Labels[0] = "changed"
		if again, _ := Lookup(n); again.Labels[0] == "changed" {
			t.Errorf("Lookup(%q) shares its Labels", n)
		}
	}
	fashion, _ := Lookup(FashionMNIST)
	if fashion.Labels[0] != "T-shirt/top" || fashion.Labels[9] != "Ankle boot" {
		t.Errorf("fashion-mnist labels %q", fashion.Labels)
	}
	_, err := Lookup("vgg16")
	if err == nil || !strings.Contains(err.Error(), "fashion-mnist, fashion-mnist-vit, mnist, mnist-vit") {
		t.Errorf("Lookup(vgg16) error %v does not list the known names", err)
	}
	if _, err := (Embedded{Name: "x"}).Graph(); err == nil {
		t.Error("Graph of a zero Embedded: no error")
	}
}

func TestFashionPreprocessRegistered(t *testing.T) {
	p, err := data.Lookup(FashionMNIST)
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != data.ResizeExact || p.Width != 28 || p.Height != 28 || !p.Grayscale ||
		!slices.Equal(p.Mean, []float64{0.2860}) || !slices.Equal(p.Std, []float64{0.3530}) {
		t.Errorf("fashion-mnist preprocessing %+v", p)
	}
	// Registering it again is accepted only with identical settings.
	if err := register(FashionMNIST, fashionPreprocess); err != nil {
		t.Error(err)
	}
	other := fashionPreprocess
	other.Std = []float64{0.5}
	if err := register(FashionMNIST, other); err == nil {
		t.Error("register with other settings: no error")
	}
}

// TestSamples runs every embedded model on its embedded samples with the
// engine and compares the logits to PyTorch's.
func TestSamples(t *testing.T) {
	ref := readReference(t)
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			e, err := Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			g, err := e.Graph()
			if err != nil {
				t.Fatal(err)
			}
			p, err := e.Preprocessing()
			if err != nil {
				t.Fatal(err)
			}
			samples, err := e.Samples()
			if err != nil {
				t.Fatal(err)
			}
			want := ref[name]
			if len(samples) != 10 || len(want) != len(samples) {
				t.Fatalf("%d samples, %d reference samples; want 10", len(samples), len(want))
			}
			imgs := make([]image.Image, len(samples))
			for i, s := range samples {
				if b := s.Image.Bounds(); b.Dx() != 28 || b.Dy() != 28 {
					t.Errorf("%s: %v image", s.Name, b)
				}
				if s.Label != i || s.Name != want[i].Name || s.Index != want[i].Index || s.Label != want[i].Label {
					t.Errorf("sample %d: %+v, reference %s (index %d, label %d)", i, s, want[i].Name, want[i].Index, want[i].Label)
				}
				imgs[i] = s.Image
			}
			x, err := p.Batch(imgs)
			if err != nil {
				t.Fatal(err)
			}
			if err := g.CheckInput(x.Shape); err != nil {
				t.Fatal(err)
			}
			logits := g.Run(x)
			if !slices.Equal(logits.Shape, []int{len(samples), 10}) {
				t.Fatalf("logits shape %v", logits.Shape)
			}
			worst := 0.0
			for i, s := range samples {
				worst = max(worst, checkLogits(t, s.Name, logits.Data[i*10:(i+1)*10], want[i].Logits))
				if got := argmax(logits.Data[i*10 : (i+1)*10]); got != s.Label {
					t.Errorf("%s: predicted %d (%s), want %d (%s)", s.Name, got, e.Labels[got], s.Label, e.Labels[s.Label])
				}
			}
			t.Logf("max |logit - PyTorch| / max |PyTorch logit| = %.2g over %d samples", worst, len(samples))
			// One image at a time gives the same classes.
			for _, s := range samples[:2] {
				x, err := p.Apply(s.Image)
				if err != nil {
					t.Fatal(err)
				}
				if got := argmax(g.Run(x).Data); got != s.Label {
					t.Errorf("%s alone: predicted %d, want %d", s.Name, got, s.Label)
				}
			}
		})
	}
}

// checkLogits compares got to PyTorch's logits want and returns the largest
// difference relative to the largest |want|.
func checkLogits(t *testing.T, name string, got []float32, want []float64) float64 {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d logits, reference has %d", name, len(got), len(want))
	}
	if len(want) == 0 {
		return 0
	}
	var scale, diff float64
	for i := range want {
		scale = math.Max(scale, math.Abs(want[i]))
		diff = math.Max(diff, math.Abs(float64(got[i])-want[i]))
	}
	if diff > 1e-4*scale {
		t.Errorf("%s: max |logit - PyTorch| = %.3g > 1e-4 × %.3g\n got %v\nwant %v", name, diff, scale, got, want)
	}
	return diff / scale
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func TestONNXIsCopy(t *testing.T) {
	e, _ := Lookup(MNIST)
	b := e.ONNX()
	b[0] ^= 0xff
	if e.ONNX()[0] == b[0] {
		t.Error("ONNX() returns shared bytes")
	}
}
