package exchange

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// server holds the pooled TCP connections to one nameserver.
type server struct {
	c        *Client
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

// tcpExchange asks out's question over TCP, on a pooled connection when
// one is idle, under a new ID; the answer gets query's ID. A pooled
// connection the server has closed meanwhile is replaced once. held is
// the answer's share of the byte budget.
func (s *server) tcpExchange(out, query []byte, q question) (resp []byte, held int, err error) {
	s.c.stats.tcp.Add(1)
	deadline := time.Now().Add(s.c.cfg.TCPTimeout)
	for try := 0; ; try++ {
		c, pooled, err := s.tcpConn(deadline)
		if err != nil {
			return nil, 0, err
		}
		id := newID()
		binary.BigEndian.PutUint16(out, id)
		resp, held, err := s.exchangeOn(c, out, id, q, deadline)
		if err == nil {
			s.putConn(c)
			copy(resp, query[:2])
			return resp, held, nil
		}
		c.Close()
		if !pooled || try > 0 || time.Now().After(deadline) || errors.Is(err, ErrBusy) {
			return nil, 0, err
		}
	}
}

// exchangeOn sends out on c and reads messages until one answers it (ID
// and question); others (a late answer to an earlier query, a spoof) are
// skipped. An answer is read only when the byte budget has room for it.
func (s *server) exchangeOn(c net.Conn, out []byte, id uint16, q question, deadline time.Time) ([]byte, int, error) {
	if err := c.SetDeadline(deadline); err != nil {
		return nil, 0, err
	}
	stop := context.AfterFunc(s.c.ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	msg := make([]byte, 2+len(out))
	binary.BigEndian.PutUint16(msg, uint16(len(out)))
	copy(msg[2:], out)
	if _, err := c.Write(msg); err != nil {
		return nil, 0, s.ioErr(err)
	}
	for {
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return nil, 0, s.ioErr(err)
		}
		n := int(binary.BigEndian.Uint16(l[:]))
		if !s.c.reserve(n) {
			return nil, 0, ErrBusy
		}
		resp := make([]byte, n)
		if _, err := io.ReadFull(c, resp); err != nil {
			s.c.unreserve(n)
			return nil, 0, s.ioErr(err)
		}
		if answers(resp, id, q) {
			return resp, n, nil
		}
		s.c.unreserve(n)
		s.c.stats.mismatched.Add(1)
	}
}

func (s *server) ioErr(err error) error {
	if s.c.ctx.Err() != nil {
		return ErrClosed
	}
	return fmt.Errorf("exchange: %w", err)
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
		if now.Sub(ic.since) > s.c.cfg.TCPIdle {
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
	s.c.stats.tcpDials.Add(1)
	c, err := s.c.cfg.Dial(ctx, "tcp", s.addr.String())
	if err != nil {
		return nil, false, fmt.Errorf("exchange: %w", err)
	}
	return c, false, nil
}

func (s *server) putConn(c net.Conn) {
	s.mu.Lock()
	if !s.closed && len(s.idle) < s.c.cfg.MaxIdleTCP {
		s.idle = append(s.idle, idleConn{c, time.Now()})
		c = nil
	}
	s.mu.Unlock()
	if c != nil {
		c.Close()
	}
}
