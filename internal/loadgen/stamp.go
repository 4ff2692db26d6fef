package loadgen

import (
	"net"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// timestamps asks the kernel to stamp what socket fd receives with its
// arrival time (SO_TIMESTAMPNS; on a TCP socket, the last segment read).
func timestamps(fd int) error {
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
}

// enableTimestamps is timestamps for a Go socket.
func enableTimestamps(c *net.UDPConn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = timestamps(int(fd)) }); err != nil {
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
	return n, time.Unix(0, arrival(oob[:oobn])), nil
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
	return n, time.Unix(0, arrival(oob[:oobn])), nil
}

// arrival is when what was just read with control messages oob arrived
// (Unix ns): the kernel's timestamp, or now when there is none or it lies
// in the future.
func arrival(oob []byte) int64 {
	now := time.Now().UnixNano()
	if rx := rxTimestamp(oob); rx != 0 && rx <= now {
		return rx
	}
	return now
}

// rxTimestamp returns the SCM_TIMESTAMPNS value in oob as Unix ns, or 0.
func rxTimestamp(oob []byte) int64 {
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || l > len(oob) {
			return 0
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && l >= unix.CmsgLen(int(unsafe.Sizeof(unix.Timespec{}))) {
			ts := (*unix.Timespec)(unsafe.Pointer(&oob[unix.CmsgLen(0)]))
			return ts.Nano()
		}
		oob = oob[unix.CmsgSpace(l-unix.CmsgLen(0)):]
	}
	return 0
}
