package loadgen

import (
	"context"
	"errors"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// pipeConn is one long-lived TCPPipe connection.
type pipeConn struct {
	server  netip.AddrPort
	timeout time.Duration

	// mu guards fd, broken and nextID, and serialises writes: the pacer
	// writes queries, the receiver replaces the connection.
	mu     sync.Mutex
	fd     int
	broken bool
	idTable

	// Receiver only.
	tally
	buf                            []byte // unframed bytes
	reconnects, resent, dialErrors int
}

// TCPPipe sends cfg.Queries (cycled) at cfg.Rate for cfg.Duration over
// cfg.Sockets long-lived TCP connections (round robin), pipelined: the
// pacer writes each query on schedule whatever is in flight, and one
// receiver per connection reads the answers in any order (RFC 7766) and
// matches them by ID. Latency runs from the scheduled time to the kernel's
// receive timestamp of the segment that completed the answer (when one read
// returns several answers, all get the time of its last segment).
//
// When the server closes or resets a connection (Istio's proxy, like every
// server built on miekg/dns's defaults, closes after 128 queries), the
// receiver opens a new one and sends the unanswered queries again, as an
// RFC 7766 client does; their latency still runs from their first
// schedule, and Reconnects and Resent count the cost. Queries scheduled
// while a connection is being replaced wait for it. A query not answered
// within cfg.Timeout is lost.
func TCPPipe(ctx context.Context, cfg Config) (*FixedResult, error) {
	n, templates, err := cfg.queries()
	if err != nil {
		return nil, err
	}
	conns := make([]*pipeConn, 0, cfg.Sockets)
	defer func() {
		for _, c := range conns {
			c.mu.Lock()
			if c.fd >= 0 {
				unix.Close(c.fd)
				c.fd = -1
			}
			c.mu.Unlock()
		}
	}()
	per := n/cfg.Sockets + 1
	for range cfg.Sockets {
		fd, err := dialTCP(cfg.Server, cfg.Timeout)
		if err != nil {
			return nil, err
		}
		c := &pipeConn{server: cfg.Server, timeout: cfg.Timeout, fd: fd}
		c.lat = make([]int64, 0, per)
		c.svc = make([]int64, 0, per)
		conns = append(conns, c)
	}

	var rs receivers
	rs.start(len(conns), func(i int) { conns[i].receive(templates, &rs) })

	res := &FixedResult{Target: cfg.Rate}
	sendBuf := make([]byte, 0, 512)
	lags, start := pace(ctx, cfg.Rate, n, func(i int, due time.Time) {
		c := conns[i%len(conns)]
		qi := i % len(templates)
		res.Sent++
		c.mu.Lock()
		defer c.mu.Unlock()
		id, _ := c.arm(qi, due, &rs.outstanding) // a wrapped ID's query is lost
		if c.broken {
			return // the receiver sends it on the new connection
		}
		sendBuf = appendFramedQuery(sendBuf[:0], templates[qi], id)
		if err := sendAll(c.fd, sendBuf); err != nil {
			res.SendErrors++
			c.breakLocked()
		}
	})
	elapsed := time.Since(start)
	rs.finish(ctx, cfg.Timeout)

	var all, svc []int64
	for _, c := range conns {
		all, svc = c.merge(res, all, svc)
		res.Reconnects += c.reconnects
		res.Resent += c.resent
		res.ConnErrors += c.dialErrors
	}
	res.Answered = len(all)
	res.Lost = res.Sent - res.Answered
	res.Connections = len(conns) + res.Reconnects
	res.Timing, res.Offered = timing(all, svc, lags, res.Sent, elapsed, cfg.Duration)
	return res, nil
}

// breakLocked marks the connection broken and wakes the receiver, which
// replaces it. c.mu is held.
func (c *pipeConn) breakLocked() {
	if c.broken {
		return
	}
	c.broken = true
	_ = unix.Shutdown(c.fd, unix.SHUT_RDWR)
}

// receive reads answers until rs is stopped, replacing the connection
// when the server closes it.
func (c *pipeConn) receive(templates [][]byte, rs *receivers) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rbuf := make([]byte, 128<<10)
	oob := make([]byte, 128)
	c.mu.Lock()
	fd := c.fd
	c.mu.Unlock()
	for !rs.stop.Load() {
		n, oobn, _, _, err := unix.Recvmsg(fd, rbuf, oob, 0)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue // SO_RCVTIMEO: check stop
		}
		if err != nil || n == 0 {
			fd = c.reconnect(templates, &rs.stop)
			continue
		}
		rx := arrival(oob[:oobn])
		data := rbuf[:n]
		if len(c.buf) > 0 {
			c.buf = append(c.buf, data...)
			data = c.buf
		}
		for {
			msg, rest, ok := NextFrame(data)
			if !ok {
				break
			}
			data = rest
			c.answer(msg, templates, rx, &rs.outstanding)
		}
		c.buf = append(c.buf[:0], data...)
	}
}

// answer matches one answer to its slot and records it.
func (c *pipeConn) answer(msg []byte, templates [][]byte, rx int64, outstanding *atomic.Int64) {
	r, due, sent, ok := c.take(msg, templates, outstanding)
	if !ok {
		return // not an answer, a duplicate (answered on the old connection too), or lost
	}
	if rx < sent {
		rx = sent // a timestamp of a segment read before a resend
	}
	c.record(r, due, sent, rx, c.timeout)
}

// reconnect replaces a connection the server closed or reset: it dials
// until it succeeds (or stop is set), then sends again every query still
// unanswered and not yet past the timeout, oldest first, and returns the
// new socket.
func (c *pipeConn) reconnect(templates [][]byte, stop *atomic.Bool) int {
	c.mu.Lock()
	c.broken = true
	if c.fd >= 0 {
		unix.Close(c.fd)
		c.fd = -1
	}
	c.mu.Unlock()
	c.buf = c.buf[:0]
	for {
		if stop.Load() {
			return -1
		}
		fd, err := dialTCP(c.server, c.timeout)
		if err != nil {
			c.dialErrors++
			time.Sleep(10 * time.Millisecond)
			continue
		}
		c.reconnects++
		c.mu.Lock()
		c.fd, c.broken = fd, false
		c.resendLocked(templates)
		c.mu.Unlock()
		return fd
	}
}

// resendLocked writes the unanswered queries of the last timeout again.
// IDs are given out in schedule order, so it walks back from the newest
// until the queries are older than the timeout. c.mu is held.
func (c *pipeConn) resendLocked(templates [][]byte) {
	cutoff := time.Now().Add(-c.timeout).UnixNano()
	var ids []uint16
	id := c.nextID
	for range len(c.slots) {
		id--
		sl := &c.slots[id]
		s := sl.sent.Load()
		if s == 0 || s < cutoff {
			break
		}
		if sl.due.Load() != 0 {
			ids = append(ids, id)
		}
	}
	slices.Reverse(ids)
	var b []byte
	for _, id := range ids {
		sl := &c.slots[id]
		b = appendFramedQuery(b[:0], templates[sl.q.Load()], id)
		sl.sent.Store(time.Now().UnixNano())
		if err := sendAll(c.fd, b); err != nil {
			c.breakLocked()
			return
		}
		c.resent++
	}
}
