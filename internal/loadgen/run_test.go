package loadgen

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/clusterdns"
	"github.com/miekg/dns"
)

// startUpstream serves clusterdns.ExampleZone on loopback.
func startUpstream(t *testing.T, mode clusterdns.Mode) (*clusterdns.Server, netip.AddrPort) {
	t.Helper()
	s, err := clusterdns.New(clusterdns.Config{Zone: clusterdns.ExampleZone, Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ListenAndServe("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s, netip.MustParseAddrPort(s.UDPAddrs()[0].String())
}

// testLookups: an external pair, a "mesh" pair whose Local answer the
// upstream never gives (so it is answered Upstream), and a single query
// whose expectations are both wrong.
func testLookups() []Lookup {
	return []Lookup{
		Pair("www.example.org", nil, NoError("198.19.0.10"), nil, NoError("fd53:19::10")),
		Pair("web.default.svc.cluster.local.", NoError("10.96.23.17"), NoError("198.19.1.1"), NoError(), NoError("fd53:19::1:1")),
		Single("example.net", dns.TypeA, nil, NoError("192.0.2.1")),
		Single("missing.example.org", dns.TypeA, nil, NXDomain()),
	}
}

func TestRunAccountsForEveryQuery(t *testing.T) {
	srv, addr := startUpstream(t, clusterdns.Answer)
	res, err := Run(context.Background(), Config{
		Server:   addr,
		Lookups:  testLookups(),
		Rate:     400,
		Duration: 250 * time.Millisecond,
		Timeout:  5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary()
	// 100 lookups: 25 cycles of 4 lookups, 6 queries a cycle.
	if len(res.Records) != 150 || s.Sent != 150 {
		t.Fatalf("records %d sent %d, want 150", len(res.Records), s.Sent)
	}
	if s.NotSent != 0 || s.Lost != 0 || s.Local != 0 {
		t.Errorf("summary %+v: want no lost, not sent or local", s.Counts)
	}
	if s.Upstream != 125 || s.Wrong != 25 {
		t.Errorf("upstream %d wrong %d, want 125 and 25", s.Upstream, s.Wrong)
	}
	if got := srv.Totals().UDP; got != 150 {
		t.Errorf("upstream received %d queries, want 150", got)
	}
	if len(res.WrongSamples) == 0 || !strings.Contains(res.WrongSamples[0], "example.net. A") {
		t.Errorf("wrong samples %q", res.WrongSamples)
	}
	for _, rec := range res.Records {
		if rec.Class.Answered() != (rec.Latency >= 0) {
			t.Fatalf("record %+v: latency and class disagree", rec)
		}
		if want := strings.Contains(res.Describe(rec), "web.default"); rec.Mesh != want {
			t.Fatalf("record %s: Mesh %v", res.Describe(rec), rec.Mesh)
		}
	}
	if s.Latency.Max <= 0 || s.Latency.P50 > s.Latency.Max {
		t.Errorf("latency %+v", s.Latency)
	}
	tl := res.Timeline()
	sum := 0
	for _, sec := range tl {
		sum += sec.Sent
	}
	if len(tl) != 1 || sum != 150 {
		t.Errorf("timeline %+v", tl)
	}
}

func TestRunLosesWhatIsNotAnswered(t *testing.T) {
	_, addr := startUpstream(t, clusterdns.Drop)
	res, err := Run(context.Background(), Config{
		Server:   addr,
		Lookups:  testLookups()[:1],
		Rate:     200,
		Duration: 50 * time.Millisecond,
		Timeout:  200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary()
	if s.Sent != 20 || s.Lost != 20 || s.Answered() != 0 {
		t.Errorf("summary %+v: want 20 sent, 20 lost", s.Counts)
	}
	if d, ok := res.Converge(res.Start, time.Time{}, Any, IsCorrect); ok {
		t.Errorf("Converge on an all-lost run: %v, true", d)
	}
}

func TestRunLateAnswersAreLost(t *testing.T) {
	s, err := clusterdns.New(clusterdns.Config{Zone: clusterdns.ExampleZone, Delay: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ListenAndServe("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	res, err := Run(context.Background(), Config{
		Server:   netip.MustParseAddrPort(s.UDPAddrs()[0].String()),
		Lookups:  testLookups()[:1],
		Rate:     100,
		Duration: 50 * time.Millisecond,
		Timeout:  100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum := res.Summary(); sum.Sent != 10 || sum.Lost != 10 || res.Late != 10 {
		t.Errorf("answers after the timeout: %+v, late %d; want 10 sent, lost and late", sum.Counts, res.Late)
	}
}

func TestRunCancelled(t *testing.T) {
	_, addr := startUpstream(t, clusterdns.Answer)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Run(ctx, Config{Server: addr, Lookups: testLookups(), Rate: 100, Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if s := res.Summary(); s.Sent != 0 || s.NotSent != len(res.Records) {
		t.Errorf("cancelled run: %+v", s.Counts)
	}
}

func TestConfigRejected(t *testing.T) {
	addr := netip.MustParseAddrPort("127.0.0.1:53")
	good := Config{Server: addr, Lookups: testLookups(), Rate: 10, Duration: time.Second}
	for name, mod := range map[string]func(*Config){
		"no server":     func(c *Config) { c.Server = netip.AddrPort{} },
		"no lookups":    func(c *Config) { c.Lookups = nil },
		"empty lookup":  func(c *Config) { c.Lookups = []Lookup{{}} },
		"no upstream":   func(c *Config) { c.Lookups = []Lookup{{Queries: []Query{{Name: "a.", Type: dns.TypeA}}}} },
		"bad name":      func(c *Config) { c.Lookups = []Lookup{Single("a..b", dns.TypeA, nil, NoError())} },
		"zero rate":     func(c *Config) { c.Rate = 0 },
		"zero duration": func(c *Config) { c.Duration = 0 },
		"too many":      func(c *Config) { c.Rate, c.Duration, c.MaxQueries = 1000, time.Minute, 1000 },
	} {
		c := good
		mod(&c)
		if _, err := Run(context.Background(), c); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
