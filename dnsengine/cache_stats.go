package dnsengine

import "sync/atomic"

// CacheOutcome says what became of an upstream response offered to the
// cache: CacheLearned, or why it was not learned. Outcomes are stable
// identifiers used in metrics.
type CacheOutcome uint8

const (
	CacheLearned          CacheOutcome = iota // stored (or replaced an entry)
	CacheNotOutstanding                       // no query from that client address, port and ID is awaited
	CacheWrongServer                          // the response is not from the server the query went to
	CacheQuestionMismatch                     // the question differs from the query's (case-insensitive)
	CacheLate                                 // the response came after the match window
	CacheTruncated                            // TC set: never cached
	CacheRcode                                // an rcode that is not cached (REFUSED, FORMERR, SERVFAIL when off, ...)
	CacheNoSOA                                // a negative answer without an SOA in the authority section
	CacheZeroTTL                              // the TTL works out to zero
	CacheTooLarge                             // bigger than an entry's bounded buffer
	CacheUnsupported                          // opcode, question count, signed (TSIG/SIG(0)), OPT placement, extended rcode
	CacheMalformed                            // the bytes do not parse
	numCacheOutcomes
)

// NumCacheOutcomes is the number of outcomes, for array-indexed counters.
const NumCacheOutcomes = int(numCacheOutcomes)

var cacheOutcomeNames = [numCacheOutcomes]string{
	CacheLearned:          "learned",
	CacheNotOutstanding:   "not_outstanding",
	CacheWrongServer:      "wrong_server",
	CacheQuestionMismatch: "question_mismatch",
	CacheLate:             "late",
	CacheTruncated:        "truncated",
	CacheRcode:            "rcode",
	CacheNoSOA:            "no_soa",
	CacheZeroTTL:          "zero_ttl",
	CacheTooLarge:         "too_large",
	CacheUnsupported:      "unsupported",
	CacheMalformed:        "malformed",
}

func (o CacheOutcome) String() string {
	if int(o) < len(cacheOutcomeNames) {
		return cacheOutcomeNames[o]
	}
	return "unknown"
}

// CacheStats are the cache's counters: atomic, so they may be read at any
// time. The cache keeps one per shard (cache-line padded) to keep queue
// goroutines from contending; CacheMetrics sums them.
type CacheStats struct {
	Hits           atomic.Uint64 // fresh answers from the cache
	Stale          atomic.Uint64 // stale answers (serve-stale)
	Misses         atomic.Uint64 // queries not owned and not answerable from the cache
	Refreshes      atomic.Uint64 // refreshes handed to the Refresher (stale and prefetch)
	RefreshDropped atomic.Uint64 // refreshes the Refresher refused (its queue was full)
	Evictions      atomic.Uint64 // live entries removed to make room
	Expired        atomic.Uint64 // entries removed because they were past their TTL (and stale window)
	Responses      [numCacheOutcomes]atomic.Uint64
	_              [64]byte
}

// CacheMetrics is a snapshot of the cache's counters and size.
type CacheMetrics struct {
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
	// outcome: Responses[CacheLearned] were learned, the rest rejected.
	Responses [NumCacheOutcomes]uint64
}

// Rejected is the number of responses not learned, all reasons together.
func (m CacheMetrics) Rejected() uint64 {
	var n uint64
	for i, v := range m.Responses {
		if CacheOutcome(i) != CacheLearned {
			n += v
		}
	}
	return n
}

func (m *CacheMetrics) add(s *CacheStats) {
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

// CacheMetrics returns a snapshot of the cache counters; it takes each
// shard's lock briefly to count entries. It is meant for metric scrapes,
// not the packet path.
func (e *Engine) CacheMetrics() CacheMetrics {
	c := e.cache
	if c == nil {
		return CacheMetrics{}
	}
	m := CacheMetrics{Enabled: true, Capacity: c.capacity}
	for i := range c.shards {
		s := &c.shards[i]
		m.add(&s.stats)
		s.mu.Lock()
		m.Entries += s.count
		s.mu.Unlock()
	}
	return m
}
