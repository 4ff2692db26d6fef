package dnsengine_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/miekg/dns"
)

func testTable(t testing.TB) *dnsengine.Table { return enginetest.MustClusterTable(t) }

func testEngine(t testing.TB, cfg dnsengine.Config) *dnsengine.Engine {
	t.Helper()
	return enginetest.MustClusterEngine(t, cfg)
}

const soa = "cluster.local.\t5\tIN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local. 1700000000 7200 1800 86400 5"

// TestAnswers covers every name form of the table, in zone-file notation.
func TestAnswers(t *testing.T) {
	e := testEngine(t, dnsengine.DefaultConfig())
	tests := []struct {
		q      string // "name TYPE"
		reason verdict.Reason
		rcode  int
		answer []string // sorted
		ns     []string
		extra  []string
	}{
		{q: "web.default.svc.cluster.local. A", reason: verdict.ReasonAnswered,
			answer: []string{"web.default.svc.cluster.local.\t30\tIN\tA\t10.96.0.10"}},
		{q: "WEB.Default.SVC.cluster.LOCAL. A", reason: verdict.ReasonAnswered,
			answer: []string{"WEB.Default.SVC.cluster.LOCAL.\t30\tIN\tA\t10.96.0.10"}},
		{q: "web.default.svc.cluster.local. AAAA", reason: verdict.ReasonNoData, ns: []string{soa}},
		{q: "web.default.svc.cluster.local. MX", reason: verdict.ReasonNoData, ns: []string{soa}},
		{q: "api.default.svc.cluster.local. AAAA", reason: verdict.ReasonAnswered,
			answer: []string{"api.default.svc.cluster.local.\t30\tIN\tAAAA\tfd00:10:96::20"}},
		{q: "db.default.svc.cluster.local. A", reason: verdict.ReasonAnswered, answer: []string{
			"db.default.svc.cluster.local.\t30\tIN\tA\t10.244.1.5",
			"db.default.svc.cluster.local.\t30\tIN\tA\t10.244.2.6",
			"db.default.svc.cluster.local.\t30\tIN\tA\t10.244.3.7"}},
		{q: "db-1.db.default.svc.cluster.local. A", reason: verdict.ReasonAnswered,
			answer: []string{"db-1.db.default.svc.cluster.local.\t30\tIN\tA\t10.244.2.6"}},
		{q: "10-244-3-7.db.default.svc.cluster.local. A", reason: verdict.ReasonAnswered,
			answer: []string{"10-244-3-7.db.default.svc.cluster.local.\t30\tIN\tA\t10.244.3.7"}},
		{q: "_http._tcp.web.default.svc.cluster.local. SRV", reason: verdict.ReasonAnswered,
			answer: []string{"_http._tcp.web.default.svc.cluster.local.\t30\tIN\tSRV\t0 100 80 web.default.svc.cluster.local."},
			extra:  []string{"web.default.svc.cluster.local.\t30\tIN\tA\t10.96.0.10"}},
		{q: "_pg._tcp.db.default.svc.cluster.local. SRV", reason: verdict.ReasonAnswered,
			answer: []string{
				"_pg._tcp.db.default.svc.cluster.local.\t30\tIN\tSRV\t0 33 5432 db-0.db.default.svc.cluster.local.",
				"_pg._tcp.db.default.svc.cluster.local.\t30\tIN\tSRV\t0 33 5432 db-1.db.default.svc.cluster.local."},
			extra: []string{
				"db-0.db.default.svc.cluster.local.\t30\tIN\tA\t10.244.1.5",
				"db-1.db.default.svc.cluster.local.\t30\tIN\tA\t10.244.2.6"}},
		{q: "_tcp.db.default.svc.cluster.local. SRV", reason: verdict.ReasonNoData, ns: []string{soa}},
		// ExternalName: the CNAME alone for CNAME/ANY; other types need the
		// target's records, added when the table holds the target and
		// otherwise left to the cluster DNS.
		{q: "search.default.svc.cluster.local. CNAME", reason: verdict.ReasonAnswered,
			answer: []string{"search.default.svc.cluster.local.\t30\tIN\tCNAME\twww.example.org."}},
		{q: "search.default.svc.cluster.local. A", reason: verdict.ReasonNotOwned},
		{q: "search.default.svc.cluster.local. TXT", reason: verdict.ReasonNotOwned},
		{q: "pay.default.svc.cluster.local. A", reason: verdict.ReasonAnswered, answer: []string{
			"pay.default.svc.cluster.local.\t30\tIN\tCNAME\tpayments.example.com.",
			"payments.example.com.\t30\tIN\tA\t203.0.113.10",
			"payments.example.com.\t30\tIN\tA\t203.0.113.11"}},
		{q: "pay.default.svc.cluster.local. AAAA", reason: verdict.ReasonAnswered, answer: []string{
			"pay.default.svc.cluster.local.\t30\tIN\tCNAME\tpayments.example.com."}},
		{q: "10.0.96.10.in-addr.arpa. PTR", reason: verdict.ReasonAnswered,
			answer: []string{"10.0.96.10.in-addr.arpa.\t30\tIN\tPTR\tweb.default.svc.cluster.local."}},
		{q: "0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa. PTR", reason: verdict.ReasonAnswered,
			answer: []string{"0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa.\t30\tIN\tPTR\tapi.default.svc.cluster.local."}},
		{q: "11.0.96.10.in-addr.arpa. PTR", reason: verdict.ReasonNotOwned},
		{q: "0.96.10.in-addr.arpa. PTR", reason: verdict.ReasonNotOwned},
		// Search-path expansions and names that cannot exist.
		{q: "web.svc.cluster.local. A", reason: verdict.ReasonNXDomain, rcode: dns.RcodeNameError, ns: []string{soa}},
		{q: "api.github.com.default.svc.cluster.local. A", reason: verdict.ReasonNXDomain, rcode: dns.RcodeNameError, ns: []string{soa}},
		{q: "x.cluster.local. AAAA", reason: verdict.ReasonNXDomain, rcode: dns.RcodeNameError, ns: []string{soa}},
		{q: "nope.default.svc.cluster.local. A", reason: verdict.ReasonNXDomain, rcode: dns.RcodeNameError, ns: []string{soa}},
		// Empty non-terminals.
		{q: "default.svc.cluster.local. A", reason: verdict.ReasonNoData, ns: []string{soa}},
		{q: "svc.cluster.local. A", reason: verdict.ReasonNoData, ns: []string{soa}},
		{q: "prod.svc.cluster.local. A", reason: verdict.ReasonNoData, ns: []string{soa}},
		// Apex.
		{q: "cluster.local. SOA", reason: verdict.ReasonAnswered, answer: []string{strings.Replace(soa, "\t5\t", "\t30\t", 1)}},
		{q: "cluster.local. NS", reason: verdict.ReasonAnswered, answer: []string{"cluster.local.\t30\tIN\tNS\tns.dns.cluster.local."}},
		{q: "ns.dns.cluster.local. A", reason: verdict.ReasonAnswered, answer: []string{"ns.dns.cluster.local.\t30\tIN\tA\t198.18.0.1"}},
		{q: "dns-version.cluster.local. TXT", reason: verdict.ReasonAnswered, answer: []string{"dns-version.cluster.local.\t30\tIN\tTXT\t\"1.1.0\""}},
		// Pods insecure.
		{q: "10-244-1-9.default.pod.cluster.local. A", reason: verdict.ReasonAnswered,
			answer: []string{"10-244-1-9.default.pod.cluster.local.\t30\tIN\tA\t10.244.1.9"}},
		{q: "fd00-10-244--9.default.pod.cluster.local. AAAA", reason: verdict.ReasonAnswered,
			answer: []string{"fd00-10-244--9.default.pod.cluster.local.\t30\tIN\tAAAA\tfd00:10:244::9"}},
		{q: "10-244-1-9.default.pod.cluster.local. AAAA", reason: verdict.ReasonNoData, ns: []string{soa}},
		{q: "fd00-244--5.default.pod.cluster.local. AAAA", reason: verdict.ReasonAnswered,
			answer: []string{"fd00-244--5.default.pod.cluster.local.\t30\tIN\tAAAA\tfd00:244::5"}},
		{q: "db.default.svc.cluster.local. ANY", reason: verdict.ReasonAnswered, answer: []string{
			"db.default.svc.cluster.local.\t30\tIN\tA\t10.244.1.5",
			"db.default.svc.cluster.local.\t30\tIN\tA\t10.244.2.6",
			"db.default.svc.cluster.local.\t30\tIN\tA\t10.244.3.7"}},
		{q: "10-244-1-300.default.pod.cluster.local. A", reason: verdict.ReasonNXDomain, rcode: dns.RcodeNameError, ns: []string{soa}},
		{q: "default.pod.cluster.local. A", reason: verdict.ReasonNoData, ns: []string{soa}},
		{q: "a.10-244-1-9.default.pod.cluster.local. A", reason: verdict.ReasonNXDomain, rcode: dns.RcodeNameError, ns: []string{soa}},
		// ServiceEntries.
		{q: "payments.example.com. A", reason: verdict.ReasonAnswered, answer: []string{
			"payments.example.com.\t30\tIN\tA\t203.0.113.10", "payments.example.com.\t30\tIN\tA\t203.0.113.11"}},
		{q: "payments.example.com. AAAA", reason: verdict.ReasonNoData},
		{q: "payments.example.com. MX", reason: verdict.ReasonNotOwned},
		{q: "legacy.example.net. AAAA", reason: verdict.ReasonAnswered, answer: []string{"legacy.example.net.\t30\tIN\tAAAA\t2001:2::7"}},
		{q: "a.internal.example.com. A", reason: verdict.ReasonAnswered, answer: []string{"a.internal.example.com.\t30\tIN\tA\t203.0.113.50"}},
		{q: "x.y.internal.example.com. A", reason: verdict.ReasonAnswered, answer: []string{"x.y.internal.example.com.\t30\tIN\tA\t203.0.113.50"}},
		{q: "db.eu.internal.example.com. A", reason: verdict.ReasonAnswered, answer: []string{"db.eu.internal.example.com.\t30\tIN\tA\t203.0.113.51"}},
		{q: "internal.example.com. A", reason: verdict.ReasonNotOwned},
		{q: "www.example.org. A", reason: verdict.ReasonNotOwned},
		{q: "web. A", reason: verdict.ReasonNotOwned},
		{q: "web.default.svc.cluster.local.corp.example. A", reason: verdict.ReasonNotOwned},
	}
	for _, v6 := range []bool{false, true} {
		ep := enginetest.Default4()
		if v6 {
			ep = enginetest.Default6()
		}
		for _, tc := range tests {
			t.Run(ep.Src.String()+" "+tc.q, func(t *testing.T) {
				f := strings.Fields(tc.q)
				m := enginetest.NewQuery(f[0], dns.StringToType[f[1]])
				res, r, err := enginetest.Ask(e, ep, m)
				if err != nil {
					t.Fatal(err)
				}
				if res.Reason != tc.reason {
					t.Fatalf("reason %v, want %v", res.Reason, tc.reason)
				}
				if !tc.reason.Answered() {
					if res.Verdict != verdict.Accept {
						t.Fatalf("verdict %v, want accept", res.Verdict)
					}
					return
				}
				checkHeader(t, m, r.Msg, tc.rcode)
				checkSection(t, "answer", r.Msg.Answer, tc.answer)
				checkSection(t, "authority", r.Msg.Ns, tc.ns)
				checkSection(t, "additional", r.Msg.Extra, tc.extra)
			})
		}
	}
}

func checkHeader(t *testing.T, q, r *dns.Msg, rcode int) {
	t.Helper()
	if r.Id != q.Id || !r.Response || !r.Authoritative || !r.RecursionAvailable || r.RecursionDesired != q.RecursionDesired ||
		r.Opcode != dns.OpcodeQuery || r.Truncated || r.Rcode != rcode {
		t.Fatalf("header: id %#x qr %v aa %v ra %v rd %v tc %v rcode %d; want id %#x rcode %d",
			r.Id, r.Response, r.Authoritative, r.RecursionAvailable, r.RecursionDesired, r.Truncated, r.Rcode, q.Id, rcode)
	}
	if len(r.Question) != 1 || r.Question[0] != q.Question[0] {
		t.Fatalf("question %v, want %v", r.Question, q.Question)
	}
}

func checkSection(t *testing.T, name string, got []dns.RR, want []string) {
	t.Helper()
	g := enginetest.RRStrings(got)
	slices.Sort(g)
	w := slices.Clone(want)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Fatalf("%s section:\n got %q\nwant %q", name, g, w)
	}
}
