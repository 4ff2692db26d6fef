package loadgen

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Query is one question of the fixed-rate workload; Name is absolute.
type Query struct {
	Name string `json:"name"`
	Type uint16 `json:"type"`
}

// Config describes one fixed-rate or lookup run.
type Config struct {
	// Server is the address queries are sent to (the pod's nameserver:
	// what an interceptor captures).
	Server netip.AddrPort `json:"server"`
	// Rate is queries per second (FixedRate) or lookups per second
	// (Lookups).
	Rate float64 `json:"rate"`
	// Duration is how long the schedule runs; Rate*Duration events are
	// sent.
	Duration time.Duration `json:"duration"`
	// Timeout is how long a query may take before it counts as lost (and
	// how long a lookup waits for each A+AAAA pair).
	Timeout time.Duration `json:"timeout"`
	// Sockets is the number of UDP sockets FixedRate, or of TCP
	// connections TCPPipe, spreads queries over (default 4).
	Sockets int `json:"sockets"`
	// Queries is the FixedRate, TCPConn and TCPPipe workload, cycled in
	// order.
	Queries []Query `json:"queries,omitempty"`
	// Names, Search and Ndots are the Lookups workload: names as passed
	// to getaddrinfo, cycled in order, and the resolv.conf search list
	// and ndots option.
	Names  []string `json:"names,omitempty"`
	Search []string `json:"search,omitempty"`
	Ndots  int      `json:"ndots,omitempty"`
}

// MaxEvents caps Rate*Duration so that a typo cannot fill memory.
const MaxEvents = 5_000_000

func (c *Config) events() (int, error) {
	if !c.Server.IsValid() {
		return 0, errors.New("loadgen: no server")
	}
	if c.Rate <= 0 || c.Rate > 1e6 {
		return 0, fmt.Errorf("loadgen: rate %v: want 0 < rate <= 1e6", c.Rate)
	}
	if c.Duration <= 0 || c.Duration > time.Hour {
		return 0, fmt.Errorf("loadgen: duration %v: want 0 < d <= 1h", c.Duration)
	}
	if c.Timeout <= 0 {
		c.Timeout = time.Second
	}
	if c.Sockets <= 0 {
		c.Sockets = 4
	}
	if c.Sockets > 256 {
		return 0, fmt.Errorf("loadgen: %d sockets: want at most 256", c.Sockets)
	}
	n := int(c.Rate * c.Duration.Seconds())
	if n < 1 {
		n = 1
	}
	if n > MaxEvents {
		return 0, fmt.Errorf("loadgen: %d events: more than %d", n, MaxEvents)
	}
	return n, nil
}
