package forward

import (
	"errors"
	"log/slog"
	"time"
)

// Config configures a Forwarder. Zero fields take the defaults.
type Config struct {
	// Mark is set with SO_MARK on every socket (it needs CAP_NET_ADMIN);
	// meshdns's rules let packets with this mark through uncaptured. 0
	// sets no mark (tests).
	Mark uint32
	// Timeout bounds one UDP attempt (default 2 s).
	Timeout time.Duration
	// Attempts is the number of UDP attempts (default 2). With the
	// defaults a query fails after 4 s, before a stub resolver's own 5 s.
	Attempts int
	// TCPTimeout bounds a TCP exchange, connecting included (default 2 s).
	TCPTimeout time.Duration
	// UDPSockets is the number of UDP sockets queries leave from, in turn
	// (default 4); Ports, when set, are their local ports (the first
	// UDPSockets of them; the others get free ports). See
	// Forwarder.LocalPorts.
	UDPSockets int
	Ports      []uint16
	// MaxIdleTCP is the number of idle TCP connections kept per
	// nameserver (default 2); TCPIdle how long one is kept (default 5 s,
	// below the idle timeout of common servers).
	MaxIdleTCP int
	TCPIdle    time.Duration
	// ServerIdle: the TCP connections of a nameserver not used for this
	// long are closed (default 2 min).
	ServerIdle time.Duration
	// MaxInFlight bounds the queries being forwarded (default 1024).
	MaxInFlight int
	// Logger receives debug lines; nil discards them.
	Logger *slog.Logger
}

// Defaults.
const (
	DefaultTimeout     = 2 * time.Second
	DefaultAttempts    = 2
	DefaultTCPTimeout  = 2 * time.Second
	DefaultUDPSockets  = 4
	DefaultMaxIdleTCP  = 2
	DefaultTCPIdle     = 5 * time.Second
	DefaultServerIdle  = 2 * time.Minute
	DefaultMaxInFlight = 1024
)

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	defInt := func(i *int, v int) {
		if *i == 0 {
			*i = v
		}
	}
	def(&c.Timeout, DefaultTimeout)
	def(&c.TCPTimeout, DefaultTCPTimeout)
	def(&c.TCPIdle, DefaultTCPIdle)
	def(&c.ServerIdle, DefaultServerIdle)
	defInt(&c.Attempts, DefaultAttempts)
	defInt(&c.UDPSockets, DefaultUDPSockets)
	defInt(&c.MaxIdleTCP, DefaultMaxIdleTCP)
	defInt(&c.MaxInFlight, DefaultMaxInFlight)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) validate() error {
	if c.Timeout < 0 || c.TCPTimeout < 0 || c.TCPIdle < 0 || c.ServerIdle < 0 {
		return errors.New("forward: negative timeout")
	}
	if c.Attempts < 0 || c.UDPSockets < 0 || c.MaxIdleTCP < 0 || c.MaxInFlight < 0 {
		return errors.New("forward: negative count")
	}
	return nil
}
