package observe

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/verdict"
)

func newTestObserver(t *testing.T, cfg Config) *Observer {
	t.Helper()
	if cfg.QueueStatsPath == "" {
		cfg.QueueStatsPath = "-"
	}
	o, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func testTable(t *testing.T) *dnsengine.Table {
	t.Helper()
	b, err := dnsengine.NewTableBuilder(dnsengine.TableConfig{ClusterDomain: "cluster.local", Serial: 42})
	if err != nil {
		t.Fatal(err)
	}
	src := "Service default/web"
	for _, err := range []error{
		b.AddAddress("web.default.svc.cluster.local", netip.MustParseAddr("10.0.0.10"), src),
		b.AddAddress("web.default.svc.cluster.local", netip.MustParseAddr("fd00:10::a"), src),
		b.AddPTR(netip.MustParseAddr("10.0.0.10"), "web.default.svc.cluster.local", src),
		b.AddWildcardAddress("*.example.com", netip.MustParseAddr("240.240.0.1"), "ServiceEntry default/ext"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return b.Build()
}

// gather returns the value of the metric name with the given labels, and
// whether it exists. Histograms return their sample count.
func gather(t *testing.T, o *Observer, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := o.Gatherer().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			if len(got) != len(labels) {
				continue
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			return metricValue(m), true
		}
	}
	return 0, false
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

func mustGather(t *testing.T, o *Observer, name string, labels map[string]string, want float64) {
	t.Helper()
	got, ok := gather(t, o, name, labels)
	if !ok {
		t.Fatalf("%s%v missing", name, labels)
	}
	if got != want {
		t.Fatalf("%s%v = %v, want %v", name, labels, got, want)
	}
}

func TestQueriesByResultAndReason(t *testing.T) {
	o := newTestObserver(t, Config{})
	s1, s2 := o.Shard(), o.Shard()
	s1.Count(verdict.Result{Reason: verdict.ReasonAnswered})
	s2.Count(verdict.Result{Reason: verdict.ReasonAnswered, Truncated: true})
	s2.Count(verdict.Result{Reason: verdict.ReasonNXDomain})
	s1.Count(verdict.Result{Reason: verdict.ReasonNotOwned})
	s1.Count(verdict.Result{Reason: verdict.ReasonMalformed})
	s1.Count(verdict.Result{Reason: verdict.Reason(200)}) // out of range: ignored, no panic
	s2.ObserveDuration(3 * time.Microsecond)

	mustGather(t, o, "meshdns_queries_total", map[string]string{"result": "answered", "reason": "answered"}, 2)
	mustGather(t, o, "meshdns_queries_total", map[string]string{"result": "nxdomain", "reason": "nxdomain"}, 1)
	mustGather(t, o, "meshdns_queries_total", map[string]string{"result": "nodata", "reason": "nodata"}, 0)
	mustGather(t, o, "meshdns_queries_total", map[string]string{"result": "passed", "reason": "not_owned"}, 1)
	mustGather(t, o, "meshdns_queries_total", map[string]string{"result": "passed", "reason": "malformed"}, 1)
	mustGather(t, o, "meshdns_queries_total", map[string]string{"result": "passed", "reason": "not_ready"}, 0)
	mustGather(t, o, "meshdns_responses_truncated_total", nil, 1)
	mustGather(t, o, "meshdns_processing_seconds", nil, 1)
}

func TestTableAndSyncMetrics(t *testing.T) {
	reg := &dnsengine.AtomicRegistry{}
	now := time.Unix(1_000_000, 0)
	o := newTestObserver(t, Config{Registry: reg, Now: func() time.Time { return now }})

	mustGather(t, o, "meshdns_table_loaded", nil, 0)
	mustGather(t, o, "meshdns_sync_synced", nil, 0)
	if _, ok := gather(t, o, "meshdns_table_age_seconds", nil); ok {
		t.Fatal("table age reported before any table")
	}

	tab := testTable(t)
	reg.Store(tab)
	o.TableStored(tab)
	o.TableStored(nil) // ignored
	o.TableBuildFailed(errors.New("bad object"))
	o.WatchError("services", errors.New("connection refused"))
	o.WatchError("services", errors.New("connection refused"))
	o.WatchError("endpointslices", errors.New("too old resource version"))
	o.RequestError("services", errors.New("connection reset"))
	o.SetObjects("Service", 3)
	now = now.Add(90 * time.Second)

	mustGather(t, o, "meshdns_table_loaded", nil, 1)
	mustGather(t, o, "meshdns_sync_synced", nil, 1)
	mustGather(t, o, "meshdns_table_serial", nil, 42)
	mustGather(t, o, "meshdns_table_records", map[string]string{"type": "A"}, 2) // web and the wildcard
	mustGather(t, o, "meshdns_table_records", map[string]string{"type": "AAAA"}, 1)
	mustGather(t, o, "meshdns_table_records", map[string]string{"type": "PTR"}, 1)
	mustGather(t, o, "meshdns_table_wildcards", nil, 1)
	mustGather(t, o, "meshdns_table_updates_total", nil, 1)
	mustGather(t, o, "meshdns_table_build_errors_total", nil, 1)
	mustGather(t, o, "meshdns_table_last_update_timestamp_seconds", nil, 1_000_000)
	mustGather(t, o, "meshdns_table_age_seconds", nil, 90)
	mustGather(t, o, "meshdns_api_watch_errors_total", map[string]string{"resource": "services"}, 2)
	mustGather(t, o, "meshdns_api_watch_errors_total", map[string]string{"resource": "endpointslices"}, 1)
	mustGather(t, o, "meshdns_api_request_errors_total", map[string]string{"resource": "services"}, 1)
	mustGather(t, o, "meshdns_sync_objects", map[string]string{"kind": "Service"}, 3)
}

func TestReadyFromConfigOrSynced(t *testing.T) {
	ready := false
	o := newTestObserver(t, Config{Ready: func() bool { return ready }})
	if o.Ready() {
		t.Fatal("ready before Config.Ready says so")
	}
	ready = true
	if !o.Ready() {
		t.Fatal("not ready after Config.Ready says so")
	}

	o = newTestObserver(t, Config{})
	if o.Ready() {
		t.Fatal("ready without a table or sync")
	}
	o.SetSynced(true)
	if !o.Ready() {
		t.Fatal("not ready after SetSynced(true)")
	}
}

func TestQueueMetricsFromProcFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nfnetlink_queue")
	content := "    0  12345     3 2 65531     7     9   100201  1\n    4      0     0 2 65531     0     0        5  1\n"
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	o := newTestObserver(t, Config{QueueStatsPath: p})
	mustGather(t, o, "meshdns_nfqueue_bound", map[string]string{"queue": "0"}, 1)
	mustGather(t, o, "meshdns_nfqueue_bound", map[string]string{"queue": "4"}, 0)
	mustGather(t, o, "meshdns_nfqueue_waiting", map[string]string{"queue": "0"}, 3)
	mustGather(t, o, "meshdns_nfqueue_dropped_total", map[string]string{"queue": "0"}, 7)
	mustGather(t, o, "meshdns_nfqueue_user_dropped_total", map[string]string{"queue": "0"}, 9)
	mustGather(t, o, "meshdns_nfqueue_packets_total", map[string]string{"queue": "4"}, 5)

	// A missing or corrupt file costs the queue metrics, not the scrape.
	if err := os.WriteFile(p, []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := gather(t, o, "meshdns_nfqueue_bound", map[string]string{"queue": "0"}); ok {
		t.Fatal("queue metrics from a corrupt file")
	}
	mustGather(t, o, "meshdns_table_loaded", nil, 0)
	o = newTestObserver(t, Config{QueueStatsPath: filepath.Join(t.TempDir(), "absent")})
	mustGather(t, o, "meshdns_table_loaded", nil, 0)
}
