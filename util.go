package lrp

import (
	"math"
	"sort"
	"strconv"
)

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func fmtFloat(f float32) string { return strconv.FormatFloat(float64(f), 'g', -1, 32) }

// finite32 reports whether v is a finite number within float32's range
// (false for NaN and ±Inf, whose comparisons fail or exceed the range).
func finite32(v float64) bool { return math.Abs(v) <= math.MaxFloat32 }
