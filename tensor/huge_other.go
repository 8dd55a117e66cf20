//go:build !linux

package tensor

// adviseHuge does nothing where transparent huge pages cannot be asked for.
func adviseHuge([]float32) {}
