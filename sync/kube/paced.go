package kube

import (
	"context"
	"net"
	"sync/atomic"
	"time"
)

// Reads from the API server are paced. Under churn each watch event
// arrives alone (the API server flushes every event), and reading it at
// once costs the whole process waking up: netpoll readies the reading
// goroutine, sysmon leaves its deep sleep, each goroutine the event is
// handed to (HTTP/2 read loop, watch decoder, reflector) wakes a second
// thread that spins and parks again. That was 45 % of meshdns's CPU at
// 500 EndpointSlice updates a second, the event's own work (decoding,
// Apply) less than half (bench/results/nametable/churn-session12).
//
// A paced connection lets the bytes gather in the socket instead: once a
// read has emptied the socket, the next read waits until a pacing
// interval has passed since, and then takes everything that came
// meanwhile. The process wakes once an interval for all the events of
// that interval, whatever the rate, and an event waits at most about one
// interval more (DefaultReadPacing is shorter than the source's debounce,
// DefaultDebounce, that follows). A read that filled its buffer did not
// empty the socket and is followed at once, and the first read after a
// quiet time is not held back.
//
// Pacing is for watch events only. A large response read paced gets a
// socket's buffer an interval (the sender stops while the buffer is
// full: about 3 MB/s), and a request's answer would wait out the interval
// its connection's last read started. So the pacer is held (off) until
// the source has synced, while any request but a watch is answered
// (apiTransport: lists, their pages, discovery), and while a watcher
// relists, from the start of its list or watch-list until the list is
// handed over (Replace). Left paced, at one socket's buffer an interval:
// a single large event, and a watch-list of the ServiceEntry informers
// after a relist (their objects are few, and client-go's informer shows no
// list's end).

// pacer holds the pacing of the connections one dialer made.
type pacer struct {
	interval time.Duration
	// held counts the reasons not to pace now; pacing is on at 0.
	held atomic.Int32
	// sleep and now are time.Sleep and time.Now, but in tests.
	sleep func(time.Duration)
	now   func() time.Time
}

// newPacer returns a pacer of interval, held once: until the source
// has synced.
func newPacer(interval time.Duration) *pacer {
	p := &pacer{interval: interval, sleep: time.Sleep, now: time.Now}
	p.held.Store(1)
	return p
}

// hold stops the pacing until release is called as many times. Both do
// nothing on a nil pacer (reads not paced).
func (p *pacer) hold() {
	if p != nil {
		p.held.Add(1)
	}
}

func (p *pacer) release() {
	if p != nil {
		p.held.Add(-1)
	}
}

// dial wraps next (nil: a net.Dialer as client-go's transport has it) so
// that its connections are paced.
func (p *pacer) dial(next func(ctx context.Context, network, address string) (net.Conn, error)) func(ctx context.Context, network, address string) (net.Conn, error) {
	if next == nil {
		next = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		c, err := next(ctx, network, address)
		if err != nil {
			return nil, err
		}
		return &pacedConn{Conn: c, p: p}, nil
	}
}

// pacedConn is a connection whose reads are paced by p. Its reads come
// from one goroutine at a time (the TLS layer's or HTTP's reader), as
// net.Conn's do in practice; emptied is that reader's.
type pacedConn struct {
	net.Conn
	p *pacer
	// emptied is when the last read returned less than it was asked
	// for: it took all the socket held. Zero after a full read.
	emptied time.Time
}

func (c *pacedConn) Read(b []byte) (int, error) {
	if !c.emptied.IsZero() && c.p.held.Load() == 0 {
		if wait := c.p.interval - c.p.now().Sub(c.emptied); wait > 0 {
			c.p.sleep(wait)
		}
	}
	n, err := c.Conn.Read(b)
	if n < len(b) {
		c.emptied = c.p.now()
	} else {
		c.emptied = time.Time{}
	}
	return n, err
}
