package dnsengine

import (
	"net/netip"

	"github.com/meshdns/meshdns/dnsengine/cache"
)

// The cache of upstream answers is package cache; the engine hands it the
// UDP queries its table does not own and the UDP responses from port 53
// (process.go). These names keep dnsengine's API for it.

// Cache configuration, clock and refresh types (package cache).
type (
	CacheConfig    = cache.Config
	CacheOutcome   = cache.Outcome
	CacheStats     = cache.Stats
	CacheMetrics   = cache.Metrics
	Clock          = cache.Clock
	SystemClock    = cache.SystemClock
	FakeClock      = cache.FakeClock
	Refresher      = cache.Refresher
	RefreshRequest = cache.RefreshRequest
	FakeRefresher  = cache.FakeRefresher
)

// Cache outcomes and defaults (package cache).
const (
	CacheLearned          = cache.Learned
	CacheNotOutstanding   = cache.NotOutstanding
	CacheWrongServer      = cache.WrongServer
	CacheQuestionMismatch = cache.QuestionMismatch
	CacheLate             = cache.Late
	CacheTruncated        = cache.Truncated
	CacheRcode            = cache.Rcode
	CacheNoSOA            = cache.NoSOA
	CacheZeroTTL          = cache.ZeroTTL
	CacheTooLarge         = cache.TooLarge
	CacheUnsupported      = cache.Unsupported
	CacheMalformed        = cache.Malformed
	NumCacheOutcomes      = cache.NumOutcomes

	DefaultCacheSize        = cache.DefaultSize
	DefaultCacheMaxTTL      = cache.DefaultMaxTTL
	DefaultCacheNegativeTTL = cache.DefaultNegativeTTL
	DefaultOutstanding      = cache.DefaultOutstanding
	DefaultMatchWindow      = cache.DefaultMatchWindow
	MaxCacheTTL             = cache.MaxTTL
	StaleAnswerTTL          = cache.StaleAnswerTTL
	RecommendedCacheStale   = cache.RecommendedStale
)

// DefaultCacheConfig returns cache.DefaultConfig().
func DefaultCacheConfig() CacheConfig { return cache.DefaultConfig() }

// NewRefreshRequest is cache.NewRefreshRequest.
func NewRefreshRequest(server netip.Addr, name string, qtype uint16, do, cd bool) (RefreshRequest, error) {
	return cache.NewRefreshRequest(server, name, qtype, do, cd)
}

// LearnRefresh offers the cache msg, the upstream's answer to the refresh
// query asked for by req (cache.Cache.LearnRefresh); without a cache it
// returns CacheUnsupported.
func (e *Engine) LearnRefresh(req RefreshRequest, msg []byte) CacheOutcome {
	if e.cache == nil {
		return CacheUnsupported
	}
	return e.cache.LearnRefresh(req, msg)
}

// CacheMetrics returns a snapshot of the cache counters (cache.Cache.Metrics);
// the zero value without a cache. It is meant for metric scrapes, not the
// packet path.
func (e *Engine) CacheMetrics() CacheMetrics {
	if e.cache == nil {
		return CacheMetrics{}
	}
	return e.cache.Metrics()
}
