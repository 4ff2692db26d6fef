package observe

import (
	"log/slog"
	"time"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/cache"
)

// DefaultAddr is the default listen address of the metrics and health
// endpoints: loopback only, so nothing outside the pod can read the table.
const DefaultAddr = "127.0.0.1:15099"

// Config configures an Observer.
type Config struct {
	// Addr is the listen address of /metrics, /healthz, /readyz and
	// /debug/names. Empty disables the listener (the metrics are still
	// collected and Handler still works).
	Addr string
	// Logger receives listener errors. Nil discards.
	Logger *slog.Logger
	// Registry is where the current name table is read for table metrics
	// and /debug/names. Nil means no table ever.
	Registry dnsengine.Registry
	// Ready reports whether the name source has completed its first full
	// sync; /readyz is 200 only when it returns true. Nil means ready once
	// SetSynced(true) was called or Registry holds a table.
	Ready func() bool
	// Live reports a fatal internal problem; /healthz is 500 while it
	// returns an error. Nil means always live while the process serves.
	Live func() error
	// DebugFromAnywhere serves /debug/names to any client. By default only
	// loopback clients (kubectl port-forward, kubectl exec) get it, so a
	// listener opened on the pod IP for probes and scraping does not hand
	// the cluster's name table to the network.
	DebugFromAnywhere bool
	// QueueStatsPath is the kernel's NFQUEUE counters file. Empty means
	// DefaultQueueStatsPath; "-" disables the queue metrics.
	QueueStatsPath string
	// SampleEvery times one packet in this many (rounded up to a power of
	// two; default 64, 1 times every packet).
	SampleEvery int
	// CacheMetrics, TCPFlows and TCPMemory read the engine's cache and TCP
	// counters at scrape time (Engine.CacheMetrics, Engine.TCPFlows,
	// Engine.TCPMemory); nil leaves those metrics out.
	CacheMetrics func() cache.Metrics
	TCPFlows     func() int
	TCPMemory    func() int64
	// Pprof serves net/http/pprof under /debug/pprof/ to loopback clients
	// (kubectl port-forward, the benchmark harness).
	Pprof bool
	// Now is the clock, for tests. Nil means time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.QueueStatsPath == "" {
		c.QueueStatsPath = DefaultQueueStatsPath
	}
	if c.SampleEvery <= 0 {
		c.SampleEvery = 64
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// sampleMask rounds n up to a power of two and returns it minus one.
func sampleMask(n int) uint64 {
	m := uint64(1)
	for m < uint64(n) {
		m <<= 1
	}
	return m - 1
}
