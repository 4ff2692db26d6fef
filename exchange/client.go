package exchange

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshdns/meshdns/dnsengine/cache"
)

// Errors an exchange can fail with.
var (
	ErrBusy      = errors.New("exchange: too many queries or bytes in flight")
	ErrClosed    = errors.New("exchange: client closed")
	ErrTimeout   = errors.New("exchange: no answer")
	ErrMalformed = errors.New("exchange: not a DNS query")
)

// markError says the socket mark could not be set (no CAP_NET_ADMIN).
type markError struct{ err error }

func (e *markError) Error() string { return "exchange: set SO_MARK: " + e.err.Error() }
func (e *markError) Unwrap() error { return e.err }

// Client makes meshdns's own exchanges with nameservers. It implements
// tcpstack.Forwarder and cache.Refresher.
type Client struct {
	cfg    Config
	log    *slog.Logger
	fwdSem chan struct{} // forwarded queries in flight
	refSem chan struct{} // refreshes in flight
	bytes  atomic.Int64  // bytes held by exchanges in flight
	queue  chan cache.RefreshRequest

	ctx    context.Context // done when the Client is closed
	cancel context.CancelFunc

	mu      sync.Mutex
	servers map[netip.AddrPort]*server
	closed  bool
	wg      sync.WaitGroup

	stats stats
}

// Stats counts what a Client did.
type Stats struct {
	Queries    uint64 // Forward calls
	UDP        uint64 // UDP attempts (forwarded queries and refreshes)
	TCP        uint64 // TCP exchanges
	Truncated  uint64 // UDP answers with TC set (or larger than asked for), asked again over TCP
	Timeouts   uint64 // UDP attempts without an answer
	Failures   uint64 // forwarded queries that ended in an error
	Busy       uint64 // forwarded queries refused past MaxInFlight or MaxBytes
	TCPDials   uint64 // TCP connections opened
	Mismatched uint64 // messages that answer no query of ours (another ID or question): discarded
	// Refreshes.
	Refreshes      uint64 // refresh queries sent
	RefreshDropped uint64 // refresh requests refused: queue full, MaxRefreshes or MaxBytes
	Learned        uint64 // refresh answers the cache learned
	Rejected       uint64 // refresh answers the cache refused (its counters say why)
}

type stats struct {
	queries, udp, tcp, truncated, timeouts, failures, busy, tcpDials, mismatched atomic.Uint64
	refreshes, refreshDropped, learned, rejected                                 atomic.Uint64
}

// New returns a Client; Close ends its exchanges.
func New(cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		cfg:     cfg,
		log:     cfg.Logger,
		fwdSem:  make(chan struct{}, cfg.MaxInFlight),
		refSem:  make(chan struct{}, cfg.MaxRefreshes),
		queue:   make(chan cache.RefreshRequest, cfg.RefreshQueue),
		ctx:     ctx,
		cancel:  cancel,
		servers: make(map[netip.AddrPort]*server),
	}
	c.wg.Add(1)
	go c.janitor()
	return c, nil
}

// Stats returns the counters.
func (c *Client) Stats() Stats {
	s := &c.stats
	return Stats{Queries: s.queries.Load(), UDP: s.udp.Load(), TCP: s.tcp.Load(), Truncated: s.truncated.Load(),
		Timeouts: s.timeouts.Load(), Failures: s.failures.Load(), Busy: s.busy.Load(), TCPDials: s.tcpDials.Load(),
		Mismatched: s.mismatched.Load(), Refreshes: s.refreshes.Load(), RefreshDropped: s.refreshDropped.Load(),
		Learned: s.learned.Load(), Rejected: s.rejected.Load()}
}

// BytesInFlight returns the bytes held by exchanges in flight now.
func (c *Client) BytesInFlight() int { return int(c.bytes.Load()) }

// Close ends the exchanges in flight (forwarded queries fail with
// ErrClosed) and waits for their callbacks to return.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.cancel()
	servers := c.servers
	c.servers = nil
	c.mu.Unlock()
	for _, s := range servers {
		s.close()
	}
	c.wg.Wait()
	return nil
}

// start counts an exchange in c.wg unless c is closed.
func (c *Client) start() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	return true
}

// reserve takes n bytes of the budget, or returns false.
func (c *Client) reserve(n int) bool {
	for {
		cur := c.bytes.Load()
		if cur+int64(n) > int64(c.cfg.MaxBytes) {
			return false
		}
		if c.bytes.CompareAndSwap(cur, cur+int64(n)) {
			return true
		}
	}
}

func (c *Client) unreserve(n int) { c.bytes.Add(-int64(n)) }

// server returns the state of a nameserver, made on first use.
func (c *Client) server(addr netip.AddrPort) (*server, error) {
	if !addr.IsValid() {
		return nil, fmt.Errorf("exchange: invalid server address %v", addr)
	}
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	s := c.servers[addr]
	if s == nil {
		s = &server{c: c, addr: addr}
		c.servers[addr] = s
	}
	s.lastUsed.Store(time.Now().UnixNano())
	return s, nil
}

// janitor closes the TCP connections of nameservers not used for a while.
func (c *Client) janitor() {
	defer c.wg.Done()
	t := time.NewTicker(max(c.cfg.ServerIdle/4, time.Second))
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case now := <-t.C:
			var idle []*server
			c.mu.Lock()
			for a, s := range c.servers {
				if now.UnixNano()-s.lastUsed.Load() > int64(c.cfg.ServerIdle) {
					delete(c.servers, a)
					idle = append(idle, s)
				}
			}
			c.mu.Unlock()
			for _, s := range idle {
				s.close()
			}
		}
	}
}
