// Package cache is meshdns's in-pod cache of upstream answers: it learns
// the responses of the pod's nameservers to the queries the name table does
// not own, and answers later queries for the same question from them, in
// place, with the query's own ID and question case.
//
// Contract: the cache is handed what it needs and never the engine. New
// takes its Config (sizes, TTL caps, serve-stale, prefetch, a Clock and a
// Refresher) and the engine's EDNS cap. Cache.Query takes a UDP query
// packet already decoded and parsed by package wire and the response size
// the client accepts; it either rewrites the packet into the cached answer
// (verdict.Rewrite, ReasonCacheHit or ReasonCacheStale) or remembers the
// query and passes it (ReasonNotOwned). Cache.Response takes a UDP packet
// from port 53 (wire.KindUDPResponse) and learns it only when it answers a
// remembered query exactly; the packet is never modified. LearnRefresh
// takes the answers to the Refresher's own queries. Counters are atomic
// and read with Metrics. Nothing on the packet path allocates once a shard
// has stored its first entry; nothing is global.
//
// Keys, storage, concurrency and eviction are described in cache.go.
package cache
