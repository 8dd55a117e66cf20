package nn

import (
	"fmt"
	"math"

	"github.com/xai-go/lrp/internal/kernels"
	"github.com/xai-go/lrp/tensor"
)

// The layers of a Vision Transformer: LayerNorm, GELU, the product of two
// activations (attention scores and their use), general transposes, and the
// token selection and constants of the class token.

// LayerNorm normalizes over the last dimension, as PyTorch's nn.LayerNorm
// and ONNX LayerNormalization with axis −1, or over the last Dims
// dimensions (ONNX's axis = rank − Dims):
//
//	y = (x − μ) / σ ⊙ Gamma + Beta,  σ = √(Var(x) + Eps)
//
// with μ and Var the mean and (biased) variance over those dimensions.
// Gamma and Beta hold one value per element of the normalized dimensions
// (Gamma.Len() = their product, in row-major order); each "row" is then
// Gamma.Len() consecutive elements. Dims equal to the input's rank
// normalizes the whole batch together, mixing its samples.
type LayerNorm struct {
	Gamma, Beta *tensor.T // D each (the normalized dimensions); Beta may be nil
	Eps         float32
	Dims        int // number of trailing dimensions normalized; 0 means 1
}

// Type returns "LayerNorm".
func (*LayerNorm) Type() string { return "LayerNorm" }

func (l *LayerNorm) dims() int { return max(l.Dims, 1) }

// OutputShape checks that the normalized dimensions hold Gamma.Len()
// elements.
func (l *LayerNorm) OutputShape(in [][]int) ([]int, error) {
	s, err := oneInputSame("LayerNorm", in)
	if err != nil {
		return nil, err
	}
	k := l.dims()
	if len(s) < k {
		return nil, shapeErr("LayerNorm", "normalizes the last %d dimensions, got shape %s", k, tensor.ShapeString(s))
	}
	if tensor.Size(s[len(s)-k:]) != l.Gamma.Len() {
		if k == 1 {
			return nil, shapeErr("LayerNorm", "needs a last dimension of %d, got shape %s", l.Gamma.Len(), tensor.ShapeString(s))
		}
		return nil, shapeErr("LayerNorm", "needs its last %d dimensions to hold %d elements, got shape %s", k, l.Gamma.Len(), tensor.ShapeString(s))
	}
	if l.Beta != nil && l.Beta.Len() != l.Gamma.Len() {
		return nil, shapeErr("LayerNorm", "Beta has %d elements, Gamma %d", l.Beta.Len(), l.Gamma.Len())
	}
	return s, nil
}

// StatsShape is the shape of the mean and 1/σ for input shape s: s with the
// normalized dimensions set to 1 (ONNX's Mean and InvStdDev outputs).
func (l *LayerNorm) StatsShape(s []int) []int {
	out := append([]int(nil), s...)
	for i := max(len(s)-l.dims(), 0); i < len(s); i++ {
		out[i] = 1
	}
	return out
}

// Stats returns, per row of the normalized dimensions, the mean μ and 1/σ.
func (l *LayerNorm) Stats(x *tensor.T) (mean, inv []float64) {
	d := l.Gamma.Len()
	rows := x.Len() / d
	mean, inv = make([]float64, rows), make([]float64, rows)
	parallelFor(rows, max(1, 1<<13/max(d, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := x.Data[r*d : (r+1)*d]
			var m float64
			for _, v := range row {
				m += float64(v)
			}
			m /= float64(d)
			var v2 float64
			for _, v := range row {
				dv := float64(v) - m
				v2 += dv * dv
			}
			mean[r], inv[r] = m, 1/math.Sqrt(v2/float64(d)+float64(l.Eps))
		}
	})
	return mean, inv
}

// Forward normalizes x.
func (l *LayerNorm) Forward(in []*tensor.T) *tensor.T {
	x := in[0]
	d := l.Gamma.Len()
	y := tensor.Empty(x.Shape...)
	mean, inv := l.Stats(x)
	parallelFor(len(mean), max(1, 1<<13/max(d, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			for i := 0; i < d; i++ {
				v := (float64(x.Data[r*d+i]) - mean[r]) * inv[r] * float64(l.Gamma.Data[i])
				if l.Beta != nil {
					v += float64(l.Beta.Data[i])
				}
				y.Data[r*d+i] = float32(v)
			}
		}
	})
	return y
}

// Backward returns the exact gradient, (g̃ − mean(g̃) − x̂·mean(g̃ ⊙ x̂)) / σ
// with g̃ = g ⊙ Gamma and x̂ = (x − μ)/σ.
func (l *LayerNorm) Backward(in []*tensor.T, _, g *tensor.T) []*tensor.T {
	x := in[0]
	d := l.Gamma.Len()
	gx := tensor.Empty(x.Shape...)
	mean, inv := l.Stats(x)
	for r := range mean {
		var mg, mgx float64
		for i := 0; i < d; i++ {
			gt := float64(g.Data[r*d+i]) * float64(l.Gamma.Data[i])
			xh := (float64(x.Data[r*d+i]) - mean[r]) * inv[r]
			mg += gt
			mgx += gt * xh
		}
		mg /= float64(d)
		mgx /= float64(d)
		for i := 0; i < d; i++ {
			gt := float64(g.Data[r*d+i]) * float64(l.Gamma.Data[i])
			xh := (float64(x.Data[r*d+i]) - mean[r]) * inv[r]
			gx.Data[r*d+i] = float32((gt - mg - xh*mgx) * inv[r])
		}
	}
	return []*tensor.T{gx}
}

// LayerNormStats is ONNX LayerNormalization's second or third output: the
// mean μ (InvStdDev false) or 1/σ (InvStdDev true) of each row of the
// LayerNorm's normalized dimensions, of shape LayerNorm.StatsShape. No
// relevance flows through it; Backward returns no gradient.
type LayerNormStats struct {
	LayerNorm
	InvStdDev bool
}

// Type returns "LayerNormStats".
func (*LayerNormStats) Type() string { return "LayerNormStats" }

// OutputShape checks the input as LayerNorm does and returns StatsShape.
func (l *LayerNormStats) OutputShape(in [][]int) ([]int, error) {
	s, err := l.LayerNorm.OutputShape(in)
	if err != nil {
		return nil, err
	}
	return l.StatsShape(s), nil
}

// Forward computes μ or 1/σ per row.
func (l *LayerNormStats) Forward(in []*tensor.T) *tensor.T {
	x := in[0]
	y := tensor.Empty(l.StatsShape(x.Shape)...)
	mean, inv := l.Stats(x)
	v := mean
	if l.InvStdDev {
		v = inv
	}
	for r, m := range v {
		y.Data[r] = float32(m)
	}
	return y
}

// Backward returns no gradient: no relevance flows through the statistics.
func (l *LayerNormStats) Backward(in []*tensor.T, _, _ *tensor.T) []*tensor.T {
	return []*tensor.T{nil}
}

// GELU is x·Φ(x) = x/2 · (1 + erf(x/√2)), the exact form of PyTorch's
// nn.GELU().
type GELU struct{}

// Type returns "GELU".
func (GELU) Type() string { return "GELU" }

// OutputShape returns the input shape.
func (GELU) OutputShape(in [][]int) ([]int, error) { return oneInputSame("GELU", in) }

// Forward computes x·Φ(x).
func (GELU) Forward(in []*tensor.T) *tensor.T {
	x := in[0]
	y := tensor.Empty(x.Shape...)
	parallelFor(len(x.Data), 1<<14, func(lo, hi int) {
		kernels.GELU(y.Data[lo:hi], x.Data[lo:hi])
	})
	return y
}

// Backward multiplies g by Φ(x) + x·φ(x).
func (GELU) Backward(in []*tensor.T, _, g *tensor.T) []*tensor.T {
	x := in[0]
	gx := tensor.Empty(x.Shape...)
	parallelFor(len(x.Data), 1<<14, func(lo, hi int) {
		kernels.GELUGrad(gx.Data[lo:hi], x.Data[lo:hi], g.Data[lo:hi])
	})
	return []*tensor.T{gx}
}

// MatMul is the matrix product of two activations, batched over the leading
// dimensions (torch.matmul, ONNX MatMul): A is …×M×K, B is …×K×P with the
// same leading dimensions, the output …×M×P. Attention computes its scores
// Q·Kᵀ and their use softmax(·)·V with it.
type MatMul struct{}

// Type returns "MatMul".
func (MatMul) Type() string { return "MatMul" }

// OutputShape checks the operands.
func (MatMul) OutputShape(in [][]int) ([]int, error) {
	if err := wantInputs("MatMul", in, 2); err != nil {
		return nil, err
	}
	a, b := in[0], in[1]
	if len(a) < 2 || len(a) != len(b) || a[len(a)-1] != b[len(b)-2] {
		return nil, shapeErr("MatMul", "cannot multiply %s by %s", tensor.ShapeString(a), tensor.ShapeString(b))
	}
	for i := 0; i < len(a)-2; i++ {
		if a[i] != b[i] {
			return nil, shapeErr("MatMul", "leading dimensions of %s and %s differ (broadcasting is not supported)", tensor.ShapeString(a), tensor.ShapeString(b))
		}
	}
	return append(append([]int(nil), a[:len(a)-1]...), b[len(b)-1]), nil
}

func matmulDims(a, b []int) (batch, m, k, p int) {
	r := len(a)
	return tensor.Size(a[:r-2]), a[r-2], a[r-1], b[r-1]
}

// Forward computes A·B.
func (l MatMul) Forward(in []*tensor.T) *tensor.T {
	s, err := l.OutputShape([][]int{in[0].Shape, in[1].Shape})
	if err != nil {
		panic("nn: " + err.Error())
	}
	y := tensor.New(s...)
	MatMulInto(y.Data, in[0].Data, in[1].Data, in[0].Shape, in[1].Shape)
	return y
}

// MatMulInto adds the batched product a·b to y (operand shapes as, bs).
func MatMulInto(y, a, b []float32, as, bs []int) {
	batch, m, k, p := matmulDims(as, bs)
	for t := 0; t < batch; t++ {
		gemm(false, false, m, p, k, 1, a[t*m*k:(t+1)*m*k], k, b[t*k*p:(t+1)*k*p], p, 1, y[t*m*p:(t+1)*m*p], p)
	}
}

// Backward returns g·Bᵀ and Aᵀ·g.
func (MatMul) Backward(in []*tensor.T, _, g *tensor.T) []*tensor.T {
	a, b := in[0], in[1]
	batch, m, k, p := matmulDims(a.Shape, b.Shape)
	ga, gb := tensor.New(a.Shape...), tensor.New(b.Shape...)
	for t := 0; t < batch; t++ {
		at, bt := a.Data[t*m*k:(t+1)*m*k], b.Data[t*k*p:(t+1)*k*p]
		gt := g.Data[t*m*p : (t+1)*m*p]
		gemm(false, true, m, k, p, 1, gt, p, bt, p, 0, ga.Data[t*m*k:(t+1)*m*k], k)
		gemm(true, false, k, p, m, 1, at, k, gt, p, 0, gb.Data[t*k*p:(t+1)*k*p], p)
	}
	return []*tensor.T{ga, gb}
}

// linearTokens is Linear.ForwardWith for inputs of rank 3 and more (the
// tokens of a transformer, hundreds of rows): one GEMM, y = x·wᵀ + b.
// (onnx's TestGoldenViT checks that a sample's logits are the same bits
// alone and in a batch.)
func linearTokens(x, w, b *tensor.T) *tensor.T {
	in, out := w.Shape[1], w.Shape[0]
	y, n, beta := linearOutput(x, in, out, b)
	gemm(false, true, n, out, in, 1, x.Data, in, w.Data, in, beta, y.Data, out)
	return y
}

// linearTokensBackward is Linear.BackwardWith for inputs of rank 3 and
// more: gx = gy·w.
func linearTokensBackward(gy, w *tensor.T, inShape []int) *tensor.T {
	in, out := w.Shape[1], w.Shape[0]
	n := tensor.Size(inShape) / in
	gx := tensor.Empty(inShape...)
	gemm(false, false, n, in, out, 1, gy.Data, out, w.Data, in, 0, gx.Data, in)
	return gx
}

// Transpose permutes the dimensions: output dimension i is input dimension
// Perm[i] (torch.permute, ONNX Transpose).
type Transpose struct{ Perm []int }

// Type returns "Transpose".
func (*Transpose) Type() string { return "Transpose" }

// OutputShape returns the permuted shape.
func (l *Transpose) OutputShape(in [][]int) ([]int, error) {
	if err := wantInputs("Transpose", in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	if len(l.Perm) != len(s) {
		return nil, shapeErr("Transpose", "permutation %v does not fit shape %s", l.Perm, tensor.ShapeString(s))
	}
	seen := make([]bool, len(s))
	out := make([]int, len(s))
	for i, p := range l.Perm {
		if p < 0 || p >= len(s) || seen[p] {
			return nil, shapeErr("Transpose", "%v is not a permutation of %d dimensions", l.Perm, len(s))
		}
		seen[p] = true
		out[i] = s[p]
	}
	return out, nil
}

// permute copies x into a tensor with dimensions permuted by perm.
func permute(x *tensor.T, perm []int) *tensor.T {
	r := len(perm)
	if r > 1 && perm[r-1] == r-1 {
		// The last dimension stays: move whole rows (a transformer's
		// heads, [0, 2, 1, 3]).
		row := x.Shape[r-1]
		idx := permuteIndex(x.Shape[:r-1], perm[:r-1])
		out := make([]int, r)
		for i, p := range perm {
			out[i] = x.Shape[p]
		}
		y := tensor.Empty(out...)
		parallelFor(len(idx), max(1, 1<<13/max(row, 1)), func(lo, hi int) {
			for k := lo; k < hi; k++ {
				src := idx[k]
				copy(y.Data[k*row:(k+1)*row], x.Data[src*row:(src+1)*row])
			}
		})
		return y
	}
	out := make([]int, r)
	for i, p := range perm {
		out[i] = x.Shape[p]
	}
	y := tensor.Empty(out...)
	// Input strides, in output order.
	in := make([]int, r)
	st := 1
	for d := r - 1; d >= 0; d-- {
		in[d] = st
		st *= x.Shape[d]
	}
	ps := make([]int, r)
	for i, p := range perm {
		ps[i] = in[p]
	}
	idx := make([]int, r)
	src := 0
	for k := range y.Data {
		y.Data[k] = x.Data[src]
		for d := r - 1; d >= 0; d-- {
			idx[d]++
			src += ps[d]
			if idx[d] < out[d] {
				break
			}
			src -= ps[d] * out[d]
			idx[d] = 0
		}
	}
	return y
}

// permuteIndex returns, for each element of shape s permuted by perm in
// output order, its index in the input.
func permuteIndex(s, perm []int) []int {
	r := len(perm)
	out := make([]int, r)
	for i, p := range perm {
		out[i] = s[p]
	}
	st := make([]int, r)
	acc := 1
	for d := r - 1; d >= 0; d-- {
		st[d] = acc
		acc *= s[d]
	}
	ps := make([]int, r)
	for i, p := range perm {
		ps[i] = st[p]
	}
	idx := make([]int, tensor.Size(out))
	pos := make([]int, r)
	src := 0
	for k := range idx {
		idx[k] = src
		for d := r - 1; d >= 0; d-- {
			pos[d]++
			src += ps[d]
			if pos[d] < out[d] {
				break
			}
			src -= ps[d] * out[d]
			pos[d] = 0
		}
	}
	return idx
}

// Forward permutes x.
func (l *Transpose) Forward(in []*tensor.T) *tensor.T {
	if _, err := l.OutputShape([][]int{in[0].Shape}); err != nil {
		panic("nn: " + err.Error())
	}
	return permute(in[0], l.Perm)
}

// Backward applies the inverse permutation to g.
func (l *Transpose) Backward(_ []*tensor.T, _, g *tensor.T) []*tensor.T {
	inv := make([]int, len(l.Perm))
	for i, p := range l.Perm {
		inv[p] = i
	}
	return []*tensor.T{permute(g, inv)}
}

// Gather selects Indices along dimension Axis (ONNX Gather with constant
// indices). If Scalar is set there is one index and the dimension is
// removed, as x[:, 0] selects a ViT's class token.
type Gather struct {
	Axis    int
	Indices []int
	Scalar  bool
}

// Type returns "Gather".
func (*Gather) Type() string { return "Gather" }

func (l *Gather) axis(rank int) int {
	if l.Axis < 0 {
		return l.Axis + rank
	}
	return l.Axis
}

// OutputShape replaces dimension Axis by the number of indices (or removes
// it if Scalar).
func (l *Gather) OutputShape(in [][]int) ([]int, error) {
	if err := wantInputs("Gather", in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	a := l.axis(len(s))
	if a < 0 || a >= len(s) {
		return nil, shapeErr("Gather", "axis %d out of range for shape %s", l.Axis, tensor.ShapeString(s))
	}
	if l.Scalar && len(l.Indices) != 1 {
		return nil, shapeErr("Gather", "a scalar index needs exactly one index, got %d", len(l.Indices))
	}
	for _, i := range l.Indices {
		if i < -s[a] || i >= s[a] {
			return nil, shapeErr("Gather", "index %d out of range for dimension %d of shape %s", i, a, tensor.ShapeString(s))
		}
	}
	out := append([]int(nil), s[:a]...)
	if !l.Scalar {
		out = append(out, len(l.Indices))
	}
	return append(out, s[a+1:]...), nil
}

func (l *Gather) each(s []int, fn func(dst, src, n int)) {
	a := l.axis(len(s))
	outer, inner := tensor.Size(s[:a]), tensor.Size(s[a+1:])
	for o := 0; o < outer; o++ {
		for k, i := range l.Indices {
			if i < 0 {
				i += s[a]
			}
			fn((o*len(l.Indices)+k)*inner, (o*s[a]+i)*inner, inner)
		}
	}
}

// Forward copies the selected slices.
func (l *Gather) Forward(in []*tensor.T) *tensor.T {
	x := in[0]
	s, err := l.OutputShape([][]int{x.Shape})
	if err != nil {
		panic("nn: " + err.Error())
	}
	y := tensor.Empty(s...)
	l.each(x.Shape, func(dst, src, n int) { copy(y.Data[dst:dst+n], x.Data[src:src+n]) })
	return y
}

// Backward scatters g back (adding where an index repeats).
func (l *Gather) Backward(in []*tensor.T, _, g *tensor.T) []*tensor.T {
	gx := tensor.New(in[0].Shape...)
	l.each(in[0].Shape, func(dst, src, n int) {
		for j := 0; j < n; j++ {
			gx.Data[src+j] += g.Data[dst+j]
		}
	})
	return []*tensor.T{gx}
}

// Slice takes x[…, Start:End:Step, …] along each of Axes (ONNX Slice with
// constant starts, ends and positive steps; bounds are clamped as ONNX
// does, negative ones counting from the end).
type Slice struct {
	Axes, Starts, Ends, Steps []int
}

// Type returns "Slice".
func (*Slice) Type() string { return "Slice" }

// bounds returns start, length and step per dimension of shape s.
func (l *Slice) bounds(s []int) (start, n, step []int, err error) {
	start, n, step = make([]int, len(s)), append([]int(nil), s...), make([]int, len(s))
	for i := range step {
		step[i] = 1
	}
	if len(l.Starts) != len(l.Axes) || len(l.Ends) != len(l.Axes) || len(l.Steps) != len(l.Axes) {
		return nil, nil, nil, shapeErr("Slice", "needs as many starts, ends and steps as axes")
	}
	for k, a := range l.Axes {
		if a < 0 {
			a += len(s)
		}
		if a < 0 || a >= len(s) {
			return nil, nil, nil, shapeErr("Slice", "axis %d out of range for shape %s", l.Axes[k], tensor.ShapeString(s))
		}
		if l.Steps[k] < 1 {
			return nil, nil, nil, shapeErr("Slice", "step %d is not supported (only positive steps)", l.Steps[k])
		}
		d := s[a]
		clamp := func(v int) int {
			if v < 0 {
				v += d
			}
			return min(max(v, 0), d)
		}
		b, e := clamp(l.Starts[k]), clamp(l.Ends[k])
		start[a], step[a] = b, l.Steps[k]
		n[a] = max(0, (e-b+l.Steps[k]-1)/l.Steps[k])
	}
	return start, n, step, nil
}

// OutputShape returns the sliced shape.
func (l *Slice) OutputShape(in [][]int) ([]int, error) {
	if err := wantInputs("Slice", in, 1); err != nil {
		return nil, err
	}
	_, n, _, err := l.bounds(in[0])
	if err != nil {
		return nil, err
	}
	if tensor.Size(n) == 0 {
		return nil, shapeErr("Slice", "slicing %s leaves nothing", tensor.ShapeString(in[0]))
	}
	return n, nil
}

// runs calls fn(k, src, m) for every run of m output elements k … k+m−1
// that are the input elements src, src+step, …, src+(m−1)·step, in output
// order: each run is a line along the last dimension.
func (l *Slice) runs(s []int, fn func(k, src, m, step int)) {
	start, n, step, err := l.bounds(s)
	if err != nil {
		panic("nn: " + err.Error())
	}
	r := len(s)
	st := make([]int, r)
	acc := 1
	for d := r - 1; d >= 0; d-- {
		st[d] = acc
		acc *= s[d]
	}
	src := 0
	for d := range s {
		src += start[d] * st[d]
	}
	m, lineStep := n[r-1], step[r-1]*st[r-1]
	idx := make([]int, r)
	total := tensor.Size(n)
	for k := 0; k < total; k += m {
		fn(k, src, m, lineStep)
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			src += step[d] * st[d]
			if idx[d] < n[d] {
				break
			}
			src -= step[d] * st[d] * n[d]
			idx[d] = 0
		}
	}
}

// Forward copies the slice.
func (l *Slice) Forward(in []*tensor.T) *tensor.T {
	x := in[0]
	s, err := l.OutputShape([][]int{x.Shape})
	if err != nil {
		panic("nn: " + err.Error())
	}
	y := tensor.Empty(s...)
	l.runs(x.Shape, func(k, src, m, step int) {
		if step == 1 {
			copy(y.Data[k:k+m], x.Data[src:src+m])
			return
		}
		for i := range m {
			y.Data[k+i] = x.Data[src+i*step]
		}
	})
	return y
}

// Backward places g in the slice of a zero gradient.
func (l *Slice) Backward(in []*tensor.T, _, g *tensor.T) []*tensor.T {
	gx := tensor.New(in[0].Shape...)
	l.runs(in[0].Shape, func(k, src, m, step int) {
		for i := range m {
			gx.Data[src+i*step] += g.Data[k+i]
		}
	})
	return []*tensor.T{gx}
}

// BatchConst broadcasts the constant Const with a shape that depends on the
// batch size N of its input, whose dimension i is Scale[i]·N + Shape[i]
// (NumPy broadcasting of both, as ONNX Expand does). It stands
// for ONNX Expand of a constant to a batch-dependent shape (a ViT's class
// token repeated once per image); the input is read for its batch size only
// and receives no gradient.
type BatchConst struct {
	Const        *tensor.T
	Shape, Scale []int
}

// Type returns "Constant".
func (*BatchConst) Type() string { return "Constant" }

// OutputShape returns the broadcast shape for the input's batch size.
func (l *BatchConst) OutputShape(in [][]int) ([]int, error) {
	if err := wantInputs("Constant", in, 1); err != nil {
		return nil, err
	}
	if len(in[0]) == 0 || len(l.Shape) != len(l.Scale) {
		return nil, shapeErr("Constant", "needs a batched input")
	}
	s := make([]int, len(l.Shape))
	for i := range s {
		s[i] = l.Scale[i]*in[0][0] + l.Shape[i]
	}
	out, err := Broadcast(l.Const.Shape, s)
	if err != nil {
		return nil, shapeErr("Constant", "cannot expand %s to %s", tensor.ShapeString(l.Const.Shape), tensor.ShapeString(s))
	}
	return out, nil
}

// Forward broadcasts the constant.
func (l *BatchConst) Forward(in []*tensor.T) *tensor.T {
	s, err := l.OutputShape([][]int{in[0].Shape})
	if err != nil {
		panic("nn: " + err.Error())
	}
	y := tensor.Empty(s...)
	c := l.Const.Data
	eachBroadcast(s, l.Const.Shape, nil, func(k, ia, _ int) { y.Data[k] = c[ia] })
	return y
}

// Backward returns no gradient: the output does not depend on the input's
// values.
func (*BatchConst) Backward(_ []*tensor.T, _, _ *tensor.T) []*tensor.T {
	return []*tensor.T{nil}
}

// String describes the layer for error messages.
func (l *BatchConst) String() string {
	return fmt.Sprintf("Constant%s", tensor.ShapeString(l.Const.Shape))
}
