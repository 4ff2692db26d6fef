package cache

import (
	"cmp"
	"fmt"
	"time"
)

// Config configures the in-pod cache of upstream answers (see
// cache.go). The zero value disables the cache; DefaultConfig holds
// the defaults of `meshdns run`.
type Config struct {
	// Size is the number of entries; 0 disables the cache (queries the
	// engine does not own and responses are then passed through as before).
	Size int
	// MaxTTL caps the TTL of positive answers, in seconds.
	MaxTTL uint32
	// NegativeTTL caps the TTL of negative answers (NXDOMAIN, NODATA), in
	// seconds; they are cached for min(SOA TTL, SOA MINIMUM, NegativeTTL).
	// 0 turns negative caching off.
	NegativeTTL uint32
	// ServfailTTL is how long a SERVFAIL is cached, in seconds; 0 never.
	ServfailTTL uint32
	// Stale is how long past its TTL an entry may still be answered
	// (RFC 8767 serve-stale), in seconds, with TTL StaleAnswerTTL, while
	// the Refresher fetches a fresh answer. 0 turns serve-stale off.
	Stale uint32
	// Prefetch: an entry answered at least this many times since it was
	// learned is refreshed when a hit finds it in the last tenth of its
	// TTL (at least its last second). 0 turns prefetch off.
	Prefetch uint32
	// Outstanding is the number of queries remembered while their
	// responses are awaited (a fixed table; the oldest are overwritten).
	// 0 means DefaultOutstanding.
	Outstanding int
	// MatchWindow is how long after a query its response may still be
	// learned. 0 means DefaultMatchWindow.
	MatchWindow time.Duration
	// Clock is the time source; nil means the system clock.
	Clock Clock
	// Refresher sends meshdns's own refresh queries; it is required when
	// Stale or Prefetch is set.
	Refresher Refresher
}

// Cache defaults.
const (
	DefaultSize        = 10000
	DefaultMaxTTL      = 300
	DefaultNegativeTTL = 5
	DefaultOutstanding = 4096
	DefaultMatchWindow = 5 * time.Second
	// MaxTTL bounds MaxTTL, NegativeTTL and ServfailTTL: a week, the
	// cap RFC 8767 section 4 suggests for TTLs.
	MaxTTL = 604800
	// StaleAnswerTTL is the TTL of a stale answer (RFC 8767 section 4).
	StaleAnswerTTL = 30
	// RecommendedStale is a sane production value for Stale: one day,
	// the low end of RFC 8767's suggested 1 to 3 days. Stale answers are
	// only given while refreshes fail (the upstream is down): while it is
	// up, the first query after expiry gets the stale answer and the
	// refresh replaces it at once.
	RecommendedStale = 86400
)

// DefaultConfig returns the defaults: 10,000 entries, positive TTLs
// capped at 300 s, negative at 5 s (NodeLocal DNSCache's choice), SERVFAIL
// not cached, serve-stale and prefetch off.
func DefaultConfig() Config {
	return Config{
		Size:        DefaultSize,
		MaxTTL:      DefaultMaxTTL,
		NegativeTTL: DefaultNegativeTTL,
	}
}

// Validate checks the configuration; New expects a valid one.
func (c Config) Validate() error {
	if c.Size < 0 || c.Size > 1<<24 {
		return fmt.Errorf("dnsengine: cache size %d out of range (0..%d)", c.Size, 1<<24)
	}
	if c.Outstanding < 0 || c.Outstanding > 1<<20 {
		return fmt.Errorf("dnsengine: outstanding-query table size %d out of range", c.Outstanding)
	}
	if c.MatchWindow < 0 {
		return fmt.Errorf("dnsengine: negative match window")
	}
	if c.MaxTTL > MaxTTL || c.NegativeTTL > MaxTTL || c.ServfailTTL > MaxTTL {
		return fmt.Errorf("dnsengine: cache TTL cap above %d s", MaxTTL)
	}
	if c.Stale > 1<<31-1 {
		return fmt.Errorf("dnsengine: cache stale window out of range")
	}
	if c.Size > 0 && (c.Stale > 0 || c.Prefetch > 0) && c.Refresher == nil {
		return fmt.Errorf("dnsengine: cache serve-stale and prefetch need a Refresher")
	}
	return nil
}

func (c Config) withDefaults() Config {
	c.Outstanding = cmp.Or(c.Outstanding, DefaultOutstanding)
	c.MatchWindow = cmp.Or(c.MatchWindow, DefaultMatchWindow)
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	return c
}

// Clock is the cache's time source.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }
