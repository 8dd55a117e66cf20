package kernels

// Axpy computes y += alpha*x. It panics if len(y) < len(x).
//
// The reference loop is
//
//	for i, v := range x {
//		y[i] += alpha * v
//	}
func Axpy(alpha float32, x, y []float32) {
	if len(y) < len(x) {
		panic("kernels: Axpy: len(y) < len(x)")
	}
	axpy(alpha, x, y[:len(x)])
}

// Dot returns the dot product of x and y. It panics if len(x) != len(y).
//
// The reference loop is
//
//	var sum float32
//	for i, v := range x {
//		sum += v * y[i]
//	}
//	return sum
//
// (the order of the additions differs, so the result may differ in rounding).
func Dot(x, y []float32) float32 {
	if len(x) != len(y) {
		panic("kernels: Dot: len(x) != len(y)")
	}
	return dot(x, y)
}

func axpyGeneric(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for len(x) >= 4 {
		y[0] += alpha * x[0]
		y[1] += alpha * x[1]
		y[2] += alpha * x[2]
		y[3] += alpha * x[3]
		x, y = x[4:], y[4:]
	}
	for i, v := range x {
		y[i] += alpha * v
	}
}

func dotGeneric(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	for len(x) >= 4 {
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
		x, y = x[4:], y[4:]
	}
	for i, v := range x {
		s0 += v * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}
