package data

import (
	"errors"
	"fmt"
	"image"
	"sort"
	"strings"
	"sync"

	"github.com/xai-go/lrp/tensor"
)

// Mode says how a Preprocess brings an image to its output size.
type Mode int

const (
	// ResizeExact resizes the image to exactly Width×Height, ignoring its
	// aspect ratio, like torchvision's transforms.Resize((Height, Width)).
	// It is the zero Mode.
	ResizeExact Mode = iota
	// ResizeCrop resizes the image so that its shorter side is
	// ResizeShorter, keeping the aspect ratio (the longer side becomes
	// int(ResizeShorter*long/short), truncated), then cuts the central
	// Width×Height region, like transforms.Resize(ResizeShorter) followed
	// by transforms.CenterCrop((Height, Width)). The crop starts at
	// int(round((size-crop)/2.0)) on each axis, with Python's round half to
	// even; where the crop is larger than the image the missing pixels are
	// 0 before normalization, as torchvision pads.
	ResizeCrop
	// None leaves inputs unchanged. It is meant for inputs that are already
	// tensors (.npy files); applying it to an image is an error.
	None
)

// String returns the Mode's name: "resize", "resize-crop" or "none".
func (m Mode) String() string {
	switch m {
	case ResizeExact:
		return "resize"
	case ResizeCrop:
		return "resize-crop"
	case None:
		return "none"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// maxSide bounds every size a Preprocess may ask for, so that a mistaken
// configuration cannot allocate without limit.
const maxSide = 1 << 13

// Preprocess turns an image into the input tensor of a model exactly as a
// torchvision pipeline on a PIL image does:
//
//	img = Image.open(path).convert("RGB")   # or .convert("L") if Grayscale
//	x = Compose([Resize(...), [CenterCrop(...)], ToTensor(), Normalize(Mean, Std)])(img)
//
// The image is first converted to 8-bit RGB, or with Grayscale to 8-bit
// luminance L = (19595*R + 38470*G + 7471*B + 0x8000) >> 16 (PIL's
// convert("L"): its 16-bit fixed-point form of R*299/1000 + G*587/1000 +
// B*114/1000, rounded), before any resizing, as with torchvision's
// Grayscale() placed first. It is then resized with PIL's bilinear filter,
// antialiased when shrinking, in 8 bits exactly as PIL does (see the package
// documentation), and cropped as Mode says. Each resulting sample v in
// 0..255 becomes, in float32 arithmetic,
//
//	x = (v/255 - Mean[c]) / Std[c]
//
// with Mean and Std rounded to float32 first, as torchvision's ToTensor and
// Normalize compute it.
//
// A Preprocess is a plain value; the zero value is invalid (no size).
// Lookup returns the registered ones; others can be written as literals.
type Preprocess struct {
	// Name identifies the preprocessing in error messages. Lookup and
	// Register set it.
	Name string
	// Mode selects how the image is brought to Width×Height.
	Mode Mode
	// Width and Height are the output size in pixels; unused by None.
	Width, Height int
	// ResizeShorter is the length the shorter image side is resized to
	// before the center crop; used by ResizeCrop only.
	ResizeShorter int
	// Grayscale selects a single luminance channel instead of R, G, B.
	Grayscale bool
	// Mean and Std are the per-channel normalization constants: empty for
	// none (x = v/255), one value for all channels, or one per channel.
	// Every Std must be non-zero.
	Mean, Std []float64
}

// Channels returns the number of output channels: 1 with Grayscale, else 3.
func (p Preprocess) Channels() int {
	if p.Grayscale {
		return 1
	}
	return 3
}

// Shape returns the shape of the tensor Apply returns: 1×C×Height×Width.
// It returns nil for None, whose shape is the input's.
func (p Preprocess) Shape() []int {
	if p.Mode == None {
		return nil
	}
	return []int{1, p.Channels(), p.Height, p.Width}
}

func (p Preprocess) label() string {
	if p.Name == "" {
		return "data: preprocess"
	}
	return "data: preprocess " + p.Name
}

// Validate reports whether p is usable: a known Mode, sizes in
// 1..8192, ResizeShorter set for ResizeCrop, and Mean and Std of length
// 0, 1 or Channels(), of equal length, with no zero Std.
func (p Preprocess) Validate() error {
	l := p.label()
	switch p.Mode {
	case None:
		if len(p.Mean) != 0 || len(p.Std) != 0 {
			return fmt.Errorf("%s: mode none takes no Mean or Std", l)
		}
		return nil
	case ResizeExact, ResizeCrop:
	default:
		return fmt.Errorf("%s: unknown mode %v", l, p.Mode)
	}
	if p.Width < 1 || p.Height < 1 || p.Width > maxSide || p.Height > maxSide {
		return fmt.Errorf("%s: output size %d×%d is not within 1..%d", l, p.Width, p.Height, maxSide)
	}
	if p.Mode == ResizeCrop && (p.ResizeShorter < 1 || p.ResizeShorter > maxSide) {
		return fmt.Errorf("%s: mode resize-crop needs ResizeShorter within 1..%d, have %d", l, maxSide, p.ResizeShorter)
	}
	if len(p.Mean) != len(p.Std) {
		return fmt.Errorf("%s: %d Mean values but %d Std values", l, len(p.Mean), len(p.Std))
	}
	if n := len(p.Mean); n != 0 && n != 1 && n != p.Channels() {
		return fmt.Errorf("%s: %d Mean/Std values for %d channels", l, n, p.Channels())
	}
	for i, s := range p.Std {
		if float32(s) == 0 {
			return fmt.Errorf("%s: Std[%d] is zero", l, i)
		}
	}
	return nil
}

// meanStd returns Mean[c] and Std[c] as float32 (0 and 1 when empty).
func (p Preprocess) meanStd(c int) (float32, float32) {
	m, s := p.channelMeanStd(c)
	return float32(m), float32(s)
}

// channelMeanStd returns channel c's mean and std: Mean[c] and Std[c],
// the single values for every channel, or 0 and 1 when p has none.
func (p Preprocess) channelMeanStd(c int) (float64, float64) {
	switch len(p.Mean) {
	case 0:
		return 0, 1
	case 1:
		return p.Mean[0], p.Std[0]
	}
	return p.Mean[c], p.Std[c]
}

// Apply preprocesses img and returns a new 1×C×Height×Width tensor.
// It fails for an invalid p, for None, for a nil or empty image, and for
// images over MaxPixels pixels.
func (p Preprocess) Apply(img image.Image) (*tensor.T, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.Mode == None {
		return nil, fmt.Errorf("%s: mode none leaves inputs unchanged and applies only to .npy tensors, not to images", p.label())
	}
	if img == nil {
		return nil, fmt.Errorf("%s: nil image", p.label())
	}
	b := img.Bounds()
	if b.Empty() {
		return nil, fmt.Errorf("%s: empty image %v", p.label(), b)
	}
	if int64(b.Dx())*int64(b.Dy()) > MaxPixels {
		return nil, fmt.Errorf("%s: image of %d×%d pixels is larger than the limit of %d pixels", p.label(), b.Dx(), b.Dy(), MaxPixels)
	}
	r := toRGB(img)
	if p.Grayscale {
		r = toL(r)
	}
	switch p.Mode {
	case ResizeExact:
		r = r.resize(p.Width, p.Height)
	case ResizeCrop:
		w, h := shorterSide(r.w, r.h, p.ResizeShorter)
		if w < 1 || h < 1 || int64(w)*int64(h) > MaxPixels {
			return nil, fmt.Errorf("%s: resizing %d×%d to shorter side %d gives %d×%d", p.label(), r.w, r.h, p.ResizeShorter, w, h)
		}
		r = r.resize(w, h).centerCrop(p.Width, p.Height)
	}
	t := tensor.New(1, r.c, r.h, r.w)
	for c := 0; c < r.c; c++ {
		mean, std := p.meanStd(c)
		src := r.plane(c)
		dst := t.Data[c*r.w*r.h : (c+1)*r.w*r.h]
		for i, v := range src {
			// ToTensor: float32 division by 255; Normalize: sub then div.
			x := float32(v) / 255
			if len(p.Mean) != 0 {
				x = (x - mean) / std
			}
			dst[i] = x
		}
	}
	return t, nil
}

// Batch preprocesses each image with Apply and stacks the results into a
// new N×C×Height×Width tensor, N = len(imgs). Errors name the index of the
// image that failed.
func (p Preprocess) Batch(imgs []image.Image) (*tensor.T, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.Mode == None {
		return nil, fmt.Errorf("%s: mode none leaves inputs unchanged and applies only to .npy tensors, not to images", p.label())
	}
	if len(imgs) == 0 {
		return nil, fmt.Errorf("%s: empty batch", p.label())
	}
	c := p.Channels()
	out := tensor.New(len(imgs), c, p.Height, p.Width)
	n := c * p.Height * p.Width
	for i, img := range imgs {
		t, err := p.Apply(img)
		if err != nil {
			return nil, fmt.Errorf("image %d of batch: %w", i, err)
		}
		copy(out.Data[i*n:(i+1)*n], t.Data)
	}
	return out, nil
}

// checkLayout verifies that t is C×H×W or N×C×H×W with C = Channels().
func (p Preprocess) checkLayout(t *tensor.T, op string) (channels, plane int, err error) {
	if t == nil {
		return 0, 0, fmt.Errorf("%s: %s of a nil tensor", p.label(), op)
	}
	d := len(t.Shape)
	if d != 3 && d != 4 {
		return 0, 0, fmt.Errorf("%s: %s needs a C×H×W or N×C×H×W tensor, have shape %v", p.label(), op, t.Shape)
	}
	c := t.Shape[d-3]
	if len(p.Mean) > 1 && c != len(p.Mean) {
		return 0, 0, fmt.Errorf("%s: %s of shape %v: %d channels, want %d", p.label(), op, t.Shape, c, len(p.Mean))
	}
	if len(t.Data) != tensor.Size(t.Shape) {
		return 0, 0, fmt.Errorf("%s: %s: tensor of shape %v has %d elements", p.label(), op, t.Shape, len(t.Data))
	}
	return c, t.Shape[d-2] * t.Shape[d-1], nil
}

// Normalize applies the normalization of p in place to a tensor of values
// in [0, 1] (ToTensor scale): x = (x - Mean[c]) / Std[c] in float32, for a
// C×H×W or N×C×H×W tensor t. With no Mean/Std it leaves t unchanged.
// Normalize(Invert(x)) gives back x up to float32 rounding.
func (p Preprocess) Normalize(t *tensor.T) error {
	if err := p.Validate(); err != nil {
		return err
	}
	c, plane, err := p.checkLayout(t, "normalize")
	if err != nil || len(p.Mean) == 0 {
		return err
	}
	for i := 0; i < len(t.Data); i += plane {
		mean, std := p.meanStd((i / plane) % c)
		for j, x := range t.Data[i : i+plane] {
			t.Data[i+j] = (x - mean) / std
		}
	}
	return nil
}

// Invert undoes the normalization of p in place: x = x*Std[c] + Mean[c] in
// float32, mapping a tensor returned by Apply back to [0, 1], the scale of
// ToTensor (multiply by 255 for pixel values). The result is not clipped.
// t is C×H×W or N×C×H×W. With no Mean/Std it leaves t unchanged.
func (p Preprocess) Invert(t *tensor.T) error {
	if err := p.Validate(); err != nil {
		return err
	}
	c, plane, err := p.checkLayout(t, "invert")
	if err != nil || len(p.Mean) == 0 {
		return err
	}
	for i := 0; i < len(t.Data); i += plane {
		mean, std := p.meanStd((i / plane) % c)
		for j, x := range t.Data[i : i+plane] {
			// The conversion keeps the product rounded (no fused multiply-add).
			t.Data[i+j] = float32(x*std) + mean
		}
	}
	return nil
}

var (
	registryMu sync.RWMutex
	registry   = map[string]Preprocess{}
)

func init() {
	imagenetMean := []float64{0.485, 0.456, 0.406}
	imagenetStd := []float64{0.229, 0.224, 0.225}
	for _, r := range []struct {
		name string
		p    Preprocess
	}{
		// transforms.Resize((224, 224)), ToTensor(), Normalize(ImageNet).
		{"imagenet", Preprocess{Mode: ResizeExact, Width: 224, Height: 224, Mean: imagenetMean, Std: imagenetStd}},
		// transforms.Resize(256), CenterCrop(224), ToTensor(), Normalize(ImageNet).
		{"imagenet-crop", Preprocess{Mode: ResizeCrop, ResizeShorter: 256, Width: 224, Height: 224, Mean: imagenetMean, Std: imagenetStd}},
		// Grayscale(), Resize((28, 28)), ToTensor(), Normalize((0.1307,), (0.3081,)).
		{"mnist", Preprocess{Mode: ResizeExact, Width: 28, Height: 28, Grayscale: true, Mean: []float64{0.1307}, Std: []float64{0.3081}}},
		// Inputs are tensors already.
		{"none", Preprocess{Mode: None}},
	} {
		if err := Register(r.name, r.p); err != nil {
			panic(err) // the built-in table is wrong
		}
	}
}

// Register adds p to the registry under name, for Lookup. p.Name is set to
// name. It fails if name is empty, contains white space, is already
// registered, or if p is invalid. It is safe for concurrent use.
func Register(name string, p Preprocess) error {
	if name == "" || strings.ContainsAny(name, " \t\r\n") {
		return fmt.Errorf("data: register preprocess %q: name must be non-empty with no white space", name)
	}
	p.Name = name
	p.Mean = append([]float64(nil), p.Mean...)
	p.Std = append([]float64(nil), p.Std...)
	if err := p.Validate(); err != nil {
		return err
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, ok := registry[name]; ok {
		return fmt.Errorf("data: register preprocess %q: name already registered", name)
	}
	registry[name] = p
	return nil
}

// ErrUnknownPreprocess is wrapped by the error Lookup returns for a name
// that is not registered.
var ErrUnknownPreprocess = errors.New("unknown preprocessing")

// Lookup returns the preprocessing registered under name. Built in are:
//
//	imagenet       Resize((224, 224)), ToTensor(),
//	               Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
//	imagenet-crop  Resize(256), CenterCrop(224), ToTensor(), same Normalize
//	mnist          Grayscale(), Resize((28, 28)), ToTensor(),
//	               Normalize(mean=[0.1307], std=[0.3081])
//	none           no change; for .npy tensor inputs only
//
// The returned value is a copy; changing it does not change the registry.
func Lookup(name string) (Preprocess, error) {
	registryMu.RLock()
	p, ok := registry[name]
	registryMu.RUnlock()
	if !ok {
		return Preprocess{}, fmt.Errorf("data: preprocess %q: %w (known: %s)", name, ErrUnknownPreprocess, strings.Join(Names(), ", "))
	}
	p.Mean = append([]float64(nil), p.Mean...)
	p.Std = append([]float64(nil), p.Std...)
	return p, nil
}

// DefaultNormalization returns the preprocessing assumed to have
// normalized an already-preprocessed input (a .npy tensor) of the given
// number of channels when none is named: imagenet for 3 channels, mnist
// for 1. Its Mean and Std give the normalized images of 0 and 1 (box-rule
// bounds, inpainting). Other channel counts have no default and give an
// error asking for a name.
func DefaultNormalization(channels int) (Preprocess, error) {
	switch channels {
	case 3:
		return Lookup("imagenet")
	case 1:
		return Lookup("mnist")
	}
	return Preprocess{}, fmt.Errorf("data: no default normalization for %d-channel input (imagenet is assumed for 3 channels, mnist for 1); name one (known: %s)", channels, strings.Join(Names(), ", "))
}

// Names returns the registered preprocessing names, sorted.
func Names() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// MeanStd returns the normalization of p for an input of the given number
// of channels, one mean and one standard deviation per channel:
//
//	mean[c], std[c] = Mean[c], Std[c]   with one value per channel,
//	mean[c], std[c] = Mean[0], Std[0]   with one value for all channels,
//	mean[c], std[c] = 0, 1              with none.
//
// Code that works on pixel values (inpainting, drawing the input) undoes
// the normalization with them: v = x·std[c] + mean[c]. It fails if p
// normalizes another number of channels.
func (p Preprocess) MeanStd(channels int) (mean, std []float64, err error) {
	if channels < 1 {
		return nil, nil, fmt.Errorf("%s: %d channels", p.label(), channels)
	}
	if len(p.Mean) > 1 && len(p.Mean) != channels {
		return nil, nil, fmt.Errorf("%s: normalizes %d channels, the input has %d", p.label(), len(p.Mean), channels)
	}
	if len(p.Std) != len(p.Mean) {
		return nil, nil, fmt.Errorf("%s: %d Mean values but %d Std values", p.label(), len(p.Mean), len(p.Std))
	}
	mean, std = make([]float64, channels), make([]float64, channels)
	for c := range mean {
		mean[c], std[c] = p.channelMeanStd(c)
	}
	return mean, std, nil
}

// Bounds returns the images under p of the pixel values 0 and 1 (black and
// white at ToTensor scale), the smallest and largest input values p can
// produce, as the box rule (z^B) wants its bounds: per channel c,
//
//	low[c]  = (0 − Mean[c]) / Std[c],
//	high[c] = (1 − Mean[c]) / Std[c],
//
// computed in float32 as Normalize does. For an input shape N×C×H×W (or
// C×H×W) both are C×H×W tensors, one sample's bounds.
func (p Preprocess) Bounds(shape []int) (low, high *tensor.T, err error) {
	d := len(shape)
	if d != 3 && d != 4 {
		return nil, nil, fmt.Errorf("%s: bounds need an N×C×H×W or C×H×W shape, have %v", p.label(), shape)
	}
	sample := shape[d-3:]
	for _, n := range sample {
		if n < 1 || n > maxSide {
			return nil, nil, fmt.Errorf("%s: bounds of shape %v: sizes must be within 1..%d", p.label(), shape, maxSide)
		}
	}
	var out [2]*tensor.T
	for i, pixel := range []float32{0, 1} {
		t := tensor.New(sample...)
		for j := range t.Data {
			t.Data[j] = pixel
		}
		if err := p.Normalize(t); err != nil {
			return nil, nil, err
		}
		out[i] = t
	}
	return out[0], out[1], nil
}
