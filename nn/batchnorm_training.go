package nn

import (
	"math"

	"github.com/xai-go/lrp/tensor"
)

// BatchNormTraining is ONNX BatchNormalization with training_mode 1: it
// normalizes with the statistics of the batch itself, so a sample's output
// depends on every other sample of its batch. Per channel c, over the
// samples and spatial positions (M values), with μ_c the mean and σ²_c the
// biased variance of the input,
//
//	Output 0: y = Scale_c · (x − μ_c) / √(σ²_c + Eps) + Bias_c
//	Output 1: Mean_c · Momentum + μ_c · (1 − Momentum)   (shape C)
//	Output 2: Var_c · Momentum + σ²_c · (1 − Momentum)    (shape C)
//
// The statistics are computed in float64. Outputs 1 and 2 (the running
// statistics) have no batch dimension.
type BatchNormTraining struct {
	Scale, Bias, Mean, Var []float32
	Eps, Momentum          float32
	Output                 int // 0, 1 or 2
}

// Type returns "BatchNormTraining".
func (*BatchNormTraining) Type() string { return "BatchNormTraining" }

// OutputShape returns the input shape (output 0) or (C).
func (l *BatchNormTraining) OutputShape(in [][]int) ([]int, error) {
	if err := wantInputs("BatchNormTraining", in, 1); err != nil {
		return nil, err
	}
	if len(in[0]) < 2 || in[0][1] != len(l.Scale) {
		return nil, shapeErr("BatchNormTraining", "needs %d channels in dimension 1, got shape %s", len(l.Scale), tensor.ShapeString(in[0]))
	}
	switch l.Output {
	case 0:
		return append([]int(nil), in[0]...), nil
	case 1, 2:
		return []int{len(l.Scale)}, nil
	}
	return nil, shapeErr("BatchNormTraining", "output %d is not defined", l.Output)
}

// stats returns the per-channel mean and biased variance of x, and the
// number of values per channel and per (sample, channel) plane.
func (l *BatchNormTraining) stats(x *tensor.T) (mu, v []float64, m, plane int) {
	c := x.Shape[1]
	plane = tensor.Size(x.Shape[2:])
	m = x.Shape[0] * plane
	mu, v = make([]float64, c), make([]float64, c)
	for n := range x.Shape[0] {
		for ch := range c {
			for _, a := range x.Data[(n*c+ch)*plane : (n*c+ch+1)*plane] {
				mu[ch] += float64(a)
			}
		}
	}
	for ch := range mu {
		mu[ch] /= float64(m)
	}
	for n := range x.Shape[0] {
		for ch := range c {
			for _, a := range x.Data[(n*c+ch)*plane : (n*c+ch+1)*plane] {
				d := float64(a) - mu[ch]
				v[ch] += d * d
			}
		}
	}
	for ch := range v {
		v[ch] /= float64(m)
	}
	return mu, v, m, plane
}

// stddev returns σ_c = sqrt(var_c + Eps) per channel.
func (l *BatchNormTraining) stddev(v []float64) []float64 {
	sd := make([]float64, len(v))
	for ch := range sd {
		sd[ch] = math.Sqrt(v[ch] + float64(l.Eps))
	}
	return sd
}

// Forward computes output l.Output.
func (l *BatchNormTraining) Forward(in []*tensor.T) *tensor.T {
	x := in[0]
	s, err := l.OutputShape([][]int{x.Shape})
	if err != nil {
		panic("nn: " + err.Error())
	}
	mu, v, _, plane := l.stats(x)
	y := tensor.New(s...)
	mom := float64(l.Momentum)
	switch l.Output {
	case 1:
		for ch := range mu {
			y.Data[ch] = float32(float64(l.Mean[ch])*mom + mu[ch]*(1-mom))
		}
	case 2:
		for ch := range v {
			y.Data[ch] = float32(float64(l.Var[ch])*mom + v[ch]*(1-mom))
		}
	default:
		c, sd := len(mu), l.stddev(v)
		for i, a := range x.Data {
			ch := i / plane % c
			y.Data[i] = float32(float64(l.Scale[ch])*(float64(a)-mu[ch])/sd[ch] + float64(l.Bias[ch]))
		}
	}
	return y
}

// Backward is the gradient through the batch statistics: for output 0,
// Scale_c/σ_c · (g − mean(g) − x̂·mean(g·x̂)) with x̂ = (x − μ_c)/σ_c and
// means over the channel's M values; for output 1, (1 − Momentum)·g_c/M;
// for output 2, (1 − Momentum)·g_c·2(x − μ_c)/M.
func (l *BatchNormTraining) Backward(in []*tensor.T, _, g *tensor.T) []*tensor.T {
	x := in[0]
	mu, v, m, plane := l.stats(x)
	c := len(mu)
	gx := tensor.New(x.Shape...)
	mom := 1 - float64(l.Momentum)
	switch l.Output {
	case 1:
		for i := range gx.Data {
			gx.Data[i] = float32(mom * float64(g.Data[i/plane%c]) / float64(m))
		}
	case 2:
		for i, a := range x.Data {
			ch := i / plane % c
			gx.Data[i] = float32(mom * float64(g.Data[ch]) * 2 * (float64(a) - mu[ch]) / float64(m))
		}
	default:
		sg, sgx := make([]float64, c), make([]float64, c)
		sd := l.stddev(v)
		for i, a := range x.Data {
			ch := i / plane % c
			sg[ch] += float64(g.Data[i])
			sgx[ch] += float64(g.Data[i]) * (float64(a) - mu[ch]) / sd[ch]
		}
		for i, a := range x.Data {
			ch := i / plane % c
			xh := (float64(a) - mu[ch]) / sd[ch]
			gx.Data[i] = float32(float64(l.Scale[ch]) / sd[ch] * (float64(g.Data[i]) - sg[ch]/float64(m) - xh*sgx[ch]/float64(m)))
		}
	}
	return []*tensor.T{gx}
}
