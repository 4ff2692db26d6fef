package observe

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
)

// TestEngineMetrics: the engine's cache and TCP counters are scraped, and
// pprof answers loopback clients only.
func TestEngineMetrics(t *testing.T) {
	eng, err := dnsengine.New(dnsengine.DefaultConfig(), &dnsengine.AtomicRegistry{})
	if err != nil {
		t.Fatal(err)
	}
	o, err := New(Config{CacheMetrics: eng.CacheMetrics, TCPFlows: func() int { return 3 }, TCPMemory: func() int64 { return 4096 }, Pprof: true, QueueStatsPath: "-"})
	if err != nil {
		t.Fatal(err)
	}
	mfs, err := o.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if g := m.GetGauge(); g != nil {
				got[mf.GetName()] = g.GetValue()
			}
		}
	}
	if got["meshdns_cache_capacity"] != float64(dnsengine.DefaultConfig().Cache.Size) || got["meshdns_tcp_flows"] != 3 || got["meshdns_tcp_memory_bytes"] != 4096 {
		t.Fatalf("cache capacity %v, tcp flows %v, tcp memory %v", got["meshdns_cache_capacity"], got["meshdns_tcp_flows"], got["meshdns_tcp_memory_bytes"])
	}
	h := o.Handler()
	for _, c := range []struct {
		remote string
		code   int
	}{{"127.0.0.1:5000", http.StatusOK}, {"10.1.2.3:5000", http.StatusForbidden}} {
		req := httptest.NewRequest("GET", "/debug/pprof/cmdline", nil)
		req.RemoteAddr = c.remote
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.code {
			t.Errorf("pprof from %s: %d, want %d (%s)", c.remote, rec.Code, c.code, strings.TrimSpace(rec.Body.String()))
		}
	}
}
