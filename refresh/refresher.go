package refresh

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshdns/meshdns/dnsengine"
)

// Learner takes the answers to refresh queries: *dnsengine.Engine.
type Learner interface {
	LearnRefresh(req dnsengine.RefreshRequest, msg []byte) dnsengine.CacheOutcome
}

// Stats are a Refresher's counters.
type Stats struct {
	Sent       uint64 // queries sent
	Dropped    uint64 // requests refused: queue full or too many in flight
	SendErrors uint64 // queries the socket would not send
	Timeouts   uint64 // queries left unanswered for Config.Timeout
	Unmatched  uint64 // datagrams that answer no query in flight (wrong ID or source)
	Learned    uint64 // answers the cache learned
	Rejected   uint64 // answers the cache refused (its counters say why)
}

// Refresher is the production dnsengine.Refresher.
type Refresher struct {
	cfg   Config
	conn  *net.UDPConn
	queue chan dnsengine.RefreshRequest

	mu      sync.Mutex
	pending map[uint16]inflight
	rng     *rand.ChaCha8

	sent, dropped, sendErrs, timeouts, unmatched, learned, rejected atomic.Uint64
}

type inflight struct {
	req      dnsengine.RefreshRequest
	to       netip.AddrPort
	deadline time.Time
}

// New opens the marked socket; Run serves it.
func New(cfg Config) (*Refresher, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	conn, err := listen(cfg.Port, cfg.Mark)
	if err != nil {
		return nil, err
	}
	var seed [32]byte
	_, _ = crand.Read(seed[:]) // never fails (crypto/rand panics instead)
	return &Refresher{
		cfg:     cfg,
		conn:    conn,
		queue:   make(chan dnsengine.RefreshRequest, cfg.QueueLen),
		pending: make(map[uint16]inflight, cfg.MaxInFlight),
		rng:     rand.NewChaCha8(seed),
	}, nil
}

// LocalPort is the socket's UDP port.
func (r *Refresher) LocalPort() uint16 {
	return r.conn.LocalAddr().(*net.UDPAddr).AddrPort().Port()
}

// Refresh queues req; it never blocks and returns false when the queue is
// full.
func (r *Refresher) Refresh(req dnsengine.RefreshRequest) bool {
	select {
	case r.queue <- req:
		return true
	default:
		r.dropped.Add(1)
		return false
	}
}

// Stats returns the counters.
func (r *Refresher) Stats() Stats {
	return Stats{
		Sent: r.sent.Load(), Dropped: r.dropped.Load(), SendErrors: r.sendErrs.Load(),
		Timeouts: r.timeouts.Load(), Unmatched: r.unmatched.Load(),
		Learned: r.learned.Load(), Rejected: r.rejected.Load(),
	}
}

// Run sends queued requests and hands their answers to l until ctx is
// done; it then closes the socket and returns nil.
func (r *Refresher) Run(ctx context.Context, l Learner) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.read(l)
	}()
	tick := time.NewTicker(max(r.cfg.Timeout/4, 10*time.Millisecond))
	defer tick.Stop()
	buf := make([]byte, 0, 512)
	for {
		select {
		case <-ctx.Done():
			r.conn.Close()
			<-done
			return nil
		case req := <-r.queue:
			r.send(buf, &req)
		case now := <-tick.C:
			r.expire(now)
		}
	}
}

func (r *Refresher) send(buf []byte, req *dnsengine.RefreshRequest) {
	to := netip.AddrPortFrom(req.Server.Unmap(), r.cfg.ServerPort)
	r.mu.Lock()
	if len(r.pending) >= r.cfg.MaxInFlight {
		r.mu.Unlock()
		r.dropped.Add(1)
		return
	}
	var id uint16
	for {
		id = uint16(r.rng.Uint64())
		if _, busy := r.pending[id]; !busy {
			break
		}
	}
	r.pending[id] = inflight{req: *req, to: to, deadline: time.Now().Add(r.cfg.Timeout)}
	r.mu.Unlock()
	q := appendQuery(buf[:0], id, req, r.cfg.EDNSSize)
	if _, err := r.conn.WriteToUDPAddrPort(q, to); err != nil {
		r.sendErrs.Add(1)
		r.cfg.Logger.Debug("refresh: send", "server", to, "name", req.NameString(), "err", err)
		r.mu.Lock()
		delete(r.pending, id)
		r.mu.Unlock()
		return
	}
	r.sent.Add(1)
}

func (r *Refresher) expire(now time.Time) {
	r.mu.Lock()
	for id, p := range r.pending {
		if now.After(p.deadline) {
			delete(r.pending, id)
			r.timeouts.Add(1)
		}
	}
	r.mu.Unlock()
}

// read takes answers until the socket is closed.
func (r *Refresher) read(l Learner) {
	buf := make([]byte, 65535)
	for {
		n, from, err := r.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			r.cfg.Logger.Debug("refresh: read", "err", err)
			continue
		}
		if n < 12 {
			r.unmatched.Add(1)
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		id := binary.BigEndian.Uint16(buf)
		r.mu.Lock()
		p, ok := r.pending[id]
		if ok && p.to == from {
			delete(r.pending, id)
		}
		r.mu.Unlock()
		if !ok || p.to != from {
			r.unmatched.Add(1)
			continue
		}
		o := l.LearnRefresh(p.req, buf[:n])
		if o == dnsengine.CacheLearned {
			r.learned.Add(1)
		} else {
			r.rejected.Add(1)
			r.cfg.Logger.Debug("refresh: answer not learned", "server", from, "name", p.req.NameString(), "outcome", o.String())
		}
	}
}

// Close closes the socket of a Refresher whose Run will not be called.
func (r *Refresher) Close() error { return r.conn.Close() }
