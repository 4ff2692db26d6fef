package loadgen

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/meshdns/meshdns/internal/loadgen/stats"
)

// Phases of a TCPConn connection.
const (
	connPending int32 = iota // connect() issued
	connQueried              // query written, waiting for the answer
	connDone                 // answered, failed or expired; socket closed
)

// connState is one TCPConn query and its connection. The pacer fills it in
// before it hands the socket to the poller (through epoll), the poller
// alone uses it afterwards.
type connState struct {
	fd    atomic.Int32
	q     atomic.Int32
	due   atomic.Int64 // scheduled send (Unix ns)
	sent  atomic.Int64 // connect() issued (Unix ns)
	phase atomic.Int32
	// partial holds the start of an answer split across reads (poller
	// only).
	partial []byte
}

// TCPConn sends cfg.Queries (cycled) at cfg.Rate for cfg.Duration, each on
// a new TCP connection: connect, write the query, read the answer, close
// (the client closes first, as a stub resolver does). The pacer issues the
// non-blocking connect() on schedule; one poller thread (epoll) writes each
// query once its connection is up and reads the answer. Latency runs from
// the scheduled time to the kernel's receive timestamp of the answer, so it
// includes the handshake; ServiceLatency from the connect() call. A query
// whose connection fails, is reset or closed before the answer, or that is
// not answered within cfg.Timeout is lost.
func TCPConn(ctx context.Context, cfg Config) (*FixedResult, error) {
	n, templates, err := cfg.queries()
	if err != nil {
		return nil, err
	}
	if n > MaxTCPConnEvents {
		return nil, fmt.Errorf("loadgen: %d connections: more than %d", n, MaxTCPConnEvents)
	}
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("loadgen: epoll: %w", err)
	}
	defer unix.Close(ep)

	p := &connPoller{
		ep:        ep,
		states:    make([]connState, n),
		templates: templates,
		timeout:   cfg.Timeout,
		done:      make(chan struct{}),
	}
	p.lat = make([]int64, 0, n)
	p.svc = make([]int64, 0, n)
	go p.run()

	sa, fam := sockaddr(cfg.Server)
	res := &FixedResult{Target: cfg.Rate}
	lags, start := pace(ctx, cfg.Rate, n, func(i int, due time.Time) {
		res.Sent++
		c := &p.states[i]
		c.q.Store(int32(i % len(templates)))
		c.due.Store(due.UnixNano())
		defer p.fired.Store(int64(i + 1))
		fd, err := tcpSocket(fam)
		if err != nil {
			c.phase.Store(connDone)
			p.connErrors.Add(1)
			return
		}
		c.fd.Store(int32(fd))
		c.sent.Store(time.Now().UnixNano())
		if err := unix.Connect(fd, sa); err != nil && !errors.Is(err, unix.EINPROGRESS) {
			unix.Close(fd)
			c.phase.Store(connDone)
			p.connErrors.Add(1)
			return
		}
		p.opened.Add(1)
		ev := unix.EpollEvent{Events: unix.EPOLLOUT, Fd: int32(i)}
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			unix.Close(fd)
			c.phase.Store(connDone)
			p.connErrors.Add(1)
		}
	})
	elapsed := time.Since(start)
	p.paced.Store(true)
	<-p.done // within cfg.Timeout of the last connect: the poller expires the rest
	if p.err != nil {
		return nil, p.err
	}

	var all, svc []int64
	all, svc = p.merge(res, all, svc)
	res.Answered = len(all)
	res.Lost = res.Sent - res.Answered
	res.Connections = int(p.opened.Load())
	res.ConnErrors = int(p.connErrors.Load())
	cl := stats.Summarize(p.connect)
	res.ConnectLatency = &cl
	res.Timing, res.Offered = timing(all, svc, lags, res.Sent, elapsed, cfg.Duration)
	return res, nil
}

// connPoller is TCPConn's epoll thread.
type connPoller struct {
	ep        int
	states    []connState
	templates [][]byte
	timeout   time.Duration
	// fired is how many states the pacer has filled in; paced is set when
	// it has finished.
	fired              atomic.Int64
	paced              atomic.Bool
	opened, connErrors atomic.Int64
	done               chan struct{}
	err                error

	// Poller only.
	tally
	connect []int64
	oldest  int
	sendBuf []byte
	rbuf    []byte
	oob     []byte
}

func (p *connPoller) run() {
	defer close(p.done)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p.rbuf = make([]byte, 64<<10)
	p.oob = make([]byte, 128)
	p.sendBuf = make([]byte, 0, 512)
	events := make([]unix.EpollEvent, 256)
	for {
		nev, err := unix.EpollWait(p.ep, events, 10)
		if err != nil && !errors.Is(err, unix.EINTR) {
			p.err = fmt.Errorf("loadgen: epoll_wait: %w", err)
			p.closeAll()
			return
		}
		for k := 0; k < nev; k++ {
			p.handle(int(events[k].Fd), events[k].Events)
		}
		// Expire connections past the timeout, oldest first (they were
		// scheduled in order).
		now := time.Now().UnixNano()
		fired := int(p.fired.Load())
		for ; p.oldest < fired; p.oldest++ {
			c := &p.states[p.oldest]
			if c.phase.Load() == connDone {
				continue
			}
			if now-c.due.Load() <= int64(p.timeout) {
				break
			}
			p.finish(c)
		}
		if p.paced.Load() && p.oldest >= int(p.fired.Load()) {
			return
		}
	}
}

// closeAll closes every connection still open.
func (p *connPoller) closeAll() {
	fired := int(p.fired.Load())
	for i := p.oldest; i < fired; i++ {
		if c := &p.states[i]; c.phase.Load() != connDone {
			p.finish(c)
		}
	}
}

// finish closes c's socket (which also removes it from epoll).
func (p *connPoller) finish(c *connState) {
	unix.Close(int(c.fd.Load()))
	c.phase.Store(connDone)
	c.partial = nil
}

func (p *connPoller) fail(c *connState) {
	p.connErrors.Add(1)
	p.finish(c)
}

func (p *connPoller) handle(i int, events uint32) {
	if i < 0 || i >= len(p.states) {
		return
	}
	c := &p.states[i]
	fd := int(c.fd.Load())
	switch c.phase.Load() {
	case connPending:
		if serr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR); err != nil || serr != 0 {
			p.fail(c) // refused, reset, unreachable
			return
		}
		if events&unix.EPOLLOUT == 0 {
			if events&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
				p.fail(c)
			}
			return
		}
		now := time.Now().UnixNano()
		p.connect = append(p.connect, now-c.sent.Load())
		p.sendBuf = appendFramedQuery(p.sendBuf[:0], p.templates[c.q.Load()], uint16(i))
		if err := sendAll(fd, p.sendBuf); err != nil {
			p.fail(c)
			return
		}
		c.phase.Store(connQueried)
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(i)}
		if err := unix.EpollCtl(p.ep, unix.EPOLL_CTL_MOD, fd, &ev); err != nil {
			p.fail(c)
		}
	case connQueried:
		p.read(c, i, fd)
	}
}

// read reads what the connection has; a whole answer finishes it.
func (p *connPoller) read(c *connState, i, fd int) {
	for {
		n, oobn, _, _, err := unix.Recvmsg(fd, p.rbuf, p.oob, unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			return
		}
		if err != nil || n == 0 {
			p.fail(c) // reset, or closed before the answer
			return
		}
		sent := c.sent.Load()
		rx := streamRx(p.oob[:oobn], sent)
		data := p.rbuf[:n]
		if len(c.partial) > 0 {
			c.partial = append(c.partial, data...)
			data = c.partial
		}
		msg, _, ok := NextFrame(data)
		if !ok {
			if len(c.partial) == 0 {
				c.partial = append([]byte(nil), data...)
			}
			continue
		}
		var id [2]byte
		id[0], id[1] = byte(uint16(i)>>8), byte(uint16(i))
		r, err := parseWithID(msg, p.templates[c.q.Load()], id)
		if err != nil {
			p.fail(c) // not the answer to this query
			return
		}
		p.record(r, c.due.Load(), sent, rx, p.timeout)
		p.finish(c)
		return
	}
}
