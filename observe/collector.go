package observe

import (
	"os"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshdns/meshdns/dnsengine/verdict"
)

// collector turns the Observer's atomics, the current table and the
// kernel's queue counters into metrics at scrape time.
type collector struct {
	o *Observer

	queries, truncated, processing                                 *prometheus.Desc
	tableLoaded, tableNames, tableRecords, tableWildcards          *prometheus.Desc
	tableUpdates, buildErrors, tableLastUpdate, tableAge, tableSer *prometheus.Desc
	synced, objects, watchErrors, reqErrors                        *prometheus.Desc
	qBound, qWaiting, qDropped, qUserDropped, qPackets             *prometheus.Desc
}

func newCollector(o *Observer) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("meshdns_"+name, help, labels, nil)
	}
	return &collector{
		o:          o,
		queries:    d("queries_total", "Packets the engine handled, by result (answered, nxdomain, nodata, tcp, passed) and reason.", "result", "reason"),
		truncated:  d("responses_truncated_total", "Responses sent with TC set because they did not fit the client's UDP size."),
		processing: d("processing_seconds", "Engine time per packet, sampled (one packet in SampleEvery is timed)."),

		tableLoaded:     d("table_loaded", "1 when a name table is loaded (before that every packet is passed through)."),
		tableNames:      d("table_names", "Owner names with records in the current table."),
		tableRecords:    d("table_records", "Records in the current table, by type.", "type"),
		tableWildcards:  d("table_wildcards", "Wildcard names in the current table."),
		tableSer:        d("table_serial", "SOA serial of the current table."),
		tableUpdates:    d("table_updates_total", "Name tables built and stored."),
		buildErrors:     d("table_build_errors_total", "Name table builds that failed (the previous table kept serving)."),
		tableLastUpdate: d("table_last_update_timestamp_seconds", "Unix time the current table was stored."),
		tableAge:        d("table_age_seconds", "Seconds since the current table was stored."),

		synced:      d("sync_synced", "1 once the name source completed its first full sync (/readyz)."),
		objects:     d("sync_objects", "Objects the name source holds, by kind.", "kind"),
		watchErrors: d("api_watch_errors_total", "Failed lists and watches reported by the informers, by resource (expired resource versions, denials; they retry on their own).", "resource"),
		reqErrors:   d("api_request_errors_total", "Failed requests to the Kubernetes API server (transport errors, 429, 5xx), by resource; the last table keeps serving.", "resource"),

		qBound:       d("nfqueue_bound", "1 when a consumer is bound to the queue (kernel view).", "queue"),
		qWaiting:     d("nfqueue_waiting", "Packets waiting in the queue for a verdict.", "queue"),
		qDropped:     d("nfqueue_dropped_total", "Packets the kernel dropped because the queue was full (fail-open accepts are not counted by the kernel).", "queue"),
		qUserDropped: d("nfqueue_user_dropped_total", "Packets dropped because the consumer's netlink socket buffer was full.", "queue"),
		qPackets:     d("nfqueue_packets_total", "Packets ever queued (the kernel's packet id sequence; wraps at 2^32).", "queue"),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.queries, c.truncated, c.processing,
		c.tableLoaded, c.tableNames, c.tableRecords, c.tableWildcards, c.tableSer,
		c.tableUpdates, c.buildErrors, c.tableLastUpdate, c.tableAge,
		c.synced, c.objects, c.watchErrors, c.reqErrors,
		c.qBound, c.qWaiting, c.qDropped, c.qUserDropped, c.qPackets,
	} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	c.collectPackets(ch)
	c.collectTable(ch)
	c.collectSync(ch)
	c.collectQueues(ch)
}

// resultOf is the result label of a reason: answered (from the table or
// the cache), nxdomain, nodata, tcp (a DNS-over-TCP segment handled in
// place; the reason says how) or passed (accepted untouched).
func resultOf(r verdict.Reason) string {
	return r.Class().String()
}

func (c *collector) collectPackets(ch chan<- prometheus.Metric) {
	var t shardTotals
	c.o.shardsMu.Lock()
	for _, s := range c.o.shards {
		t.add(s)
	}
	c.o.shardsMu.Unlock()

	for i, n := range t.reasons {
		r := verdict.Reason(i)
		ch <- prometheus.MustNewConstMetric(c.queries, prometheus.CounterValue, float64(n), resultOf(r), r.String())
	}
	ch <- prometheus.MustNewConstMetric(c.truncated, prometheus.CounterValue, float64(t.truncated))

	buckets := make(map[float64]uint64, len(latencyBounds))
	var cum uint64
	for i, b := range latencyBounds {
		cum += t.buckets[i]
		buckets[float64(b)/1e9] = cum
	}
	cum += t.buckets[len(latencyBounds)]
	ch <- prometheus.MustNewConstHistogram(c.processing, cum, float64(t.sumNanos)/1e9, buckets)
}

func (c *collector) collectTable(ch chan<- prometheus.Metric) {
	o := c.o
	tab := o.table()
	gauge := func(d *prometheus.Desc, v float64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
	}
	if tab == nil {
		gauge(c.tableLoaded, 0)
	} else {
		gauge(c.tableLoaded, 1)
		st := tab.Stats()
		gauge(c.tableNames, float64(st.Names))
		gauge(c.tableWildcards, float64(st.Wildcards))
		gauge(c.tableSer, float64(tab.Serial()))
		for typ, n := range st.ByType {
			gauge(c.tableRecords, float64(n), typ)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.tableUpdates, prometheus.CounterValue, float64(o.tableUpdates.Load()))
	ch <- prometheus.MustNewConstMetric(c.buildErrors, prometheus.CounterValue, float64(o.buildErrors.Load()))
	if at, ok := o.lastTable(); ok {
		gauge(c.tableLastUpdate, float64(at.UnixNano())/1e9)
		gauge(c.tableAge, o.cfg.Now().Sub(at).Seconds())
	}
}

func (c *collector) collectSync(ch chan<- prometheus.Metric) {
	o := c.o
	ready := 0.0
	if o.Ready() {
		ready = 1
	}
	ch <- prometheus.MustNewConstMetric(c.synced, prometheus.GaugeValue, ready)
	o.mu.Lock()
	defer o.mu.Unlock()
	for kind, n := range o.objects {
		ch <- prometheus.MustNewConstMetric(c.objects, prometheus.GaugeValue, float64(n), kind)
	}
	for res, n := range o.watchErrors {
		ch <- prometheus.MustNewConstMetric(c.watchErrors, prometheus.CounterValue, float64(n), res)
	}
	for res, n := range o.reqErrors {
		ch <- prometheus.MustNewConstMetric(c.reqErrors, prometheus.CounterValue, float64(n), res)
	}
}

func (c *collector) collectQueues(ch chan<- prometheus.Metric) {
	path := c.o.cfg.QueueStatsPath
	if path == "-" {
		return
	}
	f, err := os.Open(path)
	if err != nil {
		// No nfnetlink_queue module loaded, or not Linux: nothing to report.
		return
	}
	defer f.Close()
	qs, err := ParseQueueStats(f)
	if err != nil {
		c.o.cfg.Logger.Warn("reading queue counters", "path", path, "err", err)
		return
	}
	for _, q := range qs {
		l := strconv.FormatUint(uint64(q.Queue), 10)
		bound := 0.0
		if q.PortID != 0 {
			bound = 1
		}
		ch <- prometheus.MustNewConstMetric(c.qBound, prometheus.GaugeValue, bound, l)
		ch <- prometheus.MustNewConstMetric(c.qWaiting, prometheus.GaugeValue, float64(q.Waiting), l)
		ch <- prometheus.MustNewConstMetric(c.qDropped, prometheus.CounterValue, float64(q.Dropped), l)
		ch <- prometheus.MustNewConstMetric(c.qUserDropped, prometheus.CounterValue, float64(q.UserDropped), l)
		ch <- prometheus.MustNewConstMetric(c.qPackets, prometheus.CounterValue, float64(q.IDSequence), l)
	}
}
