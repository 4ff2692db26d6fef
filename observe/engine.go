package observe

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshdns/meshdns/dnsengine/cache"
)

// engineCollector reads the engine's own counters at scrape time: the cache
// of upstream answers and the DNS-over-TCP flow table.
type engineCollector struct {
	cache func() cache.Metrics
	flows func() int
	mem   func() int64

	hits, stale, misses, refreshes, refreshDropped, evictions, expired *prometheus.Desc
	entries, capacity, responses, tcpFlows, tcpMemory                  *prometheus.Desc
}

func newEngineCollector(cacheMetrics func() cache.Metrics, flows func() int, mem func() int64) *engineCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("meshdns_"+name, help, labels, nil)
	}
	return &engineCollector{
		cache: cacheMetrics, flows: flows, mem: mem,
		hits:           d("cache_hits_total", "Queries answered from the cache of upstream answers."),
		stale:          d("cache_stale_total", "Queries answered from an expired entry (serve-stale) while it is refreshed."),
		misses:         d("cache_misses_total", "Queries for names the mesh does not own that the cache could not answer."),
		refreshes:      d("cache_refreshes_total", "Refresh queries meshdns sent upstream (serve-stale and prefetch)."),
		refreshDropped: d("cache_refreshes_dropped_total", "Refreshes not sent because the refresher was busy."),
		evictions:      d("cache_evictions_total", "Entries evicted to make room."),
		expired:        d("cache_expired_total", "Entries found expired and dropped."),
		entries:        d("cache_entries", "Entries in the cache."),
		capacity:       d("cache_capacity", "Entries the cache can hold (--cache-size)."),
		responses:      d("cache_responses_total", "Upstream responses seen, by outcome: learned, or why they were not.", "outcome"),
		tcpFlows:       d("tcp_flows", "DNS-over-TCP flows meshdns is answering."),
		tcpMemory:      d("tcp_memory_bytes", "Bytes of DNS-over-TCP state charged to the --tcp-max-memory budget (held to half of it)."),
	}
}

func (c *engineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.hits, c.stale, c.misses, c.refreshes, c.refreshDropped, c.evictions,
		c.expired, c.entries, c.capacity, c.responses, c.tcpFlows, c.tcpMemory} {
		ch <- d
	}
}

func (c *engineCollector) Collect(ch chan<- prometheus.Metric) {
	if c.flows != nil {
		ch <- prometheus.MustNewConstMetric(c.tcpFlows, prometheus.GaugeValue, float64(c.flows()))
	}
	if c.mem != nil {
		ch <- prometheus.MustNewConstMetric(c.tcpMemory, prometheus.GaugeValue, float64(c.mem()))
	}
	if c.cache == nil {
		return
	}
	m := c.cache()
	if !m.Enabled {
		return
	}
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	counter(c.hits, m.Hits)
	counter(c.stale, m.Stale)
	counter(c.misses, m.Misses)
	counter(c.refreshes, m.Refreshes)
	counter(c.refreshDropped, m.RefreshDropped)
	counter(c.evictions, m.Evictions)
	counter(c.expired, m.Expired)
	ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(m.Entries))
	ch <- prometheus.MustNewConstMetric(c.capacity, prometheus.GaugeValue, float64(m.Capacity))
	for i, v := range m.Responses {
		ch <- prometheus.MustNewConstMetric(c.responses, prometheus.CounterValue, float64(v), cache.Outcome(i).String())
	}
}
