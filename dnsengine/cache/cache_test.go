package cache_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/cache"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/miekg/dns"
)

// TestCacheLearnAndAnswer: a learned answer is given to a later query with
// the query's own ID and question case, TTLs decremented by the entry's age,
// until it expires.
func TestCacheLearnAndAnswer(t *testing.T) {
	for _, ep := range []enginetest.Endpoints{enginetest.Default4(), enginetest.Default6()} {
		t.Run(ep.Src.String(), func(t *testing.T) {
			r := newCacheRig(t, nil)
			r.learn(ep, cacheQ("www.example.org", dns.TypeA, 0x1111), dns.RcodeSuccess,
				"www.example.org. 60 IN CNAME web.example.org.", "web.example.org. 120 IN A 198.18.5.5")

			ep2 := ep
			ep2.SrcPort = 41000
			q := cacheQ("WwW.ExAmple.ORG", dns.TypeA, 0x2222)
			res, m := r.ask(ep2, q)
			if res.Reason != verdict.ReasonCacheHit || res.Verdict != verdict.Rewrite {
				t.Fatalf("second query: %v/%v, want rewrite/cache_hit", res.Verdict, res.Reason)
			}
			if m.Id != 0x2222 || m.Question[0].Name != "WwW.ExAmple.ORG." || !m.RecursionAvailable || !m.RecursionDesired || m.Authoritative {
				t.Fatalf("header/question not the query's: %v", m)
			}
			// Names the upstream compressed against the question take the
			// asking client's case, as they would from the upstream itself.
			want := []string{"WwW.ExAmple.ORG.\t60\tIN\tCNAME\tweb.ExAmple.ORG.", "web.ExAmple.ORG.\t60\tIN\tA\t198.18.5.5"}
			if got := cacheRRs(m); !slices.Equal(got, want) {
				t.Fatalf("records %q, want %q", got, want)
			}

			r.clock.Advance(25*time.Second + 900*time.Millisecond)
			_, m = r.ask(ep2, q)
			if m == nil || m.Answer[0].Header().Ttl != 35 || m.Answer[1].Header().Ttl != 35 {
				t.Fatalf("after 25.9 s: %v, want TTL 35", m)
			}
			r.clock.Advance(34 * time.Second) // 59.9 s
			if _, m = r.ask(ep2, q); m == nil || m.Answer[0].Header().Ttl != 1 {
				t.Fatalf("after 59.9 s: %v, want TTL 1", m)
			}
			r.clock.Advance(100 * time.Millisecond) // 60 s: expired
			if res, _ := r.ask(ep2, q); res.Reason != verdict.ReasonNotOwned {
				t.Fatalf("after expiry: reason %v, want not_owned", res.Reason)
			}
			cm := r.e.CacheMetrics()
			if cm.Hits != 3 || cm.Misses != 2 || cm.Responses[cache.Learned] != 1 {
				t.Fatalf("metrics %+v", cm)
			}
		})
	}
}

// TestCacheMatchRules: a response is learned only when it answers a pending
// query exactly; anything else passes through untouched and is not cached.
func TestCacheMatchRules(t *testing.T) {
	const name = "www.example.org"
	ep := cacheEP4(40000)
	answer := []string{"www.example.org. 60 IN A 198.18.5.5"}
	tests := []struct {
		name    string
		edit    func(r *cacheRig, rep *dns.Msg, rep2 *enginetest.Endpoints)
		outcome string
	}{
		{"id mismatch", func(_ *cacheRig, m *dns.Msg, _ *enginetest.Endpoints) { m.Id++ }, "not_outstanding"},
		{"port mismatch", func(_ *cacheRig, _ *dns.Msg, e *enginetest.Endpoints) { e.DstPort++ }, "not_outstanding"},
		{"client mismatch", func(_ *cacheRig, _ *dns.Msg, e *enginetest.Endpoints) { e.Dst = enginetest.Server4 }, "not_outstanding"},
		{"wrong server", func(_ *cacheRig, _ *dns.Msg, e *enginetest.Endpoints) { e.Src = cacheOtherServer4 }, "wrong_server"},
		{"question name", func(_ *cacheRig, m *dns.Msg, _ *enginetest.Endpoints) { m.Question[0].Name = "evil.example.org." }, "question_mismatch"},
		{"question type", func(_ *cacheRig, m *dns.Msg, _ *enginetest.Endpoints) { m.Question[0].Qtype = dns.TypeAAAA }, "question_mismatch"},
		{"late", func(r *cacheRig, _ *dns.Msg, _ *enginetest.Endpoints) { r.clock.Advance(5*time.Second + 1) }, "late"},
		{"truncated", func(_ *cacheRig, m *dns.Msg, _ *enginetest.Endpoints) { m.Truncated = true }, "truncated"},
		{"refused", func(_ *cacheRig, m *dns.Msg, _ *enginetest.Endpoints) { m.Rcode, m.Answer = dns.RcodeRefused, nil }, "rcode"},
		{"servfail", func(_ *cacheRig, m *dns.Msg, _ *enginetest.Endpoints) {
			m.Rcode, m.Answer = dns.RcodeServerFailure, nil
		}, "rcode"},
		{"not a response", func(_ *cacheRig, m *dns.Msg, _ *enginetest.Endpoints) { m.Response = false }, "unsupported"},
		{"signed", func(_ *cacheRig, m *dns.Msg, _ *enginetest.Endpoints) {
			m.SetTsig("key.", dns.HmacSHA256, 300, time.Now().Unix())
			m.Extra = append(m.Extra, &dns.TSIG{Hdr: dns.RR_Header{Name: "key.", Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
				Algorithm: dns.HmacSHA256, TimeSigned: 1, Fudge: 300})
			m.Extra = m.Extra[len(m.Extra)-1:]
		}, "unsupported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newCacheRig(t, nil)
			q := cacheQ(name, dns.TypeA, 0x1111)
			if res, _ := r.ask(ep, q); res.Reason != verdict.ReasonNotOwned {
				t.Fatalf("query: %v", res.Reason)
			}
			rep := cacheReply(t, q, dns.RcodeSuccess, answer...)
			rep2 := cacheRespEP(ep)
			tc.edit(r, rep, &rep2)
			if res := r.answer(rep2, rep); res.Reason != verdict.ReasonResponse {
				t.Fatalf("response reason %v, want response (not learned)", res.Reason)
			}
			if got := r.outcomes(); len(got) != 1 || got[tc.outcome] != 1 {
				t.Fatalf("outcomes %v, want %s: 1", got, tc.outcome)
			}
			for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
				for _, n := range []string{name, "evil.example.org"} {
					if res, _ := r.ask(cacheEP4(42000), cacheQ(n, qt, 7)); res.Reason != verdict.ReasonNotOwned {
						t.Fatalf("%s %d answered from the cache (%v) after a rejected response", n, qt, res.Reason)
					}
				}
			}
			if cm := r.e.CacheMetrics(); cm.Entries != 0 {
				t.Fatalf("%d entries", cm.Entries)
			}
		})
	}
}

// TestCacheSpoofKeepsQuery: a forged response for a pending query (right
// client, port and ID, another question) is not learned and leaves the
// query pending: the genuine response after it is learned, a duplicate is
// not. A retransmitted query (same client, port, ID and server) replaces
// the pending one; its answer is learned once.
func TestCacheSpoofKeepsQuery(t *testing.T) {
	r := newCacheRig(t, nil)
	ep := cacheEP4(40000)
	q := cacheQ("bank.example.org", dns.TypeA, 0x4242)
	r.ask(ep, q)
	spoof := cacheReply(t, cacheQ("evil.example.org", dns.TypeA, 0x4242), dns.RcodeSuccess, "evil.example.org. 3600 IN A 198.18.6.6")
	if res := r.answer(cacheRespEP(ep), spoof); res.Reason != verdict.ReasonResponse {
		t.Fatalf("spoof: %v", res.Reason)
	}
	real := cacheReply(t, q, dns.RcodeSuccess, "bank.example.org. 60 IN A 198.18.5.5")
	r.answer(cacheRespEP(ep), real)
	r.answer(cacheRespEP(ep), real)
	got := r.outcomes()
	if got["question_mismatch"] != 1 || got["not_outstanding"] != 1 || got["learned"] != 1 {
		t.Fatalf("outcomes %v", got)
	}
	if res, _ := r.ask(cacheEP4(42000), cacheQ("evil.example.org", dns.TypeA, 1)); res.Reason != verdict.ReasonNotOwned {
		t.Fatalf("spoofed name: %v", res.Reason)
	}
	q2 := cacheQ("other.example.org", dns.TypeA, 0x4343)
	r.ask(ep, q2)
	r.ask(ep, q2)
	real2 := cacheReply(t, q2, dns.RcodeSuccess, "other.example.org. 60 IN A 198.18.5.6")
	if res := r.answer(cacheRespEP(ep), real2); res.Reason != verdict.ReasonCacheLearned {
		t.Fatalf("answer to the retransmission: %v", res.Reason)
	}
	if res := r.answer(cacheRespEP(ep), real2); res.Reason != verdict.ReasonResponse {
		t.Fatalf("duplicate answer: %v", res.Reason)
	}
}

// TestCacheTTLPolicy covers the TTL rules: positive answers capped by
// MaxTTL, negative ones by min(SOA TTL, MINIMUM, NegativeTTL), SERVFAIL only
// when ServfailTTL is set, and the answers that are never cached.
func TestCacheTTLPolicy(t *testing.T) {
	const soaRR = "example.org. %d IN SOA ns.example.org. host.example.org. 1 7200 1800 86400 %d"
	soa := func(ttl, minimum int) string { return fmt.Sprintf(soaRR, ttl, minimum) }
	tests := []struct {
		name   string
		cfg    func(*dnsengine.Config)
		rcode  int
		recs   []string
		ttl    uint32 // 0: not cached
		reject string
	}{
		{name: "positive min of records", rcode: dns.RcodeSuccess,
			recs: []string{"x.example.org. 200 IN CNAME y.example.org.", "y.example.org. 100 IN A 198.18.5.5"}, ttl: 100},
		{name: "positive capped", rcode: dns.RcodeSuccess, recs: []string{"x.example.org. 86400 IN A 198.18.5.5"}, ttl: 300},
		{name: "positive cap configured", cfg: func(c *dnsengine.Config) { c.Cache.MaxTTL = 30 }, rcode: dns.RcodeSuccess,
			recs: []string{"x.example.org. 86400 IN A 198.18.5.5"}, ttl: 30},
		{name: "nxdomain capped", rcode: dns.RcodeNameError, recs: []string{"|", soa(3600, 3600)}, ttl: 5},
		{name: "nxdomain soa minimum", cfg: func(c *dnsengine.Config) { c.Cache.NegativeTTL = 100 }, rcode: dns.RcodeNameError,
			recs: []string{"|", soa(3600, 60)}, ttl: 60},
		{name: "nxdomain soa ttl", cfg: func(c *dnsengine.Config) { c.Cache.NegativeTTL = 100 }, rcode: dns.RcodeNameError,
			recs: []string{"|", soa(30, 60)}, ttl: 30},
		{name: "nodata", cfg: func(c *dnsengine.Config) { c.Cache.NegativeTTL = 100 }, rcode: dns.RcodeSuccess,
			recs: []string{"|", soa(3600, 45)}, ttl: 45},
		{name: "nodata after cname", cfg: func(c *dnsengine.Config) { c.Cache.NegativeTTL = 100 }, rcode: dns.RcodeSuccess,
			recs: []string{"x.example.org. 3600 IN CNAME y.example.org.", "|", soa(3600, 45)}, ttl: 45},
		{name: "negative off", cfg: func(c *dnsengine.Config) { c.Cache.NegativeTTL = 0 }, rcode: dns.RcodeNameError,
			recs: []string{"|", soa(3600, 60)}, reject: "zero_ttl"},
		{name: "nxdomain without soa", rcode: dns.RcodeNameError, reject: "no_soa"},
		{name: "referral", rcode: dns.RcodeSuccess, recs: []string{"|", "example.org. 3600 IN NS ns.example.org."}, reject: "no_soa"},
		{name: "servfail off", rcode: dns.RcodeServerFailure, reject: "rcode"},
		{name: "servfail on", cfg: func(c *dnsengine.Config) { c.Cache.ServfailTTL = 2 }, rcode: dns.RcodeServerFailure, ttl: 2},
		{name: "zero ttl", rcode: dns.RcodeSuccess, recs: []string{"x.example.org. 0 IN A 198.18.5.5"}, reject: "zero_ttl"},
		{name: "ttl high bit is zero", rcode: dns.RcodeSuccess, recs: []string{"x.example.org. 2147483648 IN A 198.18.5.5"}, reject: "zero_ttl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newCacheRig(t, tc.cfg)
			ep := cacheEP4(40000)
			q := cacheQ("x.example.org", dns.TypeA, 0x1111)
			r.ask(ep, q)
			rep := cacheReply(t, q, tc.rcode, tc.recs...)
			res := r.answer(cacheRespEP(ep), rep)
			if tc.ttl == 0 {
				if res.Reason != verdict.ReasonResponse || r.outcomes()[tc.reject] != 1 {
					t.Fatalf("reason %v outcomes %v, want rejected as %s", res.Reason, r.outcomes(), tc.reject)
				}
				if res, _ := r.ask(cacheEP4(41000), cacheQ("x.example.org", dns.TypeA, 2)); res.Reason != verdict.ReasonNotOwned {
					t.Fatalf("answered from the cache: %v", res.Reason)
				}
				return
			}
			if res.Reason != verdict.ReasonCacheLearned {
				t.Fatalf("reason %v, outcomes %v", res.Reason, r.outcomes())
			}
			q2 := cacheQ("x.example.org", dns.TypeA, 2)
			res, m := r.ask(cacheEP4(41000), q2)
			if res.Reason != verdict.ReasonCacheHit || m.Rcode != tc.rcode {
				t.Fatalf("hit: %v rcode %v", res.Reason, m)
			}
			for _, rr := range append(append([]dns.RR{}, m.Answer...), m.Ns...) {
				if rr.Header().Ttl != tc.ttl {
					t.Fatalf("record %v: TTL %d, want %d", rr, rr.Header().Ttl, tc.ttl)
				}
			}
			if len(m.Answer)+len(m.Ns) != len(rep.Answer)+len(rep.Ns) {
				t.Fatalf("records %v, want those of %v", m, rep)
			}
			r.clock.Advance(time.Duration(tc.ttl)*time.Second - 1)
			if res, _ := r.ask(cacheEP4(41000), q2); res.Reason != verdict.ReasonCacheHit {
				t.Fatalf("just before expiry: %v", res.Reason)
			}
			r.clock.Advance(1)
			if res, _ := r.ask(cacheEP4(41000), q2); res.Reason != verdict.ReasonNotOwned {
				t.Fatalf("at expiry: %v", res.Reason)
			}
		})
	}
}

// TestCacheKey: DO and CD bits and the type are part of the key; a mesh
// name is never answered from the cache.
func TestCacheKey(t *testing.T) {
	r := newCacheRig(t, nil)
	ep := cacheEP4(40000)
	r.learn(ep, cacheQ("k.example.org", dns.TypeA, 1), dns.RcodeSuccess, "k.example.org. 60 IN A 198.18.5.5")
	do := cacheQ("k.example.org", dns.TypeA, 2)
	do.SetEdns0(1232, true)
	cd := cacheQ("k.example.org", dns.TypeA, 3)
	cd.CheckingDisabled = true
	edns := cacheQ("k.example.org", dns.TypeA, 4)
	edns.SetEdns0(1232, false)
	for _, tc := range []struct {
		name string
		q    *dns.Msg
		want verdict.Reason
	}{
		{"DO", do, verdict.ReasonNotOwned},
		{"CD", cd, verdict.ReasonNotOwned},
		{"AAAA", cacheQ("k.example.org", dns.TypeAAAA, 5), verdict.ReasonNotOwned},
		{"EDNS without DO", edns, verdict.ReasonCacheHit},
	} {
		res, m := r.ask(cacheEP4(41000), tc.q)
		if res.Reason != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, res.Reason, tc.want)
		}
		if m != nil {
			if o := m.IsEdns0(); o == nil || o.UDPSize() != 1232 || o.Do() {
				t.Errorf("%s: OPT %v, want size 1232 without DO", tc.name, o)
			}
		}
	}
	// The table answers mesh names before the cache is asked.
	r.learn(ep, cacheQ("payments.example.com", dns.TypeTXT, 6), dns.RcodeSuccess, "payments.example.com. 60 IN TXT \"upstream\"")
	if res, _ := r.ask(cacheEP4(41000), cacheQ("payments.example.com", dns.TypeA, 7)); res.Reason != verdict.ReasonAnswered {
		t.Fatalf("mesh name: %v", res.Reason)
	}
	if res, _ := r.ask(cacheEP4(41000), cacheQ("payments.example.com", dns.TypeTXT, 8)); res.Reason != verdict.ReasonCacheHit {
		t.Fatalf("a type the table does not own: %v", res.Reason)
	}
}

// TestCacheTruncation: a cached answer too big for the client's UDP size is
// truncated to whole records with TC set, as mesh answers are.
func TestCacheTruncation(t *testing.T) {
	r := newCacheRig(t, nil)
	ep := cacheEP4(40000)
	var recs []string
	for i := range 40 {
		recs = append(recs, fmt.Sprintf("big.example.org. 60 IN TXT \"record %02d padding padding padding\"", i))
	}
	q := cacheQ("big.example.org", dns.TypeTXT, 1)
	q.SetEdns0(4096, false)
	rep := r.learn(ep, q, dns.RcodeSuccess, recs...)
	if n := rep.Len(); n < 1400 || n > 4096 {
		t.Fatalf("upstream answer of %d bytes; the test wants 1400..4096", n)
	}
	for _, tc := range []struct {
		name  string
		edns  uint16
		trunc bool
	}{{"no EDNS", 0, true}, {"EDNS 1232", 1232, true}, {"EDNS 4096", 4096, true}, {"EDNS 4096, edns-size allows", 4096, false}} {
		rr := r
		if !tc.trunc {
			rr = newCacheRig(t, func(c *dnsengine.Config) { c.EDNSSize = 4096 })
			rr.learn(ep, q, dns.RcodeSuccess, recs...)
		}
		q2 := cacheQ("big.example.org", dns.TypeTXT, 9)
		if tc.edns != 0 {
			q2.SetEdns0(tc.edns, false)
		}
		res, m := rr.ask(cacheEP4(41000), q2)
		if res.Reason != verdict.ReasonCacheHit || res.Truncated != tc.trunc || m.Truncated != tc.trunc {
			t.Fatalf("%s: reason %v truncated %v/%v", tc.name, res.Reason, res.Truncated, m.Truncated)
		}
		limit := 512
		if tc.edns != 0 {
			limit = int(min(tc.edns, rr.e.Config().EDNSSize))
		}
		wire := len(res.Packet) - 28 // IPv4 + UDP headers
		if wire > limit || (!tc.trunc && len(m.Answer) != 40) || (tc.trunc && len(m.Answer) >= 40) || len(m.Answer) == 0 {
			t.Fatalf("%s: %d bytes, %d answers (limit %d)", tc.name, wire, len(m.Answer), limit)
		}
	}
}
