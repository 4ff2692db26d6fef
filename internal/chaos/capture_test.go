package chaos_test

import (
	"bytes"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/netns"
	"golang.org/x/sys/unix"
)

// capture records every packet arriving on an interface of a namespace
// (an AF_PACKET socket, network layer on): what the upstream side of the
// veth received, before its own stack drops anything (bad checksums
// included).
type capture struct {
	fd   int
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	pkts [][]byte
}

const ethPAll = 0x0003 // ETH_P_ALL

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// startCapture starts capturing on ifname in ns until the test ends.
func startCapture(t *testing.T, ns, ifname string) *capture {
	t.Helper()
	c := &capture{stop: make(chan struct{}), done: make(chan struct{})}
	err := netns.Do(ns, func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(htons(ethPAll)))
		if err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(ethPAll), Ifindex: ifi.Index}); err != nil {
			unix.Close(fd)
			return err
		}
		tv := unix.NsecToTimeval(int64(50 * time.Millisecond))
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			unix.Close(fd)
			return err
		}
		c.fd = fd
		return nil
	})
	if err != nil {
		t.Fatalf("capture on %s in %s: %v", ifname, ns, err)
	}
	go c.run()
	t.Cleanup(c.close)
	return c
}

func (c *capture) run() {
	defer close(c.done)
	buf := make([]byte, 65536)
	for {
		select {
		case <-c.stop:
			return
		default:
		}
		n, from, err := unix.Recvfrom(c.fd, buf, 0)
		if err != nil {
			continue // the timeout, to look at stop
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		c.mu.Lock()
		c.pkts = append(c.pkts, bytes.Clone(buf[:n]))
		c.mu.Unlock()
	}
}

func (c *capture) close() {
	select {
	case <-c.stop:
		return
	default:
	}
	close(c.stop)
	<-c.done
	unix.Close(c.fd)
}

// packets returns a copy of what was captured so far.
func (c *capture) packets() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.pkts...)
}

// has reports whether a packet equal to p was captured.
func (c *capture) has(p []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, q := range c.pkts {
		if bytes.Equal(p, q) {
			return true
		}
	}
	return false
}

// waitFor waits up to timeout for a packet satisfying match.
func (c *capture) waitFor(timeout time.Duration, match func([]byte) bool) []byte {
	deadline := time.Now().Add(timeout)
	for {
		for _, q := range c.packets() {
			if match(q) {
				return q
			}
		}
		if time.Now().After(deadline) {
			return nil
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// udpPayload returns the UDP payload of an IPv4 or IPv6 (no extension
// header) packet, and its destination port; ok is false for anything else.
func udpPayload(p []byte) (payload []byte, dport uint16, ok bool) {
	if len(p) < 1 {
		return nil, 0, false
	}
	var l4 int
	switch p[0] >> 4 {
	case 4:
		if len(p) < 20 || p[9] != unix.IPPROTO_UDP || p[6]&0x3f != 0 || p[7] != 0 {
			return nil, 0, false
		}
		l4 = int(p[0]&0x0f) * 4
	case 6:
		if len(p) < 40 || p[6] != unix.IPPROTO_UDP {
			return nil, 0, false
		}
		l4 = 40
	default:
		return nil, 0, false
	}
	if len(p) < l4+8 {
		return nil, 0, false
	}
	return p[l4+8:], uint16(p[l4+2])<<8 | uint16(p[l4+3]), true
}
