package refresh

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// listen opens the refresh socket: UDP on all addresses (both families
// where the kernel has IPv6), marked with mark when it is not zero.
func listen(port uint16, mark uint32) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		if mark == 0 {
			return nil
		}
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK, int(mark))
		}); err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("SO_MARK %#x: %w", mark, serr)
		}
		return nil
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp", ":"+strconv.Itoa(int(port)))
	if err != nil {
		return nil, fmt.Errorf("refresh: listen: %w", err)
	}
	return pc.(*net.UDPConn), nil
}
