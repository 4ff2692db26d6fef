package loadgen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// DNS over TCP (RFC 7766): every message is preceded by its length, two
// bytes, big-endian.

// MaxTCPConnEvents caps Rate*Duration for TCPConn: every connection keeps
// its state until the run ends.
const MaxTCPConnEvents = 1_000_000

// AppendFrame appends msg with its two-byte length prefix to dst.
func AppendFrame(dst, msg []byte) ([]byte, error) {
	if len(msg) > 0xffff {
		return nil, fmt.Errorf("loadgen: %d-byte message does not fit a TCP frame", len(msg))
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(msg)))
	return append(dst, msg...), nil
}

// NextFrame splits the first whole length-prefixed message off a TCP
// stream: msg is the message without its prefix, rest what follows it.
// ok is false, and rest is b, when b does not hold a whole message yet.
func NextFrame(b []byte) (msg, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, b, false
	}
	n := int(binary.BigEndian.Uint16(b))
	if len(b) < 2+n {
		return nil, b, false
	}
	return b[2 : 2+n], b[2+n:], true
}

// sockaddr returns the unix sockaddr and address family of ap.
func sockaddr(ap netip.AddrPort) (unix.Sockaddr, int) {
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}, unix.AF_INET
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}, unix.AF_INET6
}

// tcpSocket opens a non-blocking TCP socket with kernel receive
// timestamps and Nagle off (queries go out at once, as Go's and most stub
// resolvers' TCP clients send them).
func tcpSocket(fam int) (int, error) {
	fd, err := unix.Socket(fam, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if err := timestamps(fd); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// dialTCP connects a blocking TCP socket to server within timeout. Reads
// time out after 100 ms (so that a receiver can check for the end of the
// run), writes after timeout.
func dialTCP(server netip.AddrPort, timeout time.Duration) (int, error) {
	sa, fam := sockaddr(server)
	fd, err := tcpSocket(fam)
	if err != nil {
		return -1, err
	}
	fail := func(err error) (int, error) {
		unix.Close(fd)
		return -1, err
	}
	if err := unix.Connect(fd, sa); err != nil && !errors.Is(err, unix.EINPROGRESS) {
		return fail(err)
	}
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	deadline := time.Now().Add(timeout)
	for {
		ms := int(time.Until(deadline) / time.Millisecond)
		if ms <= 0 {
			return fail(unix.ETIMEDOUT)
		}
		n, err := unix.Poll(pfd, ms)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fail(err)
		}
		if n > 0 {
			break
		}
	}
	if serr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR); err != nil || serr != 0 {
		if err == nil {
			err = unix.Errno(serr)
		}
		return fail(err)
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		return fail(err)
	}
	rtv := unix.NsecToTimeval(int64(100 * time.Millisecond))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &rtv); err != nil {
		return fail(err)
	}
	wtv := unix.NsecToTimeval(int64(timeout))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &wtv); err != nil {
		return fail(err)
	}
	return fd, nil
}

// sendAll writes b to a stream socket in one call without raising
// SIGPIPE; a short write is an error (the stream can no longer be framed).
func sendAll(fd int, b []byte) error {
	n, err := unix.SendmsgN(fd, b, nil, nil, unix.MSG_NOSIGNAL)
	if err != nil {
		return err
	}
	if n != len(b) {
		return fmt.Errorf("loadgen: short write (%d of %d bytes)", n, len(b))
	}
	return nil
}

// streamRx returns the receive time of bytes just read from a TCP socket:
// the kernel's timestamp of the last segment read (SO_TIMESTAMPNS), or now
// when there is none or it is implausible (before the query was sent, or
// in the future).
func streamRx(oob []byte, sent int64) int64 {
	if rx := arrival(oob); rx >= sent {
		return rx
	}
	return time.Now().UnixNano()
}

// appendFramedQuery appends template t with ID id, length-prefixed.
func appendFramedQuery(dst, t []byte, id uint16) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(t)))
	off := len(dst)
	dst = append(dst, t...)
	setID(dst[off:], id)
	return dst
}
