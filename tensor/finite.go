package tensor

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// FirstNonFinite returns the index of the first NaN or ±Inf in v, or -1
// if every element is finite.
func FirstNonFinite(v []float32) int {
	for i, x := range v {
		// x-x is 0 for finite x and NaN for NaN and ±Inf.
		if x-x != 0 {
			return i
		}
	}
	return -1
}

// indexString formats the row-major flat index i of an array of the given
// shape as its multi-index, e.g. "[0 0 3 4]".
func indexString(shape []int, i int) string {
	idx := make([]string, len(shape))
	for k := len(shape) - 1; k >= 0; k-- {
		if shape[k] > 0 {
			idx[k] = strconv.Itoa(i % shape[k])
			i /= shape[k]
		} else {
			idx[k] = "0"
		}
	}
	return "[" + strings.Join(idx, " ") + "]"
}

// CheckFinite returns an error naming the first NaN or ±Inf element of t
// by its multi-index, or nil if t holds only finite numbers.
func CheckFinite(t *T) error {
	i := FirstNonFinite(t.Data)
	if i < 0 {
		return nil
	}
	v := t.Data[i]
	what := "NaN"
	if math.IsInf(float64(v), 1) {
		what = "+Inf"
	} else if math.IsInf(float64(v), -1) {
		what = "-Inf"
	}
	return fmt.Errorf("element %s is %s: values must be finite", indexString(t.Shape, i), what)
}
