package cache

import "sync/atomic"

// Outcome says what became of an upstream response offered to the
// cache: Learned, or why it was not learned. Outcomes are stable
// identifiers used in metrics.
type Outcome uint8

const (
	Learned          Outcome = iota // stored (or replaced an entry)
	NotOutstanding                  // no query from that client address, port and ID is awaited
	WrongServer                     // the response is not from the server the query went to
	QuestionMismatch                // the question differs from the query's (case-insensitive)
	Late                            // the response came after the match window
	Truncated                       // TC set: never cached
	Rcode                           // an rcode that is not cached (REFUSED, FORMERR, SERVFAIL when off, ...)
	NoSOA                           // a negative answer without an SOA in the authority section
	ZeroTTL                         // the TTL works out to zero
	TooLarge                        // bigger than an entry's bounded buffer
	Unsupported                     // opcode, question count, signed (TSIG/SIG(0)), OPT placement, extended rcode
	Malformed                       // the bytes do not parse
	numOutcomes
)

// NumOutcomes is the number of outcomes, for array-indexed counters.
const NumOutcomes = int(numOutcomes)

var outcomeNames = [numOutcomes]string{
	Learned:          "learned",
	NotOutstanding:   "not_outstanding",
	WrongServer:      "wrong_server",
	QuestionMismatch: "question_mismatch",
	Late:             "late",
	Truncated:        "truncated",
	Rcode:            "rcode",
	NoSOA:            "no_soa",
	ZeroTTL:          "zero_ttl",
	TooLarge:         "too_large",
	Unsupported:      "unsupported",
	Malformed:        "malformed",
}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// Stats are the cache's counters: atomic, so they may be read at any
// time. The cache keeps one per shard (cache-line padded) to keep queue
// goroutines from contending; Cache.Metrics sums them.
type Stats struct {
	Hits           atomic.Uint64 // fresh answers from the cache
	Stale          atomic.Uint64 // stale answers (serve-stale)
	Misses         atomic.Uint64 // queries not owned and not answerable from the cache
	Refreshes      atomic.Uint64 // refreshes handed to the Refresher (stale and prefetch)
	RefreshDropped atomic.Uint64 // refreshes the Refresher refused (its queue was full)
	Evictions      atomic.Uint64 // live entries removed to make room
	Expired        atomic.Uint64 // entries removed because they were past their TTL (and stale window)
	Responses      [numOutcomes]atomic.Uint64
	_              [64]byte
}

// Metrics is a snapshot of the cache's counters and size.
type Metrics struct {
	Enabled        bool
	Capacity       int // entries
	Entries        int // entries in use
	Hits           uint64
	Stale          uint64
	Misses         uint64
	Refreshes      uint64
	RefreshDropped uint64
	Evictions      uint64
	Expired        uint64
	// Responses counts upstream responses (and refresh answers) by
	// outcome: Responses[Learned] were learned, the rest rejected.
	Responses [NumOutcomes]uint64
}

// Rejected is the number of responses not learned, all reasons together.
func (m Metrics) Rejected() uint64 {
	var n uint64
	for i, v := range m.Responses {
		if Outcome(i) != Learned {
			n += v
		}
	}
	return n
}

func (m *Metrics) add(s *Stats) {
	m.Hits += s.Hits.Load()
	m.Stale += s.Stale.Load()
	m.Misses += s.Misses.Load()
	m.Refreshes += s.Refreshes.Load()
	m.RefreshDropped += s.RefreshDropped.Load()
	m.Evictions += s.Evictions.Load()
	m.Expired += s.Expired.Load()
	for i := range s.Responses {
		m.Responses[i] += s.Responses[i].Load()
	}
}

// Metrics returns a snapshot of the cache counters; it takes each
// shard's lock briefly to count entries. It is meant for metric scrapes,
// not the packet path.
func (c *Cache) Metrics() Metrics {
	m := Metrics{Enabled: true, Capacity: c.capacity}
	for i := range c.shards {
		s := &c.shards[i]
		m.add(&s.stats)
		s.mu.Lock()
		m.Entries += s.count
		s.mu.Unlock()
	}
	return m
}
