package exchange

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/meshdns/meshdns/internal/netns"
)

// Config configures a Client. Zero fields take the defaults.
type Config struct {
	// Mark is set with SO_MARK on every socket (it needs CAP_NET_ADMIN);
	// meshdns's rules let packets of sockets with this mark through
	// uncaptured. 0 sets no mark (tests).
	Mark uint32
	// Timeout bounds one UDP attempt (default 2 s).
	Timeout time.Duration
	// Attempts is the number of UDP attempts of a forwarded query
	// (default 2). With the defaults a query fails after 4 s, before a
	// stub resolver's own 5 s. A refresh makes one attempt.
	Attempts int
	// TCPTimeout bounds a TCP exchange, connecting included (default 2 s).
	TCPTimeout time.Duration
	// UDPSize is the largest UDP answer asked for (default 1232): the
	// EDNS size of refresh queries, and the cap put on the EDNS size of a
	// forwarded query; larger answers come truncated and are asked again
	// over TCP.
	UDPSize uint16
	// MaxIdleTCP is the number of idle TCP connections kept per
	// nameserver (default 2); TCPIdle how long one is kept (default 5 s,
	// below the idle timeout of common servers).
	MaxIdleTCP int
	TCPIdle    time.Duration
	// ServerIdle: the TCP connections of a nameserver not used for this
	// long are closed (default 2 min).
	ServerIdle time.Duration
	// MaxInFlight bounds the forwarded queries at once (default 1024).
	MaxInFlight int
	// MaxRefreshes bounds the refreshes at once (default 256);
	// RefreshQueue the requests waiting for Run (default 256).
	MaxRefreshes int
	RefreshQueue int
	// MaxBytes bounds the memory held by exchanges in flight: query
	// copies, receive buffers and TCP answers (default 4 MiB).
	MaxBytes int
	// ServerPort is the port refresh queries go to (default 53; tests use
	// others). Forwarded queries go to the port they are given.
	ServerPort uint16
	// NetNS, when set, names the network namespace (a path such as
	// /proc/self/fd/N, or a name under /run/netns) the sockets are opened
	// in: node mode forwards a pod's queries from inside the pod, where
	// its rules let Mark through.
	NetNS string
	// Dial, when set, opens every socket instead of a net.Dialer that
	// sets Mark, in NetNS when set (tests: in another network namespace).
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// Logger receives debug lines; nil discards them.
	Logger *slog.Logger
}

// Defaults.
const (
	DefaultTimeout      = 2 * time.Second
	DefaultAttempts     = 2
	DefaultTCPTimeout   = 2 * time.Second
	DefaultUDPSize      = 1232
	DefaultMaxIdleTCP   = 2
	DefaultTCPIdle      = 5 * time.Second
	DefaultServerIdle   = 2 * time.Minute
	DefaultMaxInFlight  = 1024
	DefaultMaxRefreshes = 256
	DefaultRefreshQueue = 256
	DefaultMaxBytes     = 4 << 20
)

func (c Config) withDefaults() (Config, error) {
	if c.Timeout < 0 || c.TCPTimeout < 0 || c.TCPIdle < 0 || c.ServerIdle < 0 {
		return c, errors.New("exchange: negative timeout")
	}
	if c.Attempts < 0 || c.MaxIdleTCP < 0 || c.MaxInFlight < 0 || c.MaxRefreshes < 0 || c.RefreshQueue < 0 || c.MaxBytes < 0 {
		return c, errors.New("exchange: negative count")
	}
	if c.UDPSize != 0 && c.UDPSize < 512 {
		return c, errors.New("exchange: UDP size below 512")
	}
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
	defInt(&c.MaxIdleTCP, DefaultMaxIdleTCP)
	defInt(&c.MaxInFlight, DefaultMaxInFlight)
	defInt(&c.MaxRefreshes, DefaultMaxRefreshes)
	defInt(&c.RefreshQueue, DefaultRefreshQueue)
	defInt(&c.MaxBytes, DefaultMaxBytes)
	if c.UDPSize == 0 {
		c.UDPSize = DefaultUDPSize
	}
	if c.ServerPort == 0 {
		c.ServerPort = 53
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Dial == nil {
		d := &net.Dialer{Control: control(c.Mark), KeepAlive: -1}
		c.Dial = d.DialContext
		if ns := c.NetNS; ns != "" {
			c.Dial = func(ctx context.Context, network, address string) (net.Conn, error) {
				return netns.DialWith(ctx, d, ns, network, address)
			}
		}
	}
	return c, nil
}
