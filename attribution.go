package lrp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// Attributor computes an attribution (relevance) for a batch of inputs.
// LRP's Explainer and the baselines below implement it, so evaluation can
// compare them.
type Attributor interface {
	Attribute(x *tensor.T, targets []int) (*Result, error)
}

// Attribute implements Attributor with default options.
func (e *Explainer) Attribute(x *tensor.T, targets []int) (*Result, error) {
	return e.Explain(x, Options{Targets: targets})
}

// AttributeInBatches calls a.Attribute on consecutive slices of at most
// size samples of x (N×…) and joins their results, so that the memory an
// attribution needs is bounded by size rather than by N. Targets are nil
// (each sample's highest logit), one class for all samples, or one per
// sample. Result.Values is not joined.
func AttributeInBatches(a Attributor, x *tensor.T, targets []int, size int) (*Result, error) {
	if size < 1 {
		return nil, fmt.Errorf("lrp: batch size %d: must be at least 1", size)
	}
	if x.Dims() == 0 {
		return nil, fmt.Errorf("lrp: input %s has no batch dimension", tensor.ShapeString(x.Shape))
	}
	if err := tensor.CheckFinite(x); err != nil {
		return nil, fmt.Errorf("lrp: input %w", err)
	}
	n := x.Shape[0]
	if n <= size {
		return a.Attribute(x, targets)
	}
	if len(targets) > 1 && len(targets) != n {
		return nil, fmt.Errorf("lrp: %d targets for %d inputs", len(targets), n)
	}
	per := x.Len() / n
	var out *Result
	for lo := 0; lo < n; lo += size {
		hi := min(lo+size, n)
		part := &tensor.T{Shape: append([]int{hi - lo}, x.Shape[1:]...), Data: x.Data[lo*per : hi*per]}
		t := targets
		if len(targets) > 1 {
			t = targets[lo:hi]
		}
		res, err := a.Attribute(part, t)
		if err != nil {
			// Errors of this package carry their "lrp: " prefix already.
			if !strings.HasPrefix(err.Error(), "lrp: ") {
				err = fmt.Errorf("lrp: %w", err)
			}
			return nil, fmt.Errorf("%w (samples %d to %d)", err, lo, hi-1)
		}
		if out == nil {
			out = &Result{
				Logits:    tensor.New(append([]int{n}, res.Logits.Shape[1:]...)...),
				Relevance: tensor.New(append([]int{n}, res.Relevance.Shape[1:]...)...),
			}
		}
		for _, c := range [][2]*tensor.T{{out.Logits, res.Logits}, {out.Relevance, res.Relevance}} {
			k := c[0].Len() / n
			if c[1].Len() != (hi-lo)*k {
				return nil, fmt.Errorf("lrp: samples %d to %d: result %s does not fit %s", lo, hi-1, tensor.ShapeString(c[1].Shape), tensor.ShapeString(c[0].Shape))
			}
			copy(c[0].Data[lo*k:], c[1].Data)
		}
		out.Targets = append(out.Targets, res.Targets...)
	}
	return out, nil
}

// gradient returns the logits and ∂logit_target/∂x.
func gradient(g *nn.Graph, x *tensor.T, targets []int) (*tensor.T, []int, *tensor.T, error) {
	if err := g.CheckInput(x.Shape); err != nil {
		return nil, nil, nil, fmt.Errorf("lrp: %w", err)
	}
	if err := tensor.CheckFinite(x); err != nil {
		return nil, nil, nil, fmt.Errorf("lrp: input %w", err)
	}
	out := g.LogitsValue()
	vals := g.Forward(x)
	t, err := resolveTargets(vals[out], targets)
	if err != nil {
		return nil, nil, nil, err
	}
	gx := g.Backward(vals, out, oneHot(vals[out], t, false))[0]
	if gx == nil {
		gx = tensor.New(x.Shape...)
	}
	return vals[out], t, gx, nil
}

// Gradient attributes ∂logit_target/∂x (sensitivity).
type Gradient struct {
	Graph *nn.Graph
	// TimesInput multiplies the gradient by the input (Gradient×Input).
	TimesInput bool
}

// Attribute implements Attributor.
func (a *Gradient) Attribute(x *tensor.T, targets []int) (*Result, error) {
	logits, t, gx, err := gradient(a.Graph, x, targets)
	if err != nil {
		return nil, err
	}
	if a.TimesInput {
		gx = mulAdd(nil, x, gx, 1)
	}
	return &Result{Logits: logits, Targets: t, Relevance: gx}, nil
}

// SmoothGrad averages the gradient over noisy copies of the input,
//
//	R = (1/n) Σ_k ∇ logit_t(x + ε_k),  ε_k ~ N(0, σ²),  σ = Level·(max x − min x) per sample,
//
// and, as Zennit does, evaluates the last of the n samples without noise.
// Noise, if set (n×N×…), replaces the random draws.
type SmoothGrad struct {
	Graph   *nn.Graph
	Samples int     // n (default 20)
	Level   float64 // noise level (default 0.1)
	Seed    uint64  // the noise depends on Seed and the sample, not the batch
	Noise   *tensor.T
}

// Attribute implements Attributor.
func (a *SmoothGrad) Attribute(x *tensor.T, targets []int) (*Result, error) {
	if err := a.Graph.CheckInput(x.Shape); err != nil {
		return nil, fmt.Errorf("lrp: %w", err)
	}
	n := a.Samples
	if a.Noise != nil {
		n = a.Noise.Shape[0]
		if a.Noise.Len() != n*x.Len() {
			return nil, fmt.Errorf("lrp: smoothgrad noise of shape %s does not fit input %s", tensor.ShapeString(a.Noise.Shape), tensor.ShapeString(x.Shape))
		}
	}
	if n <= 0 {
		n = 20
	}
	level := a.Level
	if level == 0 {
		level = 0.1
	}
	per := x.Len() / x.Shape[0]
	rngs := make([]*rand.Rand, x.Shape[0])
	for s := range rngs {
		rngs[s] = sampleRand(a.Seed, 0x5300d6, x.Data[s*per:(s+1)*per])
	}
	sum := tensor.New(x.Shape...)
	var res *Result
	for k := 0; k < n; k++ {
		xk := x.Clone()
		switch {
		case a.Noise != nil:
			noise := a.Noise.Data[k*x.Len() : (k+1)*x.Len()]
			for i := range xk.Data {
				xk.Data[i] += noise[i]
			}
		case k < n-1:
			for s := 0; s < x.Shape[0]; s++ {
				lo, hi := minMax(x.Data[s*per : (s+1)*per])
				sigma := level * float64(hi-lo)
				for i := s * per; i < (s+1)*per; i++ {
					xk.Data[i] += float32(rngs[s].NormFloat64() * sigma)
				}
			}
		}
		logits, t, gx, err := gradient(a.Graph, xk, targets)
		if err != nil {
			return nil, err
		}
		if res == nil {
			res = &Result{Logits: logits, Targets: t}
			targets = t
		}
		addTo(sum, gx)
	}
	for i := range sum.Data {
		sum.Data[i] /= float32(n)
	}
	res.Relevance = sum
	return res, nil
}

func minMax(v []float32) (lo, hi float32) {
	lo, hi = v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}

// IntegratedGradients integrates the gradient along the straight path from
// a baseline b (zeros if nil) to x with the right Riemann sum,
//
//	R = (x − b) ⊙ (1/n) Σ_{k=1..n} ∇ logit_t(b + (k/n)(x − b)).
type IntegratedGradients struct {
	Graph    *nn.Graph
	Steps    int // n (default 32)
	Baseline *tensor.T
}

// Attribute implements Attributor.
func (a *IntegratedGradients) Attribute(x *tensor.T, targets []int) (*Result, error) {
	n := a.Steps
	if n <= 0 {
		n = 32
	}
	base := a.Baseline
	if base == nil {
		base = tensor.New(x.Shape...)
	} else if !tensor.SameShape(base.Shape, x.Shape) {
		return nil, fmt.Errorf("lrp: integrated-gradients baseline of shape %s does not fit input %s", tensor.ShapeString(base.Shape), tensor.ShapeString(x.Shape))
	}
	logits, t, _, err := gradient(a.Graph, x, targets)
	if err != nil {
		return nil, err
	}
	sum := tensor.New(x.Shape...)
	for k := 1; k <= n; k++ {
		xk := tensor.New(x.Shape...)
		f := float32(k) / float32(n)
		for i := range xk.Data {
			xk.Data[i] = base.Data[i] + f*(x.Data[i]-base.Data[i])
		}
		_, _, gx, err := gradient(a.Graph, xk, t)
		if err != nil {
			return nil, err
		}
		addTo(sum, gx)
	}
	for i := range sum.Data {
		sum.Data[i] *= (x.Data[i] - base.Data[i]) / float32(n)
	}
	return &Result{Logits: logits, Targets: t, Relevance: sum}, nil
}

// Occlusion slides a window over the image, fills it with Fill in every
// channel, and credits every element of the window with the drop of the
// target logit: R += mask · (logit_t(x) − logit_t(x occluded)).
type Occlusion struct {
	Graph          *nn.Graph
	Window, Stride [2]int
	Fill           float32
}

// Attribute implements Attributor.
func (a *Occlusion) Attribute(x *tensor.T, targets []int) (*Result, error) {
	if x.Dims() != 4 {
		return nil, fmt.Errorf("lrp: occlusion needs N×C×H×W input, got %s", tensor.ShapeString(x.Shape))
	}
	if a.Window[0] < 1 || a.Window[1] < 1 || a.Stride[0] < 1 || a.Stride[1] < 1 {
		return nil, fmt.Errorf("lrp: occlusion window %v and stride %v must be positive", a.Window, a.Stride)
	}
	if err := a.Graph.CheckInput(x.Shape); err != nil {
		return nil, fmt.Errorf("lrp: %w", err)
	}
	out := a.Graph.LogitsValue()
	logits := a.Graph.RunTo(x, out)
	t, err := resolveTargets(logits, targets)
	if err != nil {
		return nil, err
	}
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	classes := logits.Len() / n
	r := tensor.New(x.Shape...)
	for i := 0; i < h; i += a.Stride[0] {
		for j := 0; j < w; j += a.Stride[1] {
			xo := x.Clone()
			each := func(fn func(idx int)) {
				for s := 0; s < n*c; s++ {
					for y := i; y < min(i+a.Window[0], h); y++ {
						for xx := j; xx < min(j+a.Window[1], w); xx++ {
							fn(s*h*w + y*w + xx)
						}
					}
				}
			}
			each(func(idx int) { xo.Data[idx] = a.Fill })
			occ := a.Graph.RunTo(xo, out)
			each(func(idx int) {
				s := idx / (c * h * w)
				r.Data[idx] += logits.Data[s*classes+t[s]] - occ.Data[s*classes+t[s]]
			})
		}
	}
	return &Result{Logits: logits, Targets: t, Relevance: r}, nil
}

// Random attributes uniform random values in [0, 1): the baseline every
// explanation method should beat. The values depend on Seed and on the
// sample, not on the batch it is in.
type Random struct {
	Graph *nn.Graph
	Seed  uint64
}

// Attribute implements Attributor.
func (a *Random) Attribute(x *tensor.T, targets []int) (*Result, error) {
	if err := a.Graph.CheckInput(x.Shape); err != nil {
		return nil, fmt.Errorf("lrp: %w", err)
	}
	logits := a.Graph.RunTo(x, a.Graph.LogitsValue())
	t, err := resolveTargets(logits, targets)
	if err != nil {
		return nil, err
	}
	r := tensor.New(x.Shape...)
	per := x.Len() / x.Shape[0]
	for s := 0; s < x.Shape[0]; s++ {
		rng := sampleRand(a.Seed, 0x7a4d0, x.Data[s*per:(s+1)*per])
		for i := s * per; i < (s+1)*per; i++ {
			r.Data[i] = rng.Float32()
		}
	}
	return &Result{Logits: logits, Targets: t, Relevance: r}, nil
}

// sampleRand returns the random generator of one sample: seeded by seed,
// the method's stream and a hash (FNV-1a) of the sample's values, so that
// a sample draws the same numbers whatever batch and position it is
// explained in, and different samples draw different ones.
func sampleRand(seed, stream uint64, sample []float32) *rand.Rand {
	h := uint64(14695981039346656037)
	for _, v := range sample {
		h = (h ^ uint64(math.Float32bits(v))) * 1099511628211
	}
	return rand.New(rand.NewPCG(seed, stream^h))
}
