package observe

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/verdict"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	return getFrom(t, h, path, "127.0.0.1:40000")
}

func getFrom(t *testing.T, h http.Handler, path, remote string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = remote
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func TestHealthzReadyz(t *testing.T) {
	reg := &dnsengine.AtomicRegistry{}
	var liveErr error
	o := newTestObserver(t, Config{Registry: reg, Live: func() error { return liveErr }})
	h := o.Handler()

	if code, body := get(t, h, "/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("/healthz = %d %q", code, body)
	}
	if code, _ := get(t, h, "/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz before sync = %d, want 503", code)
	}
	reg.Store(testTable(t))
	if code, _ := get(t, h, "/readyz"); code != 200 {
		t.Fatalf("/readyz with a table = %d, want 200", code)
	}
	liveErr = errors.New("queue consumer stopped")
	if code, body := get(t, h, "/healthz"); code != 500 || !strings.Contains(body, "queue consumer stopped") {
		t.Fatalf("/healthz while not live = %d %q", code, body)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	o := newTestObserver(t, Config{Registry: dnsengine.StaticRegistry{T: testTable(t)}})
	o.Shard().Count(verdict.Result{Reason: verdict.ReasonNoData})
	code, body := get(t, o.Handler(), "/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		`meshdns_queries_total{reason="nodata",result="nodata"} 1`,
		`meshdns_table_loaded 1`,
		`meshdns_processing_seconds_bucket{le="1e-06"} 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "promhttp_metric_handler") {
		t.Error("/metrics carries the default registry's handler metrics")
	}
}

func TestDebugNames(t *testing.T) {
	reg := &dnsengine.AtomicRegistry{}
	o := newTestObserver(t, Config{Registry: reg})
	h := o.Handler()

	var d NamesDump
	code, body := get(t, h, "/debug/names")
	if code != 200 {
		t.Fatalf("/debug/names = %d", code)
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	if d.Loaded || len(d.Names) != 0 {
		t.Fatalf("names before a table: %+v", d)
	}

	reg.Store(testTable(t))
	_, body = get(t, h, "/debug/names")
	d = NamesDump{}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	if !d.Loaded || d.Serial != 42 {
		t.Fatalf("loaded %v serial %d, want true 42", d.Loaded, d.Serial)
	}
	var web *NameInfo
	for i := range d.Names {
		if strings.TrimSuffix(d.Names[i].Name, ".") == "web.default.svc.cluster.local" {
			web = &d.Names[i]
		}
	}
	if web == nil {
		t.Fatalf("web.default.svc.cluster.local missing from %s", body)
	}
	types := map[string]string{}
	for _, r := range web.Records {
		types[r.Type] = r.Data
		if r.Source != "Service default/web" {
			t.Errorf("record %+v: source %q", r, r.Source)
		}
	}
	if types["A"] != "10.0.0.10" || types["AAAA"] != "fd00:10::a" {
		t.Errorf("web records %+v", web.Records)
	}

	_, body = get(t, h, "/debug/names?q=WEB.default")
	d = NamesDump{}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Names) != 1 {
		t.Fatalf("filtered names %+v, want only web", d.Names)
	}

	// Not for clients outside the pod, unless configured.
	for _, remote := range []string{"10.1.2.3:5000", "[fd00::1]:5000", "garbage"} {
		if code, _ := getFrom(t, h, "/debug/names", remote); code != http.StatusForbidden {
			t.Errorf("/debug/names from %s = %d, want 403", remote, code)
		}
	}
	if code, _ := getFrom(t, h, "/debug/names", "[::1]:5000"); code != 200 {
		t.Errorf("/debug/names from ::1 = %d, want 200", code)
	}
	if code, _ := getFrom(t, h, "/readyz", "10.1.2.3:5000"); code != 200 {
		t.Errorf("/readyz from the pod network = %d, want 200", code)
	}
	o2 := newTestObserver(t, Config{Registry: reg, DebugFromAnywhere: true})
	if code, _ := getFrom(t, o2.Handler(), "/debug/names", "10.1.2.3:5000"); code != 200 {
		t.Errorf("/debug/names from anywhere when allowed = %d, want 200", code)
	}
}

func TestStartServesAndStops(t *testing.T) {
	o := newTestObserver(t, Config{Addr: "127.0.0.1:0"})
	ctx, cancel := context.WithCancel(context.Background())
	addr, err := o.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr.String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != "ok" {
		t.Fatalf("/healthz = %d %q", resp.StatusCode, b)
	}
	cancel()

	// An empty address disables the listener.
	o = newTestObserver(t, Config{})
	addr, err = o.Start(context.Background())
	if addr != nil || err != nil {
		t.Fatalf("Start with empty Addr = %v, %v", addr, err)
	}
	// A taken address is an error, not a silent failure.
	o1 := newTestObserver(t, Config{Addr: "127.0.0.1:0"})
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	a1, err := o1.Start(ctx2)
	if err != nil {
		t.Fatal(err)
	}
	o2 := newTestObserver(t, Config{Addr: a1.String()})
	if _, err := o2.Start(ctx2); err == nil {
		t.Fatal("second listener on the same address succeeded")
	}
}
