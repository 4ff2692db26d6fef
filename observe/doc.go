// Package observe is meshdns's operator surface: Prometheus metrics on a
// private registry, and an HTTP listener with /metrics, /healthz, /readyz and
// /debug/names.
//
// The packet path never touches a Prometheus object. Each queue goroutine
// owns a Shard: a cache-line padded array of atomic counters, one per
// verdict.Reason, plus a sampled processing-time histogram kept the same
// way. A custom collector sums the shards when /metrics is scraped. Table
// size, sync state and the kernel's queue counters
// (/proc/net/netfilter/nfnetlink_queue) are also read at scrape time.
//
// Nothing here is global: every Observer has its own prometheus.Registry.
package observe
