//go:build amd64 && linux && !purego

package kernels

import (
	"fmt"
	"syscall"
)

// requestAMX asks Linux for the AMX tile data state for this process
// (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)); without it the
// first tile instruction raises SIGILL.
func requestAMX() error {
	const (
		archReqXcompPerm  = 0x1023
		xfeatureXtiledata = 18
	)
	if _, _, e := syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, archReqXcompPerm, xfeatureXtiledata, 0); e != 0 {
		return fmt.Errorf("arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA): %v", e)
	}
	return nil
}
