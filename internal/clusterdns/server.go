package clusterdns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// stopTimeout bounds how long Stop waits for queries in flight.
const stopTimeout = 5 * time.Second

// Server is the upstream DNS server. Make one with New; start it with Serve
// or ListenAndServe; stop it with Stop, after which it may be started again
// on new sockets. Its counters survive a stop; Reset clears them.
type Server struct {
	cfg   Config
	zone  *zone
	log   *slog.Logger
	count *counter
	delay atomic.Int64 // time.Duration
	mode  atomic.Int32 // Mode

	life    sync.Mutex // held through Serve and Stop
	mu      sync.Mutex // guards the fields below
	running []*dns.Server
	udp     []net.Addr
	tcp     []net.Addr
	stopped chan struct{} // closed by Stop; wakes delayed answers
	wg      sync.WaitGroup
}

// New parses the zone of cfg and returns a server that is not yet serving.
func New(cfg Config) (*Server, error) {
	z, err := parseZone(cfg)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, zone: z, log: log, count: newCounter(), stopped: make(chan struct{})}
	s.delay.Store(int64(cfg.Delay))
	s.mode.Store(int32(cfg.Mode))
	return s, nil
}

// Serve starts answering on the given UDP sockets and TCP listeners and
// returns once all of them are being served. The server owns them from then
// on: Stop closes them. It fails if the server is already serving.
func (s *Server) Serve(udp []net.PacketConn, tcp []net.Listener) error {
	s.life.Lock()
	defer s.life.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.running) > 0 {
		return errors.New("clusterdns: already serving")
	}
	if len(udp)+len(tcp) == 0 {
		return errors.New("clusterdns: nothing to serve on")
	}
	s.stopped = make(chan struct{})
	var servers []*dns.Server
	for _, pc := range udp {
		servers = append(servers, &dns.Server{PacketConn: pc, Net: "udp", Handler: s})
		s.udp = append(s.udp, pc.LocalAddr())
	}
	for _, ln := range tcp {
		servers = append(servers, &dns.Server{Listener: ln, Net: "tcp", Handler: s})
		s.tcp = append(s.tcp, ln.Addr())
	}
	errc := make(chan error, len(servers))
	for _, srv := range servers {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := srv.ActivateAndServe(); err != nil {
				errc <- err
			}
		}()
		select {
		case <-started:
			s.running = append(s.running, srv)
		case err := <-errc:
			for _, r := range s.running {
				r.Shutdown()
			}
			s.running, s.udp, s.tcp = nil, nil, nil
			return fmt.Errorf("clusterdns: serve: %w", err)
		}
	}
	s.log.Info("serving", "udp", s.udp, "tcp", s.tcp)
	return nil
}

// ListenAndServe opens a UDP socket and a TCP listener on each address (a
// literal "ip:port"; port 0 picks one free port for both) in the current
// network namespace, and serves them.
func (s *Server) ListenAndServe(addrs ...string) error {
	var udp []net.PacketConn
	var tcp []net.Listener
	closeAll := func() {
		for _, c := range udp {
			c.Close()
		}
		for _, l := range tcp {
			l.Close()
		}
	}
	for _, a := range addrs {
		pc, ln, err := listenPair(a)
		if err != nil {
			closeAll()
			return err
		}
		udp, tcp = append(udp, pc), append(tcp, ln)
	}
	if err := s.Serve(udp, tcp); err != nil {
		closeAll()
		return err
	}
	return nil
}

// listenPair opens UDP and TCP on the same address and port.
func listenPair(addr string) (net.PacketConn, net.Listener, error) {
	var lastErr error
	for range 10 { // port 0: the UDP port may be taken for TCP; retry
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("clusterdns: %w", err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		lastErr = err
		if _, port, _ := net.SplitHostPort(addr); port != "0" {
			break
		}
	}
	return nil, nil, fmt.Errorf("clusterdns: %w", lastErr)
}

// Stop stops serving and closes the sockets. Delayed answers in flight are
// dropped. Stopping a server that is not serving does nothing.
func (s *Server) Stop() error {
	s.life.Lock()
	defer s.life.Unlock()
	s.mu.Lock()
	running := s.running
	s.running, s.udp, s.tcp = nil, nil, nil
	if len(running) > 0 {
		close(s.stopped)
	}
	s.mu.Unlock()
	if len(running) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	var errs []error
	for _, srv := range running {
		if err := srv.ShutdownContext(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	s.wg.Wait()
	s.log.Info("stopped")
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("clusterdns: stop: %w", err)
	}
	return nil
}

// Running reports whether the server is serving.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.running) > 0
}

// UDPAddrs and TCPAddrs return the addresses being served (nil when
// stopped).
func (s *Server) UDPAddrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]net.Addr(nil), s.udp...)
}

// TCPAddrs returns the TCP addresses being served.
func (s *Server) TCPAddrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]net.Addr(nil), s.tcp...)
}

// SetDelay changes how long answers are held back.
func (s *Server) SetDelay(d time.Duration) { s.delay.Store(int64(d)) }

// SetMode changes how queries are treated.
func (s *Server) SetMode(m Mode) { s.mode.Store(int32(m)) }

// Count returns how many queries for name of type qtype (0: any type) were
// received. The name is matched without regard to case or a final dot.
func (s *Server) Count(name string, qtype uint16) uint64 { return s.count.count(name, qtype) }

// Counts returns a snapshot of the queries received, by name and type.
func (s *Server) Counts() map[Key]uint64 { return s.count.snapshot() }

// Totals returns the number of queries received, by transport.
func (s *Server) Totals() Totals { return s.count.total() }

// Reset sets every counter back to zero.
func (s *Server) Reset() { s.count.reset() }

// Lookup answers name/qtype from the zone as the server would: the rcode
// (dns.RcodeSuccess or dns.RcodeNameError) and the answer records.
func (s *Server) Lookup(name string, qtype uint16) (int, []dns.RR) {
	return s.zone.lookup(dns.Fqdn(name), qtype)
}
