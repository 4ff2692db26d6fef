package cache_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/cache"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/miekg/dns"
)

// Forged upstream responses aimed at the cache: only
// the nameserver a query went to can fill the cache, and only for queries
// sent to that nameserver; a forgery never keeps the real answer from being
// learned.

// TestCacheKeyedByServer: an answer learned from one nameserver is given
// only to queries sent to that nameserver. A container of the pod that asks
// an address of its choosing (dig @203.0.113.66, with --capture all) and
// answers itself fills only that address's entries.
func TestCacheKeyedByServer(t *testing.T) {
	r := newCacheRig(t, nil)
	attacker := enginetest.Endpoints{Src: enginetest.Client4, Dst: cacheOtherServer4, SrcPort: 40000, DstPort: 53}
	r.learn(attacker, cacheQ("www.bank.example", dns.TypeA, 0x6666), dns.RcodeSuccess, "www.bank.example. 300 IN A 203.0.113.66")

	victim := cacheEP4(41000) // asks resolv.conf's nameserver
	if res, _ := r.ask(victim, cacheQ("www.bank.example", dns.TypeA, 1)); res.Reason != verdict.ReasonNotOwned {
		t.Fatalf("query to the real nameserver: %v, want not_owned (answered from another server's entry)", res.Reason)
	}
	r.answer(cacheRespEP(victim), cacheReply(t, cacheQ("www.bank.example", dns.TypeA, 1), dns.RcodeSuccess, "www.bank.example. 300 IN A 198.18.7.7"))

	for _, tc := range []struct {
		ep   enginetest.Endpoints
		want string
	}{
		{cacheEP4(42000), "198.18.7.7"},
		{enginetest.Endpoints{Src: enginetest.Client4, Dst: cacheOtherServer4, SrcPort: 42001, DstPort: 53}, "203.0.113.66"},
	} {
		res, m := r.ask(tc.ep, cacheQ("www.bank.example", dns.TypeA, 2))
		if res.Reason != verdict.ReasonCacheHit || len(m.Answer) != 1 || m.Answer[0].(*dns.A).A.String() != tc.want {
			t.Fatalf("query to %v: %v %v, want %s from the cache", tc.ep.Dst, res.Reason, m, tc.want)
		}
	}
	if cm := r.e.CacheMetrics(); cm.Entries != 2 {
		t.Fatalf("%d entries, want one per nameserver", cm.Entries)
	}
}

// TestCacheForgedAnswers: a forged response to a query pending at the real
// nameserver, delivered before the real one, is not learned, is never given
// to anyone, and leaves the query pending: the real response that follows
// is learned and served.
func TestCacheForgedAnswers(t *testing.T) {
	const name = "bank.example.org"
	forged := "bank.example.org. 3600 IN A 203.0.113.66"
	real := "bank.example.org. 60 IN A 198.18.5.5"
	ep := cacheEP4(40000)
	q := cacheQ(name, dns.TypeA, 0x4242)
	tests := []struct {
		name    string
		forge   func(r *cacheRig) verdict.Result // sends the forgery
		outcome string                           // "" when the forgery never reaches the cache's matching
	}{
		{"from another server", func(r *cacheRig) verdict.Result {
			e := cacheRespEP(ep)
			e.Src = cacheOtherServer4
			return r.answer(e, cacheReply(t, q, dns.RcodeSuccess, forged))
		}, "wrong_server"},
		{"from another source port", func(r *cacheRig) verdict.Result {
			e := cacheRespEP(ep)
			e.SrcPort = 5353
			return r.answer(e, cacheReply(t, q, dns.RcodeSuccess, forged))
		}, ""},
		{"to another client port", func(r *cacheRig) verdict.Result {
			e := cacheRespEP(ep)
			e.DstPort++
			return r.answer(e, cacheReply(t, q, dns.RcodeSuccess, forged))
		}, "not_outstanding"},
		{"with another ID", func(r *cacheRig) verdict.Result {
			m := cacheReply(t, q, dns.RcodeSuccess, forged)
			m.Id++
			return r.answer(cacheRespEP(ep), m)
		}, "not_outstanding"},
		{"with another question", func(r *cacheRig) verdict.Result {
			m := cacheReply(t, cacheQ("evil.example.org", dns.TypeA, q.Id), dns.RcodeSuccess, "evil.example.org. 3600 IN A 203.0.113.66")
			return r.answer(cacheRespEP(ep), m)
		}, "question_mismatch"},
		{"with another type", func(r *cacheRig) verdict.Result {
			m := cacheReply(t, cacheQ(name, dns.TypeAAAA, q.Id), dns.RcodeSuccess, "bank.example.org. 3600 IN AAAA 2001:db8::66")
			return r.answer(cacheRespEP(ep), m)
		}, "question_mismatch"},
		{"after the same query to the attacker's server", func(r *cacheRig) verdict.Result {
			// The attacker sends the victim's query (same address, port and
			// ID: a raw socket) to its own server, then answers it.
			e := ep
			e.Dst = cacheOtherServer4
			r.ask(e, q)
			return r.answer(cacheRespEP(e), cacheReply(t, q, dns.RcodeSuccess, forged))
		}, "learned"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newCacheRig(t, nil)
			if res, _ := r.ask(ep, q); res.Reason != verdict.ReasonNotOwned {
				t.Fatalf("query: %v", res.Reason)
			}
			res := tc.forge(r)
			if tc.outcome != "learned" && res.Reason == verdict.ReasonCacheLearned {
				t.Fatalf("forgery learned")
			}
			if got := r.outcomes(); tc.outcome != "" && got[tc.outcome] != 1 {
				t.Fatalf("forgery: outcomes %v, want %s", got, tc.outcome)
			}
			if res := r.answer(cacheRespEP(ep), cacheReply(t, q, dns.RcodeSuccess, real)); res.Reason != verdict.ReasonCacheLearned {
				t.Fatalf("the real answer after the forgery: %v (outcomes %v), want learned", res.Reason, r.outcomes())
			}
			res2, m := r.ask(cacheEP4(42000), cacheQ(name, dns.TypeA, 7))
			if res2.Reason != verdict.ReasonCacheHit || !slices.Equal(cacheRRs(m), []string{"bank.example.org.\t60\tIN\tA\t198.18.5.5"}) {
				t.Fatalf("query to the real nameserver: %v %v, want the real answer", res2.Reason, m)
			}
			if res, _ := r.ask(cacheEP4(42001), cacheQ("evil.example.org", dns.TypeA, 8)); res.Reason != verdict.ReasonNotOwned {
				t.Fatalf("forged name answered: %v", res.Reason)
			}
		})
	}
}

// TestCacheLateForgery: once the real response consumed the query, a later
// response with other records (a late duplicate, or a forgery) is not
// learned and the entry keeps the real answer.
func TestCacheLateForgery(t *testing.T) {
	r := newCacheRig(t, nil)
	ep := cacheEP4(40000)
	q := cacheQ("bank.example.org", dns.TypeA, 0x4242)
	r.learn(ep, q, dns.RcodeSuccess, "bank.example.org. 60 IN A 198.18.5.5")
	for i := range 3 {
		m := cacheReply(t, q, dns.RcodeSuccess, fmt.Sprintf("bank.example.org. 3600 IN A 203.0.113.%d", i))
		if res := r.answer(cacheRespEP(ep), m); res.Reason != verdict.ReasonResponse {
			t.Fatalf("late response %d: %v", i, res.Reason)
		}
	}
	if got := r.outcomes(); got["not_outstanding"] != 3 || got["learned"] != 1 {
		t.Fatalf("outcomes %v", got)
	}
	_, m := r.ask(cacheEP4(42000), cacheQ("bank.example.org", dns.TypeA, 7))
	if m == nil || !slices.Equal(cacheRRs(m), []string{"bank.example.org.\t60\tIN\tA\t198.18.5.5"}) {
		t.Fatalf("entry %v, want the real answer", m)
	}
}

// TestCacheTCOnlyForRequired: a cached answer whose additional records do
// not fit is sent without them and without TC (RFC 2181 section 9); a cut
// into the answer section still sets TC.
func TestCacheTCOnlyForRequired(t *testing.T) {
	r := newCacheRig(t, nil)
	recs := []string{"mail.example.org. 60 IN MX 10 mx.example.org.", "|", "|"}
	for i := range 40 {
		recs = append(recs, fmt.Sprintf("mx.example.org. 60 IN AAAA 2001:db8::%x", i+1))
	}
	q := cacheQ("mail.example.org", dns.TypeMX, 1)
	q.SetEdns0(4096, false)
	rep := r.learn(cacheEP4(40000), q, dns.RcodeSuccess, recs...)
	if n := rep.Len(); n <= 512 {
		t.Fatalf("upstream answer of %d bytes; the test wants more than 512", n)
	}
	res, m := r.ask(cacheEP4(41000), cacheQ("mail.example.org", dns.TypeMX, 2))
	if res.Reason != verdict.ReasonCacheHit || res.Truncated || m.Truncated {
		t.Fatalf("reason %v, TC %v/%v: want a hit without TC", res.Reason, res.Truncated, m.Truncated)
	}
	if len(m.Answer) != 1 || len(m.Extra) == 0 || len(m.Extra) >= 40 || len(res.Packet)-28 > 512 {
		t.Fatalf("%d answers, %d additional, %d bytes: want the MX, the glue that fits, at most 512 bytes", len(m.Answer), len(m.Extra), len(res.Packet)-28)
	}
}

// TestCacheTTLCapBounded: the TTL caps are at most a week; above it (where
// the prefetch arithmetic on 32-bit TTLs once overflowed) the engine is
// not made.
func TestCacheTTLCapBounded(t *testing.T) {
	for _, edit := range []func(*cache.Config){
		func(c *cache.Config) { c.MaxTTL = 429496730 },
		func(c *cache.Config) { c.MaxTTL = cache.MaxTTL + 1 },
		func(c *cache.Config) { c.NegativeTTL = cache.MaxTTL + 1 },
		func(c *cache.Config) { c.ServfailTTL = cache.MaxTTL + 1 },
	} {
		cfg := dnsengine.DefaultConfig()
		edit(&cfg.Cache)
		if _, err := dnsengine.New(cfg, dnsengine.StaticRegistry{}); err == nil {
			t.Errorf("cache config %+v accepted", cfg.Cache)
		}
	}
	cfg := dnsengine.DefaultConfig()
	cfg.Cache.MaxTTL = cache.MaxTTL
	if _, err := dnsengine.New(cfg, dnsengine.StaticRegistry{}); err != nil {
		t.Fatal(err)
	}
}

// TestCachePrefetchWeekTTL: with the largest TTL cap an entry is refreshed
// in the last tenth of its TTL, not before (the test of "last tenth"
// multiplies the remaining TTL by ten).
func TestCachePrefetchWeekTTL(t *testing.T) {
	r := newCacheRig(t, func(c *dnsengine.Config) { c.Cache.MaxTTL = cache.MaxTTL; c.Cache.Prefetch = 1 })
	r.learn(cacheEP4(40000), cacheQ("w.example.org", dns.TypeA, 1), dns.RcodeSuccess, "w.example.org. 604800 IN A 198.18.5.5")
	r.ask(cacheEP4(41000), cacheQ("w.example.org", dns.TypeA, 2))
	if n := len(r.ref.Requests()); n != 0 {
		t.Fatalf("%d refreshes at the start of the TTL", n)
	}
	r.clock.Advance(604800 * 95 / 100 * 1e9)
	r.ask(cacheEP4(41000), cacheQ("w.example.org", dns.TypeA, 3))
	if n := len(r.ref.Requests()); n != 1 {
		t.Fatalf("%d refreshes in the last tenth, want 1", n)
	}
}
