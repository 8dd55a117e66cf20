package lrp

import (
	"fmt"
	"math"
	"sync"

	"github.com/xai-go/lrp/internal/kernels"
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// Stabilizer is the default ε of stab(z) = z + ((z == 0) + sign(z))·ε, used
// wherever a rule divides by a pre-activation.
const Stabilizer = 1e-6

// Rule maps the relevance R at the output of an affine layer (Conv2d,
// Linear, average pooling) to relevance at its input x. All rules follow
// the generic form
//
//	R_j = Σ_k x'_j ρ(w_jk) / stab(Σ_j x'_j ρ(w_jk) + ρ(b_k)) · R_k
//
// with their own input modifier x' and parameter modifier ρ, and may add
// several such terms (Zennit's BasicHook).
type Rule interface {
	// Relevance returns the input relevance for layer l, input x, output
	// y = l(x) (with l's own parameters) and output relevance r. The
	// Explainer passes y = nil to the built-in rules that do not read it
	// (ZBox then computes l(x) itself); other rules always get y.
	Relevance(l nn.Affine, x, y, r *tensor.T, c *ParamCache) *tensor.T
	// String returns the rule in spec syntax, e.g. "gamma(0.25)".
	String() string
}

// consumer is implemented by the built-in rules: relevance is Relevance
// for a caller that gives up y and r. The rule passes each of them to done
// (when done is not nil) as soon as it has no more use for it, so that
// their memory can serve the rule's own results: an explanation's peak
// memory comes at the first, largest layers, where y and r are among the
// largest tensors alive.
type consumer interface {
	relevance(l nn.Affine, x, y, r *tensor.T, c *ParamCache, done func(*tensor.T)) *tensor.T
}

// giveUp passes each of ts to done, if done is not nil.
func giveUp(done func(*tensor.T), ts ...*tensor.T) {
	if done == nil {
		return
	}
	for _, t := range ts {
		if t != nil {
			done(t)
		}
	}
}

// stab returns z + ((z == 0) + sign(z))·eps element-wise, in place.
func stab(z *tensor.T, eps float32) *tensor.T {
	for i, v := range z.Data {
		if v >= 0 {
			z.Data[i] = v + eps
		} else {
			z.Data[i] = v - eps
		}
	}
	return z
}

// divInto sets s = r / z element-wise.
func div(r, z *tensor.T) *tensor.T {
	s := tensor.Empty(r.Shape...)
	each(len(s.Data), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			s.Data[i] = r.Data[i] / z.Data[i]
		}
	})
	return s
}

// mulAdd adds a ⊙ b to dst (dst may be nil: then it is allocated).
func mulAdd(dst, a, b *tensor.T, scale float32) *tensor.T {
	if dst == nil {
		dst = tensor.New(a.Shape...)
	}
	each(len(dst.Data), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dst.Data[i] += scale * a.Data[i] * b.Data[i]
		}
	})
	return dst
}

func clampPos(x *tensor.T) *tensor.T {
	y := tensor.New(x.Shape...)
	for i, v := range x.Data {
		if v > 0 {
			y.Data[i] = v
		}
	}
	return y
}

func clampNeg(x *tensor.T) *tensor.T {
	y := tensor.New(x.Shape...)
	for i, v := range x.Data {
		if v < 0 {
			y.Data[i] = v
		}
	}
	return y
}

func anyNegative(x *tensor.T) bool {
	for _, v := range x.Data {
		if v < 0 {
			return true
		}
	}
	return false
}

// ParamCache keeps modified parameters per (layer, modifier), so that a
// rule computes ρ(W) once, not once per call. It is safe for concurrent use.
type ParamCache struct {
	m sync.Map // paramKey → [2]*tensor.T
}

type paramKey struct {
	layer nn.Affine
	mod   string
}

// params returns ρ(W), ρ(b) for the named modifier, computing and caching
// them on first use. Either may be nil (no bias, or a parameter-free layer).
func (c *ParamCache) params(l nn.Affine, mod string, rho func(v float32) float32, zeroBias bool) (w, b *tensor.T) {
	key := paramKey{l, fmt.Sprintf("%s/%t", mod, zeroBias)}
	if c != nil {
		if v, ok := c.m.Load(key); ok {
			p := v.([2]*tensor.T)
			return p[0], p[1]
		}
	}
	w0, b0 := l.Params()
	if mod == "id" {
		// The identity needs no copy: parameters are only read.
		w, b = w0, b0
	} else {
		w, b = mapT(w0, rho), mapT(b0, rho)
	}
	if zeroBias {
		b = nil
	}
	if c != nil {
		c.m.Store(key, [2]*tensor.T{w, b})
	}
	return w, b
}

func mapT(t *tensor.T, f func(float32) float32) *tensor.T {
	if t == nil {
		return nil
	}
	out := tensor.New(t.Shape...)
	for i, v := range t.Data {
		out.Data[i] = f(v)
	}
	return out
}

func identity(v float32) float32 { return v }
func positive(v float32) float32 { return max(v, 0) }
func negative(v float32) float32 { return min(v, 0) }

// jt computes Jᵀ s, the input gradient of x ↦ l(x; w) (bias irrelevant).
func jt(l nn.Affine, w, s *tensor.T, x *tensor.T) *tensor.T {
	return l.BackwardWith(s, w, x.Shape)
}

// jtc is jt for a weight w from c: a convolution's transposed weight is
// then computed once and cached with it.
func jtc(l nn.Affine, w, s *tensor.T, x *tensor.T, c *ParamCache) *tensor.T {
	if conv, ok := l.(*nn.Conv2d); ok && c != nil && w != nil {
		return conv.BackwardWithTransposed(s, w, c.transposed(conv, w), x.Shape)
	}
	return l.BackwardWith(s, w, x.Shape)
}

// transposed returns conv.TransposedWeight(w), cached by w (a weight from
// params or stacked, which nothing modifies).
func (c *ParamCache) transposed(conv *nn.Conv2d, w *tensor.T) *tensor.T {
	key := transposedKey{conv, w}
	if v, ok := c.m.Load(key); ok {
		return v.(*tensor.T)
	}
	wt := conv.TransposedWeight(w)
	c.m.Store(key, wt)
	return wt
}

type transposedKey struct {
	layer nn.Affine
	w     *tensor.T
}

// stacked returns [ρa(W); ρb(W)] and [ρa(b); ρb(b)], the two modified
// parameters stacked along the output channels (dimension 0), computing
// and caching them on first use; the bias is nil with zeroBias or if the
// layer has none.
func (c *ParamCache) stacked(l nn.Affine, mod string, rhoA, rhoB func(v float32) float32, zeroBias bool) (w, b *tensor.T) {
	key := paramKey{l, fmt.Sprintf("stacked/%s/%t", mod, zeroBias)}
	if c != nil {
		if v, ok := c.m.Load(key); ok {
			p := v.([2]*tensor.T)
			return p[0], p[1]
		}
	}
	w0, b0 := l.Params()
	w, b = stackMap(w0, rhoA, rhoB), stackMap(b0, rhoA, rhoB)
	if zeroBias {
		b = nil
	}
	if c != nil {
		c.m.Store(key, [2]*tensor.T{w, b})
	}
	return w, b
}

// stackMap returns [f(t); g(t)] stacked along dimension 0.
func stackMap(t *tensor.T, f, g func(float32) float32) *tensor.T {
	if t == nil {
		return nil
	}
	shape := append([]int{2 * t.Shape[0]}, t.Shape[1:]...)
	out := tensor.New(shape...)
	n := t.Len()
	for i, v := range t.Data {
		out.Data[i] = f(v)
		out.Data[n+i] = g(v)
	}
	return out
}

// stackable reports whether the rules may run l on input x with weights
// stacked along the output channels. The stacked form lays out [z⁺; z⁻]
// per sample, which a Linear layer on tokens (inputs of rank 3 and more)
// does not.
func stackable(l nn.Affine, x *tensor.T) bool {
	switch l := l.(type) {
	case *nn.Conv2d:
		return l.Groups <= 1
	case *nn.Linear:
		return x.Dims() <= 2
	}
	return false
}

// ratio returns r / stab_eps(z) element-wise (z is not modified).
func ratio(r, z *tensor.T, eps float32) *tensor.T {
	s := tensor.Empty(r.Shape...)
	each(len(s.Data), func(lo, hi int) {
		kernels.StabDiv(s.Data[lo:hi], r.Data[lo:hi], z.Data[lo:hi], eps)
	})
	return s
}

// mulInto sets g = x ⊙ g and returns g.
func mulInto(g, x *tensor.T) *tensor.T { return mulScaleInto(g, x, 1) }

// mulScaleInto sets g = c·x ⊙ g and returns g.
func mulScaleInto(g, x *tensor.T, c float32) *tensor.T {
	each(len(x.Data), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			g.Data[i] *= c * x.Data[i]
		}
	})
	return g
}

// each runs the element-wise loop fn over [0, n) in parallel ranges.
func each(n int, fn func(lo, hi int)) { nn.ParallelFor(n, 1<<15, fn) }

// spec holds a rule's canonical spec text, returned by String.
type spec string

func (s spec) String() string { return string(s) }

// Epsilon is LRP-ε (LRP-0 is Epsilon with Eps = Stabilizer):
//
//	R_j = x_j Σ_k w_jk R_k / stab_ε(z_k),  z_k = Σ_j x_j w_jk + b_k,
//
// with the sign-aware stab_ε(z) = z + ((z == 0) + sign(z))·ε. With Additive
// (the thesis code's convention) z_k + ε is divided by stab_1e-6(z_k + ε).
type Epsilon struct {
	spec
	Eps      float32
	ZeroBias bool
	Additive bool
}

// Relevance implements Rule.
func (r *Epsilon) Relevance(l nn.Affine, x, y, rel *tensor.T, c *ParamCache) *tensor.T {
	return r.relevance(l, x, y, rel, c, nil)
}

func (r *Epsilon) relevance(l nn.Affine, x, y, rel *tensor.T, c *ParamCache, done func(*tensor.T)) *tensor.T {
	w, b := c.params(l, "id", identity, r.ZeroBias)
	z := y
	if r.ZeroBias {
		z = l.ForwardWith(x, w, b)
	}
	var s *tensor.T
	if r.Additive {
		if !r.ZeroBias {
			z = z.Clone()
		}
		for i := range z.Data {
			z.Data[i] += r.Eps
		}
		s = ratio(rel, z, Stabilizer)
	} else {
		s = ratio(rel, z, r.Eps)
	}
	if z != y {
		tensor.Recycle(z)
	}
	giveUp(done, y, rel)
	out := mulInto(jtc(l, w, s, x, c), x)
	tensor.Recycle(s)
	return out
}

// Gamma is LRP-γ in the generalized form of Andéol et al. (2021), as
// Zennit implements it: with x⁺ = max(x,0), x⁻ = min(x,0),
// ρ⁺(w) = w + γ·max(w,0), ρ⁻(w) = w + γ·min(w,0) (biases likewise),
//
//	z⁺ = ρ⁺(W)x⁺ + ρ⁻(W)x⁻ + ρ⁺(b),   z⁻ = ρ⁻(W)x⁺ + ρ⁺(W)x⁻ + ρ⁻(b),
//	s⁺ = [z > 0]·R / stab(z⁺),          s⁻ = [z < 0]·R / stab(z⁻),
//	R_in = x⁺⊙(ρ⁺ᵀs⁺ + ρ⁻ᵀs⁻) + x⁻⊙(ρ⁻ᵀs⁺ + ρ⁺ᵀs⁻),
//
// where z = Wx + b is the layer's own output. For x ≥ 0 and z > 0 this is
// the classic R_j = x_j Σ_k ρ⁺(w_jk) R_k / stab(Σ_j x_j ρ⁺(w_jk) + ρ⁺(b_k)).
// With Classic (the thesis code's convention) that classic formula is used
// for every input and output.
type Gamma struct {
	spec
	Gamma    float32
	ZeroBias bool
	Classic  bool
}

// Relevance implements Rule.
func (r *Gamma) Relevance(l nn.Affine, x, y, rel *tensor.T, c *ParamCache) *tensor.T {
	return r.relevance(l, x, y, rel, c, nil)
}

func (r *Gamma) relevance(l nn.Affine, x, y, rel *tensor.T, c *ParamCache, done func(*tensor.T)) *tensor.T {
	g := r.Gamma
	key := "gamma" + fmtFloat(g)
	rhoP := func(v float32) float32 { return v + g*max(v, 0) }
	rhoN := func(v float32) float32 { return v + g*min(v, 0) }
	if r.Classic {
		wp, bp := c.params(l, key+"+", rhoP, r.ZeroBias)
		z := l.ForwardWith(x, wp, bp)
		s := ratio(rel, z, Stabilizer)
		tensor.Recycle(z)
		giveUp(done, y, rel)
		out := mulInto(jtc(l, wp, s, x, c), x)
		tensor.Recycle(s)
		return out
	}
	hasNeg := anyNegative(x)
	if !hasNeg && zeroWhereNegative(y, rel) {
		// s⁻ = 0: R_in = x⊙ρ⁺ᵀs⁺, and z⁻ is not needed. This is the common
		// case of a layer followed by a ReLU whose output the next rule
		// multiplies by its input, so that R = 0 wherever y < 0.
		wp, bp := c.params(l, key+"+", rhoP, r.ZeroBias)
		z := l.ForwardWith(x, wp, bp)
		for i, v := range y.Data {
			q := math.Float32bits(rel.Data[i] / stabOne(z.Data[i]))
			z.Data[i] = math.Float32frombits(q & posMask(v))
		}
		giveUp(done, y, rel)
		out := mulInto(jtc(l, wp, z, x, c), x)
		tensor.Recycle(z)
		return out
	}
	if stackable(l, x) {
		return r.stacked(l, x, y, rel, c, key, rhoP, rhoN, hasNeg, done)
	}
	wp, bp := c.params(l, key+"+", rhoP, r.ZeroBias)
	wn, bn := c.params(l, key+"-", rhoN, r.ZeroBias)
	xp, xn := x, (*tensor.T)(nil)
	if hasNeg {
		xp, xn = clampPos(x), clampNeg(x)
	}
	zp := l.ForwardWith(xp, wp, bp)
	zn := l.ForwardWith(xp, wn, bn)
	if hasNeg {
		addTo(zp, l.ForwardWith(xn, wn, nil))
		addTo(zn, l.ForwardWith(xn, wp, nil))
	}
	stab(zp, Stabilizer)
	stab(zn, Stabilizer)
	sp, sn := tensor.New(rel.Shape...), tensor.New(rel.Shape...)
	for i, v := range y.Data {
		switch {
		case v > 0:
			sp.Data[i] = rel.Data[i] / zp.Data[i]
		case v < 0:
			sn.Data[i] = rel.Data[i] / zn.Data[i]
		}
	}
	tensor.Recycle(zp)
	tensor.Recycle(zn)
	giveUp(done, y, rel)
	// x⁺⊙(ρ⁺ᵀs⁺ + ρ⁻ᵀs⁻) + x⁻⊙(ρ⁻ᵀs⁺ + ρ⁺ᵀs⁻)
	var out *tensor.T
	term := func(xa, w, s *tensor.T) {
		g := jtc(l, w, s, x, c)
		out = mulAdd(out, xa, g, 1)
		tensor.Recycle(g)
	}
	term(xp, wp, sp)
	term(xp, wn, sn)
	if hasNeg {
		term(xn, wn, sp)
		term(xn, wp, sn)
		tensor.Recycle(xp)
		tensor.Recycle(xn)
	}
	tensor.Recycle(sp)
	tensor.Recycle(sn)
	return out
}

// stacked computes the generalized γ rule with ρ⁺ and ρ⁻ stacked along the
// output channels, P = [ρ⁺; ρ⁻] and its swap Q = [ρ⁻; ρ⁺], so that one pass
// gives both pre-activations and one transposed pass both gradients:
//
//	[z⁺; z⁻] = P x⁺ + Q x⁻ + [ρ⁺(b); ρ⁻(b)],
//	R_in = x⁺⊙Pᵀ[s⁺; s⁻] + x⁻⊙Qᵀ[s⁺; s⁻].
func (r *Gamma) stacked(l nn.Affine, x, y, rel *tensor.T, c *ParamCache, key string, rhoP, rhoN func(float32) float32, hasNeg bool, done func(*tensor.T)) *tensor.T {
	wpn, bpn := c.stacked(l, key+"+-", rhoP, rhoN, r.ZeroBias)
	var z *tensor.T
	var wnp *tensor.T
	if hasNeg {
		wnp, _ = c.stacked(l, key+"-+", rhoN, rhoP, true)
		z = l.ForwardWith(clampPos(x), wpn, bpn)
		addTo(z, l.ForwardWith(clampNeg(x), wnp, nil))
	} else {
		z = l.ForwardWith(x, wpn, bpn)
	}
	// z becomes s = [s⁺; s⁻] in place, per sample: s⁺ = [y > 0]·R/stab(z⁺),
	// s⁻ = [y < 0]·R/stab(z⁻).
	per := rel.Len() / rel.Shape[0]
	for n := 0; n < rel.Shape[0]; n++ {
		zp := z.Data[2*n*per : (2*n+1)*per]
		zn := z.Data[(2*n+1)*per : (2*n+2)*per]
		rn := rel.Data[n*per : (n+1)*per]
		for i, v := range y.Data[n*per : (n+1)*per] {
			// Without branches on the sign of y, which is random.
			pos, neg := posMask(v), negMask(v)
			zs := math.Float32frombits(math.Float32bits(zp[i])&pos | math.Float32bits(zn[i])&^pos)
			q := math.Float32bits(rn[i] / stabOne(zs))
			zp[i], zn[i] = math.Float32frombits(q&pos), math.Float32frombits(q&neg)
		}
	}
	giveUp(done, y, rel)
	out := jtc(l, wpn, z, x, c)
	if !hasNeg {
		tensor.Recycle(z)
		return mulInto(out, x)
	}
	outN := jtc(l, wnp, z, x, c)
	tensor.Recycle(z)
	defer tensor.Recycle(outN)
	for i, v := range x.Data {
		if v > 0 {
			out.Data[i] *= v
		} else if v < 0 {
			out.Data[i] = v * outN.Data[i]
		} else {
			out.Data[i] = 0
		}
	}
	return out
}

// posMask returns all ones if v > 0, else 0 (also for NaN).
func posMask(v float32) uint32 {
	var m uint32
	if math.Float32bits(v)-1 < 0x7f800000 { // bits in [1, bits(+Inf)]
		m = ^uint32(0)
	}
	return m
}

// negMask returns all ones if v < 0, else 0 (also for NaN).
func negMask(v float32) uint32 {
	var m uint32
	if math.Float32bits(v)-0x80000001 < 0x7f800000 { // bits in [bits(−min), bits(−Inf)]
		m = ^uint32(0)
	}
	return m
}

// zeroWhereNegative reports whether r is 0 wherever y < 0.
func zeroWhereNegative(y, r *tensor.T) bool {
	var acc uint32
	for i, v := range y.Data {
		// bits of r without the sign, where y < 0
		acc |= math.Float32bits(r.Data[i]) & negMask(v) &^ (1 << 31)
	}
	return acc == 0
}

// stabOne is stab for one value with the default Stabilizer.
func stabOne(v float32) float32 {
	if v >= 0 {
		return v + Stabilizer
	}
	return v - Stabilizer
}

func addTo(dst, src *tensor.T) {
	each(len(src.Data), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dst.Data[i] += src.Data[i]
		}
	})
}

// AlphaBeta is the α-β rule (α − β = 1), as Zennit implements it: with
// positive and negative parts of inputs and weights,
//
//	z⁺ = W⁺x⁺ + W⁻x⁻ + b⁺,   z⁻ = W⁻x⁺ + W⁺x⁻ + b⁻,
//	R_in = α·(x⁺⊙W⁺ᵀ + x⁻⊙W⁻ᵀ)(R/stab(z⁺)) − β·(x⁺⊙W⁻ᵀ + x⁻⊙W⁺ᵀ)(R/stab(z⁻)).
//
// z⁺ (ZPlus) is α = 1, β = 0.
type AlphaBeta struct {
	spec
	Alpha, Beta float32
	ZeroBias    bool
}

// Relevance implements Rule.
func (r *AlphaBeta) Relevance(l nn.Affine, x, y, rel *tensor.T, c *ParamCache) *tensor.T {
	return r.relevance(l, x, y, rel, c, nil)
}

func (r *AlphaBeta) relevance(l nn.Affine, x, y, rel *tensor.T, c *ParamCache, done func(*tensor.T)) *tensor.T {
	wp, bp := c.params(l, "pos", positive, r.ZeroBias)
	wn, bn := c.params(l, "neg", negative, r.ZeroBias)
	hasNeg := anyNegative(x)
	xp, xn := x, (*tensor.T)(nil)
	if hasNeg {
		xp, xn = clampPos(x), clampNeg(x)
	}
	giveUp(done, y) // not needed
	term := func(wa, wb, bias *tensor.T, scale float32, out *tensor.T, last bool) *tensor.T {
		z := l.ForwardWith(xp, wa, bias)
		if hasNeg {
			zn := l.ForwardWith(xn, wb, nil)
			addTo(z, zn)
			tensor.Recycle(zn)
		}
		s := div(rel, stab(z, Stabilizer))
		tensor.Recycle(z)
		if last {
			giveUp(done, rel)
		}
		g := jtc(l, wa, s, x, c)
		out = mulAdd(out, xp, g, scale)
		tensor.Recycle(g)
		if hasNeg {
			g = jtc(l, wb, s, x, c)
			mulAdd(out, xn, g, scale)
			tensor.Recycle(g)
		}
		tensor.Recycle(s)
		return out
	}
	out := term(wp, wn, bp, r.Alpha, nil, r.Beta == 0)
	if r.Beta != 0 {
		term(wn, wp, bn, -r.Beta, out, true)
	}
	if hasNeg {
		tensor.Recycle(xp)
		tensor.Recycle(xn)
	}
	return out
}

// ZBox is the z^B (box) rule for inputs bounded by Low ≤ x ≤ High:
//
//	z = Wx + b − (W⁺·Low + b⁺) − (W⁻·High + b⁻),   s = R / stab(z),
//	R_in = x⊙Wᵀs − Low⊙W⁺ᵀs − High⊙W⁻ᵀs.
//
// Low and High hold one sample's bounds (C×H×W, or one value broadcast to
// every pixel) and apply to each sample of the batch.
type ZBox struct {
	spec
	Low, High *tensor.T
	ZeroBias  bool
}

// bound expands a bound to x's shape.
func bound(b *tensor.T, x *tensor.T) (*tensor.T, error) {
	out := tensor.New(x.Shape...)
	per := x.Len() / x.Shape[0]
	switch b.Len() {
	case 1:
		for i := range out.Data {
			out.Data[i] = b.Data[0]
		}
	case per:
		for n := 0; n < x.Shape[0]; n++ {
			copy(out.Data[n*per:], b.Data)
		}
	case x.Len():
		copy(out.Data, b.Data)
	default:
		return nil, fmt.Errorf("zbox bound of shape %s does not fit input %s", tensor.ShapeString(b.Shape), tensor.ShapeString(x.Shape))
	}
	return out, nil
}

// Relevance implements Rule. Bounds whose size fits neither one sample nor
// the batch are rejected earlier by Check.
func (r *ZBox) Relevance(l nn.Affine, x, y, rel *tensor.T, c *ParamCache) *tensor.T {
	return r.relevance(l, x, y, rel, c, nil)
}

func (r *ZBox) relevance(l nn.Affine, x, y, rel *tensor.T, c *ParamCache, done func(*tensor.T)) *tensor.T {
	w, b := c.params(l, "id", identity, r.ZeroBias)
	wp, bp := c.params(l, "pos", positive, r.ZeroBias)
	wn, bn := c.params(l, "neg", negative, r.ZeroBias)
	low, err := bound(r.Low, x)
	if err != nil {
		panic("lrp: " + err.Error())
	}
	high, err := bound(r.High, x)
	if err != nil {
		panic("lrp: " + err.Error())
	}
	z := y
	if r.ZeroBias || y == nil {
		z = l.ForwardWith(x, w, b)
	}
	zl := l.ForwardWith(low, wp, bp)
	zh := l.ForwardWith(high, wn, bn)
	// s = R / stab(z − (zl + zh)), into zl
	s := zl
	for i, v := range z.Data {
		s.Data[i] = rel.Data[i] / stabOne(v-(zl.Data[i]+zh.Data[i]))
	}
	tensor.Recycle(zh)
	if z != y {
		tensor.Recycle(z)
	}
	giveUp(done, y, rel)
	out := jtc(l, w, s, x, c)
	gp, gn := jtc(l, wp, s, x, c), jtc(l, wn, s, x, c)
	for i, v := range x.Data {
		o := v * out.Data[i]
		o += -low.Data[i] * gp.Data[i]
		o += -high.Data[i] * gn.Data[i]
		out.Data[i] = o
	}
	tensor.Recycle(s)
	tensor.Recycle(gp)
	tensor.Recycle(gn)
	return out
}

// Check returns an error if the bounds do not fit inputs of the given shape.
func (r *ZBox) Check(inShape []int) error {
	x := tensor.New(inShape...)
	if _, err := bound(r.Low, x); err != nil {
		return err
	}
	_, err := bound(r.High, x)
	return err
}

// Flat spreads relevance uniformly over each output's receptive field:
// inputs and weights are replaced by ones and the bias by zero,
//
//	R_j = Σ_k 1 · R_k / stab(Σ_j 1).
type Flat struct{ spec }

// Relevance implements Rule.
func (r *Flat) Relevance(l nn.Affine, x, y, rel *tensor.T, c *ParamCache) *tensor.T {
	return r.relevance(l, x, y, rel, c, nil)
}

func (r *Flat) relevance(l nn.Affine, x, y, rel *tensor.T, c *ParamCache, done func(*tensor.T)) *tensor.T {
	w, _ := c.params(l, "ones", func(float32) float32 { return 1 }, true)
	return ruleOnOnes(l, x, y, rel, w, nil, done)
}

// WSquare is the w² rule: inputs are replaced by ones, weights and biases
// squared (biases dropped with ZeroBias),
//
//	R_j = Σ_k w_jk² R_k / stab(Σ_j w_jk² + b_k²).
type WSquare struct {
	spec
	ZeroBias bool
}

// Relevance implements Rule.
func (r *WSquare) Relevance(l nn.Affine, x, y, rel *tensor.T, c *ParamCache) *tensor.T {
	return r.relevance(l, x, y, rel, c, nil)
}

func (r *WSquare) relevance(l nn.Affine, x, y, rel *tensor.T, c *ParamCache, done func(*tensor.T)) *tensor.T {
	w, b := c.params(l, "square", func(v float32) float32 { return v * v }, r.ZeroBias)
	return ruleOnOnes(l, x, y, rel, w, b, done)
}

// ruleOnOnes computes R_j = Σ_k w_jk R_k / stab(Σ_j w_jk + b_k), the
// generic rule with every input replaced by 1 (flat and w²).
func ruleOnOnes(l nn.Affine, x, y, rel, w, b *tensor.T, done func(*tensor.T)) *tensor.T {
	giveUp(done, y)
	ones := mapT(x, func(float32) float32 { return 1 })
	z := stab(l.ForwardWith(ones, w, b), Stabilizer)
	tensor.Recycle(ones)
	s := div(rel, z)
	tensor.Recycle(z)
	giveUp(done, rel)
	out := jt(l, w, s, x)
	tensor.Recycle(s)
	return out
}

// Pass returns the output relevance unchanged (for layers whose input and
// output shapes agree).
type Pass struct{ spec }

// Relevance implements Rule.
func (r *Pass) Relevance(l nn.Affine, x, y, rel *tensor.T, c *ParamCache) *tensor.T {
	return r.relevance(l, x, y, rel, c, nil)
}

func (r *Pass) relevance(l nn.Affine, x, y, rel *tensor.T, c *ParamCache, done func(*tensor.T)) *tensor.T {
	if !tensor.SameShape(x.Shape, rel.Shape) {
		panic("lrp: pass rule on a layer that changes the shape")
	}
	return rel.Clone()
}
