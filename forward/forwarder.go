package forward

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Errors a query can fail with.
var (
	ErrBusy      = errors.New("forward: too many queries in flight")
	ErrClosed    = errors.New("forward: forwarder closed")
	ErrTimeout   = errors.New("forward: no answer")
	ErrMalformed = errors.New("forward: not a DNS query")
)

// markError says the socket mark could not be set (no CAP_NET_ADMIN).
type markError struct{ err error }

func (e *markError) Error() string { return "forward: set SO_MARK: " + e.err.Error() }
func (e *markError) Unwrap() error { return e.err }

// Forwarder forwards queries. It implements dnsengine.Forwarder.
type Forwarder struct {
	cfg    Config
	log    *slog.Logger
	dialer net.Dialer
	sem    chan struct{}

	udp  []*udpSock
	next atomic.Uint32 // the UDP socket of the next attempt

	mu      sync.Mutex
	servers map[netip.AddrPort]*server
	closed  bool
	done    chan struct{} // closed by Close
	wg      sync.WaitGroup

	stats stats
}

// Stats counts what a Forwarder did.
type Stats struct {
	Queries   uint64 // Forward calls
	UDP       uint64 // UDP attempts
	TCP       uint64 // TCP exchanges
	Truncated uint64 // UDP answers with TC set, asked again over TCP
	Timeouts  uint64 // UDP attempts without an answer
	Failures  uint64 // queries that ended in an error
	Busy      uint64 // queries refused past MaxInFlight
	TCPDials  uint64 // TCP connections opened
}

type stats struct {
	queries, udp, tcp, truncated, timeouts, failures, busy, tcpDials atomic.Uint64
}

// New returns a Forwarder; Close releases its sockets.
func New(cfg Config) (*Forwarder, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	f := &Forwarder{
		cfg:     cfg,
		log:     cfg.Logger,
		dialer:  net.Dialer{Control: control(cfg.Mark), KeepAlive: -1},
		sem:     make(chan struct{}, cfg.MaxInFlight),
		servers: make(map[netip.AddrPort]*server),
		done:    make(chan struct{}),
	}
	udp, err := listenUDP(cfg)
	if err != nil {
		return nil, err
	}
	f.udp = udp
	for _, u := range udp {
		f.wg.Add(1)
		go u.read(&f.wg)
	}
	f.wg.Add(1)
	go f.janitor()
	return f, nil
}

// LocalPorts returns the local ports of the UDP sockets queries leave
// from (the same for IPv4 and IPv6). The capture rules must neither queue
// nor untrack answers to them (nfq.RulesConfig.OwnPorts), or a stateful
// INPUT policy drops them.
func (f *Forwarder) LocalPorts() []uint16 {
	var out []uint16
	for _, u := range f.udp {
		out = append(out, uint16(u.conn.LocalAddr().(*net.UDPAddr).Port))
	}
	return out
}

// Forward sends query to server and calls done with the answer, whose ID
// is the query's, or an error. It never blocks; done is called exactly
// once, from another goroutine unless the query is refused at once. query
// is not modified and not kept after done.
func (f *Forwarder) Forward(query []byte, server netip.AddrPort, done func(resp []byte, err error)) {
	f.stats.queries.Add(1)
	select {
	case f.sem <- struct{}{}:
	default:
		f.stats.busy.Add(1)
		f.stats.failures.Add(1)
		done(nil, ErrBusy)
		return
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		<-f.sem
		f.stats.failures.Add(1)
		done(nil, ErrClosed)
		return
	}
	f.wg.Add(1)
	f.mu.Unlock()
	go func() {
		defer f.wg.Done()
		resp, err := f.Exchange(query, server)
		<-f.sem
		if err != nil {
			f.stats.failures.Add(1)
			f.log.Debug("forward failed", "server", server, "err", err)
		}
		done(resp, err)
	}()
}

// Exchange forwards query to server and waits for the answer.
func (f *Forwarder) Exchange(query []byte, server netip.AddrPort) ([]byte, error) {
	qEnd, qtype, ok := question(query)
	if !ok {
		return nil, ErrMalformed
	}
	s, err := f.server(server)
	if err != nil {
		return nil, err
	}
	if qtype == 251 || qtype == 252 { // IXFR, AXFR: TCP only
		return s.tcpExchange(query)
	}
	for range f.cfg.Attempts {
		resp, err := s.udpExchange(query, qEnd)
		switch {
		case errors.Is(err, ErrTimeout):
			f.stats.timeouts.Add(1)
			continue
		case err != nil:
			return nil, err
		case resp[2]&0x02 != 0: // TC
			f.stats.truncated.Add(1)
			return s.tcpExchange(query)
		}
		return resp, nil
	}
	return nil, ErrTimeout
}

// Stats returns the counters.
func (f *Forwarder) Stats() Stats {
	s := &f.stats
	return Stats{Queries: s.queries.Load(), UDP: s.udp.Load(), TCP: s.tcp.Load(), Truncated: s.truncated.Load(),
		Timeouts: s.timeouts.Load(), Failures: s.failures.Load(), Busy: s.busy.Load(), TCPDials: s.tcpDials.Load()}
}

// Close closes every socket; queries in flight fail with ErrClosed. It
// waits for their callbacks to return.
func (f *Forwarder) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	close(f.done)
	servers := f.servers
	f.servers = nil
	f.mu.Unlock()
	for _, s := range servers {
		s.close()
	}
	for _, u := range f.udp {
		u.conn.Close()
	}
	f.wg.Wait()
	return nil
}

// server returns the state of a nameserver, made on first use.
func (f *Forwarder) server(addr netip.AddrPort) (*server, error) {
	if !addr.IsValid() {
		return nil, fmt.Errorf("forward: invalid server address %v", addr)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, ErrClosed
	}
	s := f.servers[addr]
	if s == nil {
		s = &server{f: f, addr: addr}
		f.servers[addr] = s
	}
	s.lastUsed.Store(time.Now().UnixNano())
	return s, nil
}

// janitor closes the sockets of nameservers not used for a while.
func (f *Forwarder) janitor() {
	defer f.wg.Done()
	t := time.NewTicker(max(f.cfg.ServerIdle/4, time.Second))
	defer t.Stop()
	for {
		select {
		case <-f.done:
			return
		case now := <-t.C:
			var idle []*server
			f.mu.Lock()
			for a, s := range f.servers {
				if now.UnixNano()-s.lastUsed.Load() > int64(f.cfg.ServerIdle) {
					delete(f.servers, a)
					idle = append(idle, s)
				}
			}
			f.mu.Unlock()
			for _, s := range idle {
				s.close()
			}
		}
	}
}

// question returns the end of the question of a query and its type, or
// false when m is not a query with at most one question. A query without
// a question (a DNS COOKIE refresh, say) has end 12 and type 0.
func question(m []byte) (end int, qtype uint16, ok bool) {
	if len(m) < 12 || m[2]&0x80 != 0 {
		return 0, 0, false
	}
	switch binary.BigEndian.Uint16(m[4:]) {
	case 0:
		return 12, 0, true
	case 1:
	default:
		return 0, 0, false
	}
	off := 12
	for off < len(m) {
		l := int(m[off])
		switch {
		case l == 0:
			if off+5 > len(m) {
				return 0, 0, false
			}
			return off + 5, binary.BigEndian.Uint16(m[off+1:]), true
		case l&0xc0 != 0:
			return 0, 0, false
		}
		off += 1 + l
	}
	return 0, 0, false
}
