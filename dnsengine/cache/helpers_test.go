package cache_test

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/cache"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/miekg/dns"
)

// cacheRig is an engine with the cache on, a fake clock and a fake
// refresher, and the helpers to play client and upstream.
type cacheRig struct {
	t     testing.TB
	e     *dnsengine.Engine
	clock *cache.FakeClock
	ref   *cache.FakeRefresher
}

func newCacheRig(t testing.TB, edit func(*dnsengine.Config)) *cacheRig {
	t.Helper()
	r := &cacheRig{t: t, clock: &cache.FakeClock{}, ref: &cache.FakeRefresher{}}
	cfg := dnsengine.DefaultConfig()
	cfg.Cache.Clock = r.clock
	cfg.Cache.Refresher = r.ref
	if edit != nil {
		edit(&cfg)
	}
	r.e = enginetest.MustClusterEngine(t, cfg)
	return r
}

// reply returns the upstream's (miekg-built) answer to q with the records
// given in zone-file notation; sections are separated by "|" entries:
// answer... | authority... | additional...
func cacheReply(t testing.TB, q *dns.Msg, rcode int, recs ...string) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetRcode(q, rcode)
	m.RecursionAvailable = true
	m.Compress = true // as real servers do: owners point into the question
	sec := 0
	for _, s := range recs {
		if s == "|" {
			sec++
			continue
		}
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		switch sec {
		case 0:
			m.Answer = append(m.Answer, rr)
		case 1:
			m.Ns = append(m.Ns, rr)
		default:
			m.Extra = append(m.Extra, rr)
		}
	}
	if o := q.IsEdns0(); o != nil {
		m.SetEdns0(4096, o.Do())
	}
	return m
}

// respEndpoints are the endpoints of the response to a query sent from ep.
func cacheRespEP(ep enginetest.Endpoints) enginetest.Endpoints {
	return enginetest.Endpoints{Src: ep.Dst, Dst: ep.Src, SrcPort: ep.DstPort, DstPort: ep.SrcPort}
}

// ask sends query q from ep; on a rewrite it returns the decoded response.
func (r *cacheRig) ask(ep enginetest.Endpoints, q *dns.Msg) (verdict.Result, *dns.Msg) {
	r.t.Helper()
	res, resp, err := enginetest.Ask(r.e, ep, q)
	if err != nil {
		r.t.Fatal(err)
	}
	if resp == nil {
		return res, nil
	}
	return res, resp.Msg
}

// answer sends m as a UDP packet between ep (the upstream's side) and
// checks that it is accepted unmodified.
func (r *cacheRig) answer(ep enginetest.Endpoints, m *dns.Msg) verdict.Result {
	r.t.Helper()
	wire, err := m.Pack()
	if err != nil {
		r.t.Fatal(err)
	}
	return r.answerWire(ep, wire)
}

func (r *cacheRig) answerWire(ep enginetest.Endpoints, wire []byte) verdict.Result {
	r.t.Helper()
	pkt, err := enginetest.UDPPacket(ep, wire)
	if err != nil {
		r.t.Fatal(err)
	}
	orig := bytes.Clone(pkt)
	res := r.e.Process(pkt)
	if res.Verdict != verdict.Accept || !bytes.Equal(pkt, orig) {
		r.t.Fatalf("response: verdict %v (reason %v) or packet modified; want accepted untouched", res.Verdict, res.Reason)
	}
	return res
}

// learn plays a whole cacheExchange: q from ep misses and is passed on, the
// upstream's answer (rcode, records) is learned. It returns the answer.
func (r *cacheRig) learn(ep enginetest.Endpoints, q *dns.Msg, rcode int, recs ...string) *dns.Msg {
	r.t.Helper()
	if res, _ := r.ask(ep, q); res.Reason != verdict.ReasonNotOwned {
		r.t.Fatalf("query before learning: reason %v, want not_owned", res.Reason)
	}
	m := cacheReply(r.t, q, rcode, recs...)
	if res := r.answer(cacheRespEP(ep), m); res.Reason != verdict.ReasonCacheLearned {
		r.t.Fatalf("response: reason %v, want cache_learned (%v)", res.Reason, r.e.CacheMetrics().Responses)
	}
	return m
}

// outcomes returns the response counters by outcome name, non-zero only.
func (r *cacheRig) outcomes() map[string]uint64 {
	out := map[string]uint64{}
	for i, n := range r.e.CacheMetrics().Responses {
		if n != 0 {
			out[cache.Outcome(i).String()] = n
		}
	}
	return out
}

// cacheEP4 is a client endpoint on the default IPv4 addresses with its own port.
func cacheEP4(port uint16) enginetest.Endpoints {
	ep := enginetest.Default4()
	ep.SrcPort = port
	return ep
}

func cacheQ(name string, qtype uint16, id uint16) *dns.Msg {
	m := enginetest.NewQuery(name, qtype)
	m.Id = id
	return m
}

var cacheOtherServer4 = netip.MustParseAddr("198.18.0.9")

func cacheRRs(m *dns.Msg) []string {
	var out []string
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		out = append(out, enginetest.RRStrings(sec)...)
	}
	return out
}
