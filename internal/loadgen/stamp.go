package loadgen

import (
	"encoding/binary"
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// enableTimestamps asks the kernel to stamp each datagram c receives with
// its arrival time (SO_TIMESTAMPNS).
func enableTimestamps(c *net.UDPConn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1) }); err != nil {
		return err
	}
	return serr
}

// readStamped reads one datagram and its arrival time (now when the kernel
// gave none).
func readStamped(c *net.UDPConn, buf, oob []byte, stamped bool) (int, time.Time, error) {
	if !stamped {
		n, err := c.Read(buf)
		return n, time.Now(), err
	}
	n, oobn, _, _, err := c.ReadMsgUDP(buf, oob)
	if err != nil {
		return 0, time.Time{}, err
	}
	return n, arrival(oob[:oobn]), nil
}

// drainOne reads one datagram already waiting in c without blocking; it
// fails (EAGAIN) when there is none. c must have no read deadline.
func drainOne(c *net.UDPConn, buf, oob []byte, stamped bool) (int, time.Time, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, time.Time{}, err
	}
	var n, oobn int
	var rerr error
	if err := rc.Read(func(fd uintptr) bool {
		n, oobn, _, _, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_DONTWAIT)
		return true
	}); err != nil {
		return 0, time.Time{}, err
	}
	if rerr != nil {
		return 0, time.Time{}, rerr
	}
	if !stamped {
		return n, time.Now(), nil
	}
	return n, arrival(oob[:oobn]), nil
}

// arrival finds the SCM_TIMESTAMPNS control message in oob.
func arrival(oob []byte) time.Time {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err == nil {
		for _, m := range msgs {
			if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
				sec := int64(binary.NativeEndian.Uint64(m.Data[0:8]))
				nsec := int64(binary.NativeEndian.Uint64(m.Data[8:16]))
				return time.Unix(sec, nsec)
			}
		}
	}
	return time.Now()
}
