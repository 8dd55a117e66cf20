//go:build amd64 && !linux && !purego

package kernels

import "errors"

// requestAMX reports that this package uses AMX only on Linux, the one
// system whose tile-state permission request it implements.
func requestAMX() error { return errors.New("AMX is used on Linux only") }
