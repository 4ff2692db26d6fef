//go:build !linux

package exchange

import (
	"errors"
	"syscall"
)

// control: SO_MARK exists only on Linux.
func control(mark uint32) func(network, address string, c syscall.RawConn) error {
	if mark == 0 {
		return nil
	}
	return func(_, _ string, _ syscall.RawConn) error {
		return &markError{errors.New("SO_MARK is Linux only")}
	}
}
