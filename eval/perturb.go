package eval

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/xai-go/lrp/inpaint"
	"github.com/xai-go/lrp/tensor"
)

// Mode is how flipped patches are filled.
type Mode string

// The perturbation modes.
const (
	// Inpaint maps the image back to 0-255 pixels, fills every pixel
	// flipped so far by Telea's inpainting (radius 3) and normalizes again,
	// as the thesis code does (pixels truncated to integers each step).
	Inpaint Mode = "inpaint"
	// Random gives all pixels of the patches flipped in a step one value
	// drawn uniformly from [min, max] of the image (the thesis' random mode).
	Random Mode = "random"
	// Uniform draws every flipped element uniformly from [min, max].
	Uniform Mode = "uniform"
	// Zero sets flipped elements to 0 (in the model's input space).
	Zero Mode = "zero"
	// Mean sets flipped elements to their channel's mean over the image.
	Mean Mode = "mean"
	// Blur replaces flipped elements by a Gaussian blur (σ = patch size / 2)
	// of the original image.
	Blur Mode = "blur"
)

// Modes lists the perturbation modes.
func Modes() []Mode { return []Mode{Inpaint, Random, Uniform, Zero, Mean, Blur, ROAD} }

// ParseMode returns the mode of the given name.
func ParseMode(s string) (Mode, error) {
	for _, m := range Modes() {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("eval: unknown perturbation mode %q (inpaint, random, uniform, zero, mean, blur, road)", s)
}

// perturber fills the flipped elements of one image, step by step.
type perturber struct {
	mode      Mode
	orig      *tensor.T // C×H×W
	lo, hi    float32
	rng       *rand.Rand
	mean, std []float64 // normalization, for inpainting
	radius    float64
	fill      []float32 // precomputed fill values (mean, blur), C×H×W
	inp, out  *inpaint.Image
	inpainter *inpaint.Inpainter
	mask8     []uint8
}

func newPerturber(mode Mode, orig *tensor.T, rng *rand.Rand, mean, std []float64, radius float64, patch int) (*perturber, error) {
	p := &perturber{mode: mode, orig: orig, rng: rng, mean: mean, std: std, radius: radius}
	p.lo, p.hi = minMax(orig.Data)
	c, h, w := orig.Shape[0], orig.Shape[1], orig.Shape[2]
	switch mode {
	case Mean:
		p.fill = make([]float32, orig.Len())
		for ch := 0; ch < c; ch++ {
			var s float64
			plane := orig.Data[ch*h*w : (ch+1)*h*w]
			for _, v := range plane {
				s += float64(v)
			}
			for i := range plane {
				p.fill[ch*h*w+i] = float32(s / float64(h*w))
			}
		}
	case Blur:
		p.fill = gaussianBlur(orig, float64(patch)/2)
	case Inpaint:
		if len(mean) != c || len(std) != c {
			return nil, fmt.Errorf("eval: inpainting needs the normalization mean and std of each of the %d channels", c)
		}
		p.inp = &inpaint.Image{W: w, H: h, C: c, Pix: make([]uint8, c*h*w)}
		p.out = &inpaint.Image{W: w, H: h, C: c, Pix: make([]uint8, c*h*w)}
		p.mask8 = make([]uint8, h*w)
		var err error
		if p.inpainter, err = inpaint.NewInpainter(radius); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func minMax(v []float32) (lo, hi float32) {
	lo, hi = float32(math.Inf(1)), float32(math.Inf(-1))
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}

// step applies one step to img (C×H×W, modified in place): newMask marks
// the pixels flipped in this step, accMask all flipped so far.
func (p *perturber) step(img *tensor.T, newMask, accMask []bool) error {
	c, hw := img.Shape[0], img.Shape[1]*img.Shape[2]
	switch p.mode {
	case Inpaint:
		return p.inpaint(img, accMask)
	case Random:
		v := p.lo + p.rng.Float32()*(p.hi-p.lo)
		for ch := 0; ch < c; ch++ {
			for i, m := range newMask {
				if m {
					img.Data[ch*hw+i] = v
				}
			}
		}
	case Uniform:
		for ch := 0; ch < c; ch++ {
			for i, m := range newMask {
				if m {
					img.Data[ch*hw+i] = p.lo + p.rng.Float32()*(p.hi-p.lo)
				}
			}
		}
	case Zero:
		for ch := 0; ch < c; ch++ {
			for i, m := range newMask {
				if m {
					img.Data[ch*hw+i] = 0
				}
			}
		}
	case ROAD:
		// Imputed from the original image over every pixel flipped so far.
		h, w := img.Shape[1], img.Shape[2]
		for ch := 0; ch < c; ch++ {
			roadImpute(img.Data[ch*hw:(ch+1)*hw], p.orig.Data[ch*hw:(ch+1)*hw], accMask, h, w, p.rng, RoadNoise)
		}
	case Mean, Blur:
		for ch := 0; ch < c; ch++ {
			for i, m := range newMask {
				if m {
					img.Data[ch*hw+i] = p.fill[ch*hw+i]
				}
			}
		}
	}
	return nil
}

// inpaint follows the thesis code: x·std+mean, ×255, truncated to an
// integer (float32 arithmetic as torch does it), Telea inpainting of every
// pixel flipped so far, then ÷255 and normalized again.
func (p *perturber) inpaint(img *tensor.T, accMask []bool) error {
	c, hw := img.Shape[0], img.Shape[1]*img.Shape[2]
	for ch := 0; ch < c; ch++ {
		// torchvision's inverse Normalize(mean=−m/s, std=1/s) in float32
		im, is := float32(-p.mean[ch]/p.std[ch]), float32(1/p.std[ch])
		for i := 0; i < hw; i++ {
			v := float32(float32(img.Data[ch*hw+i]-im)/is) * 255
			// Round-off may leave 0 a hair below zero; anything further
			// out means the normalization is not the one of the input.
			if !(v > -1 && v < 256) {
				return fmt.Errorf("eval: inpainting needs pixel values in [0, 1] after undoing the normalization; got %g (wrong Config.Mean and Config.Std, or preprocessing?)", v/255)
			}
			p.inp.Pix[i*c+ch] = uint8(min(max(int32(v), 0), 255))
		}
	}
	for i, m := range accMask {
		p.mask8[i] = 0
		if m {
			p.mask8[i] = 1
		}
	}
	if err := p.inpainter.Into(p.out, p.inp, p.mask8); err != nil {
		return err
	}
	out := p.out
	for ch := 0; ch < c; ch++ {
		m, s := float32(p.mean[ch]), float32(p.std[ch])
		for i := 0; i < hw; i++ {
			v := float32(out.Pix[i*c+ch]) / 255
			img.Data[ch*hw+i] = (v - m) / s
		}
	}
	return nil
}

// gaussianBlur blurs each channel of x (C×H×W) with a Gaussian of the
// given σ, truncated at 3σ, with edges clamped.
func gaussianBlur(x *tensor.T, sigma float64) []float32 {
	c, h, w := x.Shape[0], x.Shape[1], x.Shape[2]
	rad := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*rad+1)
	var sum float64
	for i := range k {
		d := float64(i - rad)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	clamp := func(v, n int) int { return min(max(v, 0), n-1) }
	tmp := make([]float64, h*w)
	out := make([]float32, x.Len())
	for ch := 0; ch < c; ch++ {
		plane := x.Data[ch*h*w : (ch+1)*h*w]
		for y := 0; y < h; y++ {
			for xx := 0; xx < w; xx++ {
				var s float64
				for i, kv := range k {
					s += kv * float64(plane[y*w+clamp(xx+i-rad, w)])
				}
				tmp[y*w+xx] = s
			}
		}
		for y := 0; y < h; y++ {
			for xx := 0; xx < w; xx++ {
				var s float64
				for i, kv := range k {
					s += kv * tmp[clamp(y+i-rad, h)*w+xx]
				}
				out[ch*h*w+y*w+xx] = float32(s)
			}
		}
	}
	return out
}
