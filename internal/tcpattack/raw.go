package tcpattack

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/meshdns/meshdns/internal/netns"
)

// RawSender sends whole IP packets, headers written by the caller, from
// inside a network namespace.
type RawSender struct{ fd4, fd6 int }

// NewRawSender opens raw IPv4 and IPv6 sockets in ns (CAP_NET_RAW).
func NewRawSender(ns string) (*RawSender, error) {
	s := &RawSender{fd4: -1, fd6: -1}
	err := netns.Do(ns, func() error {
		var err error
		if s.fd4, err = unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW); err != nil {
			return err
		}
		if s.fd6, err = unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW); err != nil {
			return err
		}
		return unix.SetsockoptInt(s.fd6, unix.IPPROTO_IPV6, unix.IPV6_HDRINCL, 1)
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Send sends pkt, an IPv4 or IPv6 packet to dst.
func (s *RawSender) Send(pkt []byte, dst netip.Addr) error {
	if dst.Is4() {
		return unix.Sendto(s.fd4, pkt, 0, &unix.SockaddrInet4{Addr: dst.As4()})
	}
	return unix.Sendto(s.fd6, pkt, 0, &unix.SockaddrInet6{Addr: dst.As16()})
}

// Close closes the sockets.
func (s *RawSender) Close() {
	for _, fd := range []int{s.fd4, s.fd6} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}
