package dnsengine

import "github.com/meshdns/meshdns/dnsengine/cache"

// The cache of upstream answers is package cache; the engine hands it the
// UDP queries its table does not own and the UDP responses from port 53
// (process.go). These methods reach the engine's cache, which may be absent.

// LearnRefresh offers the cache msg, the upstream's answer to the refresh
// query asked for by req (cache.Cache.LearnRefresh); without a cache it
// returns cache.Unsupported.
func (e *Engine) LearnRefresh(req cache.RefreshRequest, msg []byte) cache.Outcome {
	if e.cache == nil {
		return cache.Unsupported
	}
	return e.cache.LearnRefresh(req, msg)
}

// CacheMetrics returns a snapshot of the cache counters (cache.Cache.Metrics);
// the zero value without a cache. It is meant for metric scrapes, not the
// packet path.
func (e *Engine) CacheMetrics() cache.Metrics {
	if e.cache == nil {
		return cache.Metrics{}
	}
	return e.cache.Metrics()
}
