package forward

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// server holds the pooled TCP connections to one nameserver.
type server struct {
	f        *Forwarder
	addr     netip.AddrPort
	lastUsed atomic.Int64 // unix nanoseconds

	mu     sync.Mutex
	idle   []idleConn
	closed bool
}

type idleConn struct {
	c     net.Conn
	since time.Time
}

func (s *server) close() {
	s.mu.Lock()
	s.closed = true
	idle := s.idle
	s.idle = nil
	s.mu.Unlock()
	for _, c := range idle {
		c.c.Close()
	}
}

// udpSock is one of the forwarder's UDP sockets, with the queries waiting
// on it by nameserver and the ID they were sent with.
type udpSock struct {
	conn    *net.UDPConn
	mu      sync.Mutex
	waiting map[waitKey]*udpWait
}

type waitKey struct {
	server netip.AddrPort
	id     uint16
}

type udpWait struct {
	question []byte // the query's question section, to match the answer
	ch       chan []byte
}

// listenUDP opens the forwarder's UDP sockets: dual-stack where the
// system allows, on the configured ports or free ones.
func listenUDP(cfg Config) ([]*udpSock, error) {
	lc := net.ListenConfig{Control: control(cfg.Mark)}
	var socks []*udpSock
	for i := range cfg.UDPSockets {
		port := 0
		if i < len(cfg.Ports) {
			port = int(cfg.Ports[i])
		}
		var pc net.PacketConn
		var err error
		for _, network := range []string{"udp", "udp4"} {
			pc, err = lc.ListenPacket(context.Background(), network, fmt.Sprintf(":%d", port))
			if err == nil {
				break
			}
		}
		if err != nil {
			for _, u := range socks {
				u.conn.Close()
			}
			return nil, fmt.Errorf("forward: %w", err)
		}
		socks = append(socks, &udpSock{conn: pc.(*net.UDPConn), waiting: make(map[waitKey]*udpWait)})
	}
	return socks, nil
}

// read hands each answer to the query waiting for its server, ID and
// question, until the socket is closed.
func (u *udpSock) read(wg *sync.WaitGroup) {
	defer wg.Done()
	buf := make([]byte, 65535)
	for {
		n, from, err := u.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // an ICMP error report, say: the query times out
		}
		if n < 12 || buf[2]&0x80 == 0 {
			continue
		}
		k := waitKey{netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), binary.BigEndian.Uint16(buf)}
		u.mu.Lock()
		w := u.waiting[k]
		if w != nil && matches(buf[:n], w.question) {
			delete(u.waiting, k)
		} else {
			w = nil
		}
		u.mu.Unlock()
		if w != nil {
			w.ch <- append([]byte(nil), buf[:n]...)
		}
	}
}

// matches reports whether resp answers the question q (the section's
// bytes; names compared without regard to ASCII case). An answer without
// a question (FORMERR, say) matches by ID alone.
func matches(resp, q []byte) bool {
	if binary.BigEndian.Uint16(resp[4:]) == 0 {
		return true
	}
	if len(resp) < 12+len(q) {
		return false
	}
	for i, b := range q {
		c := resp[12+i]
		if c != b && lower(c) != lower(b) {
			return false
		}
	}
	return true
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// udpExchange makes one UDP attempt, on the next socket in turn. The
// query goes out under a random ID; the answer comes back with the
// query's.
func (s *server) udpExchange(query []byte, qEnd int) ([]byte, error) {
	f := s.f
	u := f.udp[int(f.next.Add(1))%len(f.udp)]
	f.stats.udp.Add(1)
	msg := append([]byte(nil), query...)
	w := &udpWait{question: query[12:qEnd], ch: make(chan []byte, 1)}
	k := waitKey{server: netip.AddrPortFrom(s.addr.Addr().Unmap(), s.addr.Port())}
	u.mu.Lock()
	for {
		k.id = uint16(rand.Uint32())
		if u.waiting[k] == nil {
			break
		}
	}
	u.waiting[k] = w
	u.mu.Unlock()
	binary.BigEndian.PutUint16(msg, k.id)
	forget := func() {
		u.mu.Lock()
		if u.waiting[k] == w {
			delete(u.waiting, k)
		}
		u.mu.Unlock()
	}
	if _, err := u.conn.WriteToUDPAddrPort(msg, s.addr); err != nil {
		forget()
		return nil, fmt.Errorf("forward: %w", err)
	}
	t := time.NewTimer(f.cfg.Timeout)
	defer t.Stop()
	select {
	case resp := <-w.ch:
		copy(resp, query[:2])
		return resp, nil
	case <-t.C:
		forget()
		return nil, ErrTimeout
	case <-f.done:
		forget()
		return nil, ErrClosed
	}
}

// tcpExchange asks over TCP, on a pooled connection when one is idle. A
// pooled connection the server has closed meanwhile is replaced once.
func (s *server) tcpExchange(query []byte) ([]byte, error) {
	s.f.stats.tcp.Add(1)
	deadline := time.Now().Add(s.f.cfg.TCPTimeout)
	for try := 0; ; try++ {
		c, pooled, err := s.tcpConn(deadline)
		if err != nil {
			return nil, err
		}
		resp, err := exchangeOn(c, query, deadline)
		if err == nil {
			s.putConn(c)
			return resp, nil
		}
		c.Close()
		if !pooled || try > 0 || time.Now().After(deadline) {
			return nil, err
		}
	}
}

func exchangeOn(c net.Conn, query []byte, deadline time.Time) ([]byte, error) {
	if err := c.SetDeadline(deadline); err != nil {
		return nil, err
	}
	out := make([]byte, 2+len(query))
	binary.BigEndian.PutUint16(out, uint16(len(query)))
	copy(out[2:], query)
	if _, err := c.Write(out); err != nil {
		return nil, fmt.Errorf("forward: %w", err)
	}
	for {
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return nil, fmt.Errorf("forward: %w", err)
		}
		resp := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, resp); err != nil {
			return nil, fmt.Errorf("forward: %w", err)
		}
		if len(resp) >= 12 && resp[0] == query[0] && resp[1] == query[1] {
			return resp, nil
		}
		// A late answer to an earlier query on this connection: skip it.
	}
}

// tcpConn returns an idle connection, or a new one.
func (s *server) tcpConn(deadline time.Time) (net.Conn, bool, error) {
	now := time.Now()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, false, ErrClosed
	}
	var stale []net.Conn
	var c net.Conn
	for len(s.idle) > 0 && c == nil {
		ic := s.idle[len(s.idle)-1]
		s.idle = s.idle[:len(s.idle)-1]
		if now.Sub(ic.since) > s.f.cfg.TCPIdle {
			stale = append(stale, ic.c)
			continue
		}
		c = ic.c
	}
	s.mu.Unlock()
	for _, sc := range stale {
		sc.Close()
	}
	if c != nil {
		return c, true, nil
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	s.f.stats.tcpDials.Add(1)
	c, err := s.f.dialer.DialContext(ctx, "tcp", s.addr.String())
	if err != nil {
		return nil, false, fmt.Errorf("forward: %w", err)
	}
	return c, false, nil
}

func (s *server) putConn(c net.Conn) {
	s.mu.Lock()
	if !s.closed && len(s.idle) < s.f.cfg.MaxIdleTCP {
		s.idle = append(s.idle, idleConn{c, time.Now()})
		c = nil
	}
	s.mu.Unlock()
	if c != nil {
		c.Close()
	}
}
