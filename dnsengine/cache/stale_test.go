package cache_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/cache"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/miekg/dns"
)

// TestCacheServeStale: past its TTL and within the stale window an entry is
// answered with TTL 30 while one refresh (per retry interval) is asked for;
// the refresh's answer replaces it; past the window it is gone.
func TestCacheServeStale(t *testing.T) {
	r := newCacheRig(t, func(c *dnsengine.Config) { c.Cache.Stale = 3600 })
	ep := cacheEP4(40000)
	q := cacheQ("s.example.org", dns.TypeA, 1)
	q.SetEdns0(1232, true)
	r.learn(ep, q, dns.RcodeSuccess, "s.example.org. 10 IN A 198.18.5.5")

	r.clock.Advance(15 * time.Second)
	q2 := cacheQ("S.example.org", dns.TypeA, 2)
	q2.SetEdns0(1232, true)
	res, m := r.ask(cacheEP4(41000), q2)
	if res.Reason != verdict.ReasonCacheStale || m.Answer[0].Header().Ttl != cache.StaleAnswerTTL {
		t.Fatalf("stale answer: %v %v", res.Reason, m)
	}
	reqs := r.ref.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d refresh requests, want 1", len(reqs))
	}
	req := reqs[0]
	if req.Server != enginetest.Server4 || req.NameString() != "s.example.org." || req.Type != dns.TypeA || req.Class != dns.ClassINET || !req.DO || req.CD {
		t.Fatalf("refresh request %+v %s", req, req.NameString())
	}
	// Within the retry interval no second refresh is asked for.
	r.clock.Advance(4 * time.Second)
	if res, _ := r.ask(cacheEP4(41000), q2); res.Reason != verdict.ReasonCacheStale {
		t.Fatalf("%v", res.Reason)
	}
	if n := len(r.ref.Requests()); n != 0 {
		t.Fatalf("%d refreshes within the retry interval", n)
	}
	// The refresh answer (as the upstream sends it to meshdns's socket).
	fresh := cacheReply(t, q, dns.RcodeSuccess, "s.example.org. 20 IN A 198.18.5.6")
	fresh.Id = 0x7777
	wire, _ := fresh.Pack()
	wrong := req
	wrong.Type = dns.TypeAAAA
	if o := r.e.LearnRefresh(wrong, wire); o != cache.QuestionMismatch {
		t.Fatalf("refresh answer for another question: %v", o)
	}
	if o := r.e.LearnRefresh(req, wire); o != cache.Learned {
		t.Fatalf("LearnRefresh: %v", o)
	}
	res, m = r.ask(cacheEP4(41000), q2)
	if res.Reason != verdict.ReasonCacheHit || m.Answer[0].(*dns.A).A.String() != "198.18.5.6" || m.Answer[0].Header().Ttl != 20 {
		t.Fatalf("after refresh: %v %v", res.Reason, m)
	}
	// The upstream stays down: stale answers until the window closes, a
	// refresh asked again every retry interval.
	r.clock.Advance(25 * time.Second)
	r.ask(cacheEP4(41000), q2)
	r.clock.Advance(6 * time.Second)
	r.ask(cacheEP4(41000), q2)
	if n := len(r.ref.Requests()); n != 2 {
		t.Fatalf("%d refreshes, want 2", n)
	}
	r.clock.Advance(3600 * time.Second)
	if res, _ := r.ask(cacheEP4(41000), q2); res.Reason != verdict.ReasonNotOwned {
		t.Fatalf("past the stale window: %v", res.Reason)
	}
	cm := r.e.CacheMetrics()
	if cm.Stale != 4 || cm.Refreshes != 3 || cm.Expired != 1 || cm.Responses[cache.Learned] != 2 || cm.Responses[cache.QuestionMismatch] != 1 {
		t.Fatalf("metrics %+v", cm)
	}
}

// TestCacheStaleOff: without Stale an expired entry is a miss and nothing
// is refreshed.
func TestCacheStaleOff(t *testing.T) {
	r := newCacheRig(t, nil)
	ep := cacheEP4(40000)
	r.learn(ep, cacheQ("s.example.org", dns.TypeA, 1), dns.RcodeSuccess, "s.example.org. 10 IN A 198.18.5.5")
	r.clock.Advance(10 * time.Second)
	if res, _ := r.ask(cacheEP4(41000), cacheQ("s.example.org", dns.TypeA, 2)); res.Reason != verdict.ReasonNotOwned {
		t.Fatalf("%v", res.Reason)
	}
	if n := len(r.ref.Requests()); n != 0 {
		t.Fatalf("%d refreshes", n)
	}
}

// TestCacheRefreshDropped: a full refresher queue does not block or fail
// the stale answer; it is counted.
func TestCacheRefreshDropped(t *testing.T) {
	r := newCacheRig(t, func(c *dnsengine.Config) { c.Cache.Stale = 60 })
	r.ref.Cap = 1
	ep := cacheEP4(40000)
	r.ref.Refresh(cache.RefreshRequest{}) // fills the queue
	r.learn(ep, cacheQ("s.example.org", dns.TypeA, 1), dns.RcodeSuccess, "s.example.org. 10 IN A 198.18.5.5")
	r.clock.Advance(11 * time.Second)
	if res, _ := r.ask(cacheEP4(41000), cacheQ("s.example.org", dns.TypeA, 2)); res.Reason != verdict.ReasonCacheStale {
		t.Fatalf("%v", res.Reason)
	}
	if cm := r.e.CacheMetrics(); cm.RefreshDropped != 1 || cm.Refreshes != 0 {
		t.Fatalf("%+v", cm)
	}
}

// TestCachePrefetch: an entry answered Prefetch times is refreshed by the
// hit that finds it in the last tenth of its TTL, once per retry interval;
// an unpopular one is not.
func TestCachePrefetch(t *testing.T) {
	r := newCacheRig(t, func(c *dnsengine.Config) { c.Cache.Prefetch = 3 })
	ep := cacheEP6()
	r.learn(ep, cacheQ("p.example.org", dns.TypeAAAA, 1), dns.RcodeSuccess, "p.example.org. 100 IN AAAA fd53::5")
	r.learn(ep, cacheQ("u.example.org", dns.TypeAAAA, 2), dns.RcodeSuccess, "u.example.org. 100 IN AAAA fd53::6")
	ask := func(name string) {
		t.Helper()
		ep2 := ep
		ep2.SrcPort = 41000
		if res, _ := r.ask(ep2, cacheQ(name, dns.TypeAAAA, 9)); res.Reason != verdict.ReasonCacheHit {
			t.Fatalf("%s: %v", name, res.Reason)
		}
	}
	ask("p.example.org")
	ask("p.example.org")
	r.clock.Advance(85 * time.Second) // 15 s left: not yet
	ask("p.example.org")
	ask("u.example.org")
	if n := len(r.ref.Requests()); n != 0 {
		t.Fatalf("%d prefetches with 15 s left", n)
	}
	r.clock.Advance(6 * time.Second) // 9 s left
	ask("u.example.org")
	ask("p.example.org")
	ask("p.example.org")
	reqs := r.ref.Requests()
	if len(reqs) != 1 || reqs[0].NameString() != "p.example.org." || reqs[0].Server != enginetest.Server6 || reqs[0].Type != dns.TypeAAAA {
		t.Fatalf("prefetches %+v", reqs)
	}
}

// TestRefreshRequest covers the exported constructor.
func TestRefreshRequest(t *testing.T) {
	req, err := cache.NewRefreshRequest(netip.MustParseAddr("::ffff:198.18.0.1"), "WWW.Example.org", dns.TypeA, false, true)
	if err != nil {
		t.Fatal(err)
	}
	if req.Server != enginetest.Server4 || req.NameString() != "www.example.org." || string(req.Name()) != "\x03www\x07example\x03org\x00" || !req.CD {
		t.Fatalf("%+v", req)
	}
	if _, err := cache.NewRefreshRequest(netip.Addr{}, "x.", 1, false, false); err == nil {
		t.Fatal("invalid server accepted")
	}
	if _, err := cache.NewRefreshRequest(enginetest.Server4, "a..b", 1, false, false); err == nil {
		t.Fatal("bad name accepted")
	}
}

// TestCacheConfigValidate: serve-stale and prefetch need a Refresher.
func TestCacheConfigValidate(t *testing.T) {
	cfg := dnsengine.DefaultConfig()
	cfg.Cache.Stale = 10
	if _, err := dnsengine.New(cfg, dnsengine.StaticRegistry{}); err == nil {
		t.Fatal("stale without refresher accepted")
	}
	cfg.Cache.Size = -1
	if _, err := dnsengine.New(cfg, dnsengine.StaticRegistry{}); err == nil {
		t.Fatal("negative size accepted")
	}
}

func cacheEP6() enginetest.Endpoints { return enginetest.Default6() }
