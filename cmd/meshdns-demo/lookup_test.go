package main

import (
	"errors"
	"testing"

	"github.com/meshdns/meshdns/internal/clusterdns"
	"github.com/miekg/dns"
)

func exampleUpstream(t *testing.T) *clusterdns.Server {
	t.Helper()
	s, err := clusterdns.New(clusterdns.Config{Zone: clusterdns.ExampleZone})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestClassify(t *testing.T) {
	up := exampleUpstream(t)
	const web = "web.default.svc.cluster.local"
	reached := map[clusterdns.Key]uint64{{Name: web + ".", Type: dns.TypeA}: 1}
	other := map[clusterdns.Key]uint64{{Name: "web.", Type: dns.TypeAAAA}: 1}
	a := func(data string) record { return record{Type: "A", Data: data} }
	tests := []struct {
		name string
		o    outcome
		want string
	}{
		{"decoy from upstream", outcome{lookup: lookup{FQDN: web, Type: dns.TypeA, Tool: toolDig}, Answers: []record{a("198.19.1.1")}, Upstream: reached}, byUpstream},
		{"mesh answer, not reached", outcome{lookup: lookup{FQDN: web, Type: dns.TypeA, Tool: toolDig}, Answers: []record{a("10.96.0.10")}}, byMeshdns},
		{"mesh answer, other names reached", outcome{lookup: lookup{FQDN: web, Tool: toolGetent}, Answers: []record{a("10.96.0.10")}, Upstream: other}, byMeshdns},
		{"getent decoy AAAA", outcome{lookup: lookup{FQDN: web, Tool: toolGetent}, Answers: []record{{Type: "AAAA", Data: "fd53:19:0:0::1:1"}}, Upstream: reached}, byUpstream},
		{"NODATA not reached", outcome{lookup: lookup{FQDN: web, Type: dns.TypeAAAA, Tool: toolDig}, Status: "NOERROR"}, byMeshdns},
		{"NXDOMAIN reached", outcome{lookup: lookup{FQDN: "nope.test", Type: dns.TypeA, Tool: toolDig}, Status: "NXDOMAIN", Upstream: map[clusterdns.Key]uint64{{Name: "nope.test.", Type: dns.TypeA}: 1}}, byUpstream},
		{"unknown answer but reached", outcome{lookup: lookup{FQDN: web, Type: dns.TypeA, Tool: toolDig}, Answers: []record{a("10.96.0.10")}, Upstream: reached}, byUnclear},
		{"mixed", outcome{lookup: lookup{FQDN: web, Type: dns.TypeA, Tool: toolDig}, Answers: []record{a("10.96.0.10"), a("198.19.1.1")}}, byMixed},
		{"upstream's CNAME chase, case-insensitive", outcome{lookup: lookup{FQDN: "search.default.svc.cluster.local", Type: dns.TypeA, Tool: toolDig},
			Answers:  []record{{Type: "CNAME", Data: "WWW.Example.ORG."}, a("198.19.0.10")},
			Upstream: map[clusterdns.Key]uint64{{Name: "search.default.svc.cluster.local.", Type: dns.TypeA}: 1}}, byUpstream},
		{"in-pod CNAME and the target's address", outcome{lookup: lookup{FQDN: "store.default.svc.cluster.local", Type: dns.TypeA, Tool: toolDig},
			Answers: []record{{Type: "CNAME", Data: "api.shop.svc.cluster.local."}, a("10.96.112.40")}}, byMeshdns},
		{"error", outcome{lookup: lookup{FQDN: web}, Err: errors.New("timeout")}, byNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.o, up); got != tc.want {
				t.Errorf("classify = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestDelta(t *testing.T) {
	k1, k2, k3 := clusterdns.Key{Name: "a.", Type: 1}, clusterdns.Key{Name: "b.", Type: 1}, clusterdns.Key{Name: "c.", Type: 28}
	got := delta(map[clusterdns.Key]uint64{k1: 2, k2: 1}, map[clusterdns.Key]uint64{k1: 5, k2: 1, k3: 1})
	if len(got) != 2 || got[k1] != 3 || got[k3] != 1 {
		t.Errorf("delta = %v", got)
	}
}

func TestRecordOf(t *testing.T) {
	rr, err := dns.NewRR("Web.Test. 30 IN A 10.96.0.10")
	if err != nil {
		t.Fatal(err)
	}
	if got := recordOf(rr); got != (record{Name: "Web.Test.", TTL: 30, Type: "A", Data: "10.96.0.10"}) {
		t.Errorf("recordOf = %+v", got)
	}
}

func TestDemoLookupsConsistent(t *testing.T) {
	up := exampleUpstream(t)
	for _, l := range demoLookups() {
		if l.Tool != toolGetent && l.Type == 0 {
			t.Errorf("%+v: no type", l)
		}
		if l.Tool == toolDig && dns.Fqdn(l.Query) != dns.Fqdn(l.FQDN) {
			t.Errorf("%+v: dig does not use the search list; Query and FQDN must match", l)
		}
		// Every name must have an upstream answer, so step 1 shows one and
		// a meshdns answer is told apart from it.
		rcode, rrs := up.Lookup(l.FQDN, dns.TypeA)
		if rcode != dns.RcodeSuccess || len(rrs) == 0 {
			t.Errorf("%s: the upstream zone has no A record", l.FQDN)
		}
	}
}
