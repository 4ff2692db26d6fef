package dnsengine_test

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/miekg/dns"
)

func TestEDNSEcho(t *testing.T) {
	e := testEngine(t, dnsengine.DefaultConfig())
	for _, tc := range []struct {
		size, want uint16
		do         bool
	}{{4096, 1232, true}, {1232, 1232, false}, {600, 600, false}, {100, 512, true}} {
		m := enginetest.NewQuery("web.default.svc.cluster.local", dns.TypeA)
		m.SetEdns0(tc.size, tc.do)
		opt := m.IsEdns0()
		opt.Option = append(opt.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0123456789abcdef"},
			&dns.EDNS0_LOCAL{Code: 65001, Data: make([]byte, 300)})
		_, r, err := enginetest.Ask(e, enginetest.Default4(), m)
		if err != nil {
			t.Fatal(err)
		}
		ropt := r.Msg.IsEdns0()
		if ropt == nil {
			t.Fatalf("size %d: no OPT in response", tc.size)
		}
		if ropt.UDPSize() != tc.want || ropt.Do() != tc.do || ropt.Version() != 0 || len(ropt.Option) != 0 {
			t.Fatalf("size %d: OPT size %d do %v version %d options %d; want size %d do %v", tc.size,
				ropt.UDPSize(), ropt.Do(), ropt.Version(), len(ropt.Option), tc.want, tc.do)
		}
		if len(r.Msg.Answer) != 1 {
			t.Fatalf("answers %v", r.Msg.Answer)
		}
	}
	// Without EDNS in the query there is none in the response.
	_, r, err := enginetest.Ask(e, enginetest.Default4(), enginetest.NewQuery("web.default.svc.cluster.local", dns.TypeA))
	if err != nil {
		t.Fatal(err)
	}
	if r.Msg.IsEdns0() != nil {
		t.Fatal("OPT in a response to a query without EDNS")
	}
}

// TestQuestionBytesPreserved: 0x20 mixed case comes back byte for byte.
func TestQuestionBytesPreserved(t *testing.T) {
	e := testEngine(t, dnsengine.DefaultConfig())
	m := enginetest.NewQuery("wEb.DeFaUlT.sVc.ClUsTeR.lOcAl", dns.TypeA)
	_, r, err := enginetest.Ask(e, enginetest.Default6(), m)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Msg.Question[0].Name; got != "wEb.DeFaUlT.sVc.ClUsTeR.lOcAl." {
		t.Fatalf("question %q", got)
	}
	if r.Msg.Answer[0].Header().Name != "wEb.DeFaUlT.sVc.ClUsTeR.lOcAl." {
		t.Fatalf("owner %q", r.Msg.Answer[0].Header().Name)
	}
}

func bigHeadless(t testing.TB, n int) *dnsengine.Engine {
	t.Helper()
	b, err := dnsengine.NewTableBuilder(dnsengine.TableConfig{ClusterDomain: "cluster.local"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		ip := netip.AddrFrom4([4]byte{10, 244, byte(i / 250), byte(1 + i%250)})
		if err := b.AddAddress("big.default.svc.cluster.local", ip, "test"); err != nil {
			t.Fatal(err)
		}
		host := fmt.Sprintf("big-%d.big.default.svc.cluster.local", i)
		if err := b.AddAddress(host, ip, "test"); err != nil {
			t.Fatal(err)
		}
		if err := b.AddSRV("_http._tcp.big.default.svc.cluster.local", 0, 1, 80, host, "test"); err != nil {
			t.Fatal(err)
		}
	}
	e, err := dnsengine.New(dnsengine.DefaultConfig(), dnsengine.StaticRegistry{T: b.Build()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestTruncation: 100 endpoints do not fit 512 bytes; TC is set, whole
// records only, and with a large EDNS size everything fits.
func TestTruncation(t *testing.T) {
	e := bigHeadless(t, 100)
	m := enginetest.NewQuery("big.default.svc.cluster.local", dns.TypeA)
	res, r, err := enginetest.Ask(e, enginetest.Default4(), m)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Msg.Truncated || !res.Truncated || len(r.Msg.Answer) == 0 || len(r.Msg.Answer) >= 100 || len(r.Wire) > 512 {
		t.Fatalf("tc %v answers %d size %d", r.Msg.Truncated, len(r.Msg.Answer), len(r.Wire))
	}
	m.SetEdns0(4096, false)
	_, r, err = enginetest.Ask(e, enginetest.Default4(), m)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Msg.Truncated || len(r.Wire) > 1232 {
		t.Fatalf("EDNS 4096 capped at 1232: tc %v answers %d size %d", r.Msg.Truncated, len(r.Msg.Answer), len(r.Wire))
	}
	cfg := dnsengine.DefaultConfig()
	cfg.EDNSSize = 4096
	e4k, err := dnsengine.New(cfg, e.Registry())
	if err != nil {
		t.Fatal(err)
	}
	_, r, err = enginetest.Ask(e4k, enginetest.Default4(), m)
	if err != nil {
		t.Fatal(err)
	}
	if r.Msg.Truncated || len(r.Msg.Answer) != 100 || len(r.Wire) > 4096 {
		t.Fatalf("with EDNS: tc %v answers %d size %d", r.Msg.Truncated, len(r.Msg.Answer), len(r.Wire))
	}
	// SRV with glue: the glue is dropped before anything required.
	m = enginetest.NewQuery("_http._tcp.big.default.svc.cluster.local", dns.TypeSRV)
	m.SetEdns0(1232, false)
	_, r, err = enginetest.Ask(e, enginetest.Default6(), m)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Msg.Truncated || len(r.Wire) > 1232 || len(r.Msg.Extra) != 1 {
		t.Fatalf("SRV: tc %v answers %d extra %d size %d", r.Msg.Truncated, len(r.Msg.Answer), len(r.Msg.Extra), len(r.Wire))
	}
}

// TestRotation: the order of several addresses changes with the query.
func TestRotation(t *testing.T) {
	e := testEngine(t, dnsengine.DefaultConfig())
	firsts := map[string]bool{}
	for id := uint16(0); id < 12; id++ {
		m := enginetest.NewQuery("db.default.svc.cluster.local", dns.TypeA)
		m.Id = id
		_, r, err := enginetest.Ask(e, enginetest.Default4(), m)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Msg.Answer) != 3 {
			t.Fatalf("answers %v", r.Msg.Answer)
		}
		firsts[r.Msg.Answer[0].(*dns.A).A.String()] = true
	}
	if len(firsts) != 3 {
		t.Fatalf("first records seen: %v, want all 3", firsts)
	}
}

func TestNotReadyPassesEverything(t *testing.T) {
	e, err := dnsengine.New(dnsengine.DefaultConfig(), &dnsengine.AtomicRegistry{})
	if err != nil {
		t.Fatal(err)
	}
	res, _, err := enginetest.Ask(e, enginetest.Default4(), enginetest.NewQuery("web.default.svc.cluster.local", dns.TypeA))
	if err != nil || res.Verdict != verdict.Accept || res.Reason != verdict.ReasonNotReady {
		t.Fatalf("%v %v", res, err)
	}
}

func TestPodRecordsDisabled(t *testing.T) {
	cfg := dnsengine.DefaultConfig()
	cfg.PodRecords = dnsengine.PodRecordsDisabled
	e := testEngine(t, cfg)
	res, r, err := enginetest.Ask(e, enginetest.Default4(), enginetest.NewQuery("10-244-1-9.default.pod.cluster.local", dns.TypeA))
	if err != nil {
		t.Fatal(err)
	}
	if res.Reason != verdict.ReasonNXDomain || r.Msg.Rcode != dns.RcodeNameError {
		t.Fatalf("reason %v", res.Reason)
	}
}

// TestSearchExpansions walks every query a glibc resolver with ndots:5 and
// the pod's three-label search list sends for a name, in order, until one
// is answered, and checks where each one goes.
func TestSearchExpansions(t *testing.T) {
	e := testEngine(t, dnsengine.DefaultConfig())
	search := []string{"default.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"}
	tests := []struct {
		name string
		want []verdict.Reason // reason per query sent, until an answer or a pass
	}{
		{"web", []verdict.Reason{verdict.ReasonAnswered}},
		{"web.default", []verdict.Reason{verdict.ReasonNXDomain, verdict.ReasonAnswered}},
		{"web.default.svc", []verdict.Reason{verdict.ReasonNXDomain, verdict.ReasonNXDomain, verdict.ReasonAnswered}},
		{"cache.prod", []verdict.Reason{verdict.ReasonNXDomain, verdict.ReasonAnswered}},
		{"db-0.db", []verdict.Reason{verdict.ReasonAnswered}},
		{"payments.example.com", []verdict.Reason{verdict.ReasonNXDomain, verdict.ReasonNXDomain, verdict.ReasonNXDomain,
			verdict.ReasonNotOwned, verdict.ReasonAnswered}},
		{"api.github.com", []verdict.Reason{verdict.ReasonNXDomain, verdict.ReasonNXDomain, verdict.ReasonNXDomain,
			verdict.ReasonNotOwned, verdict.ReasonNotOwned}},
		// 4 dots < ndots:5: the search list first, every expansion answered in the pod.
		{"web.default.svc.cluster.local", []verdict.Reason{verdict.ReasonNXDomain, verdict.ReasonNXDomain, verdict.ReasonNXDomain,
			verdict.ReasonNotOwned, verdict.ReasonAnswered}},
	}
	for _, tc := range tests {
		var names []string
		for _, s := range search {
			names = append(names, tc.name+"."+s)
		}
		names = append(names, tc.name)
		var got []verdict.Reason
		for _, n := range names {
			res, _, err := enginetest.Ask(e, enginetest.Default4(), enginetest.NewQuery(n, dns.TypeA))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, res.Reason)
			if res.Reason == verdict.ReasonAnswered {
				break
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
