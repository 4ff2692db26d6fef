package refresh

import (
	"fmt"
	"log/slog"
	"time"
)

// Config configures a Refresher.
type Config struct {
	// Mark is put on the socket with SO_MARK (needs CAP_NET_ADMIN); it
	// must be the mark meshdns's rules skip. 0 sets no mark (tests).
	Mark uint32
	// Port is the local UDP port of the socket; 0 picks a free one
	// (Refresher.LocalPort tells which). Rules that exempt the answers
	// to meshdns's own queries from NOTRACK need it.
	Port uint16
	// ServerPort is the upstreams' port; 0 means 53 (tests use others).
	ServerPort uint16
	// Timeout is how long an answer is awaited; 0 means 2 s.
	Timeout time.Duration
	// QueueLen is how many requests may wait to be sent; 0 means 256.
	QueueLen int
	// MaxInFlight is how many queries may await their answers; 0 means
	// 256. Requests beyond it are dropped.
	MaxInFlight int
	// EDNSSize is the UDP size advertised in the queries; 0 means 1232.
	EDNSSize uint16
	// Logger; nil discards.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.ServerPort == 0 {
		c.ServerPort = 53
	}
	if c.Timeout == 0 {
		c.Timeout = 2 * time.Second
	}
	if c.QueueLen == 0 {
		c.QueueLen = 256
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = 256
	}
	if c.EDNSSize == 0 {
		c.EDNSSize = 1232
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.Timeout < 0:
		return c, fmt.Errorf("refresh: negative timeout")
	case c.QueueLen < 0 || c.MaxInFlight < 0:
		return c, fmt.Errorf("refresh: negative queue length")
	case c.MaxInFlight > 1<<15:
		return c, fmt.Errorf("refresh: at most %d queries in flight (16-bit IDs)", 1<<15)
	case c.EDNSSize < 512:
		return c, fmt.Errorf("refresh: EDNS size %d below 512", c.EDNSSize)
	}
	return c, nil
}
