package objects

import (
	"slices"
	"strings"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/sync/model"
	"github.com/miekg/dns"
)

// TestExampleAnswers loads the demo file, builds its table and asks the
// engine the questions the Kubernetes DNS specification answers, as a pod
// would: objects file -> model -> engine, end to end.
func TestExampleAnswers(t *testing.T) {
	objs, _, err := Load("../../examples/objects.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tab, _, err := model.Build(objs, model.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	e, err := dnsengine.New(dnsengine.DefaultConfig(), dnsengine.StaticRegistry{T: tab})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		qtype uint16
		rcode int
		want  []string // answer records as "TYPE rdata"
	}{
		{"web.default.svc.cluster.local", dns.TypeA, dns.RcodeSuccess, []string{"A 10.96.23.17"}},
		{"WEB.Default.svc.cluster.local", dns.TypeA, dns.RcodeSuccess, []string{"A 10.96.23.17"}},
		{"web.default.svc.cluster.local", dns.TypeAAAA, dns.RcodeSuccess, nil},
		{"api.shop.svc.cluster.local", dns.TypeAAAA, dns.RcodeSuccess, []string{"AAAA fd00:10:96::7c1a"}},
		{"_grpc._tcp.api.shop.svc.cluster.local", dns.TypeSRV, dns.RcodeSuccess, []string{"SRV 0 50 9090 api.shop.svc.cluster.local."}},
		{"db.shop.svc.cluster.local", dns.TypeA, dns.RcodeSuccess, []string{"A 10.244.1.12", "A 10.244.3.9"}},
		{"db-0.db.shop.svc.cluster.local", dns.TypeA, dns.RcodeSuccess, []string{"A 10.244.1.12"}},
		{"db-1.db.shop.svc.cluster.local", dns.TypeA, dns.RcodeNameError, nil},
		{"10-244-3-9.db.shop.svc.cluster.local", dns.TypeA, dns.RcodeSuccess, []string{"A 10.244.3.9"}},
		{"_postgres._tcp.db.shop.svc.cluster.local", dns.TypeSRV, dns.RcodeSuccess, []string{
			"SRV 0 50 5432 10-244-3-9.db.shop.svc.cluster.local.", "SRV 0 50 5432 db-0.db.shop.svc.cluster.local."}},
		{"search.default.svc.cluster.local", dns.TypeCNAME, dns.RcodeSuccess, []string{"CNAME www.example.org."}},
		{"store.default.svc.cluster.local", dns.TypeA, dns.RcodeSuccess, []string{"A 10.96.112.40", "CNAME api.shop.svc.cluster.local."}},
		{"store.default.svc.cluster.local", dns.TypeAAAA, dns.RcodeSuccess, []string{"AAAA fd00:10:96::7c1a", "CNAME api.shop.svc.cluster.local."}},
		{"nothere.default.svc.cluster.local", dns.TypeA, dns.RcodeNameError, nil},
		{"payments.example.com", dns.TypeA, dns.RcodeSuccess, []string{"A 10.120.4.20"}},
		{"a.b.internal.example.com", dns.TypeA, dns.RcodeSuccess, []string{"A 10.120.8.1"}},
	} {
		res, resp, err := enginetest.Ask(e, enginetest.Default4(), enginetest.NewQuery(tc.name, tc.qtype))
		if err != nil {
			t.Errorf("%s %s: %v", tc.name, dns.TypeToString[tc.qtype], err)
			continue
		}
		if resp == nil {
			t.Errorf("%s %s: not answered (%v)", tc.name, dns.TypeToString[tc.qtype], res.Reason)
			continue
		}
		var got []string
		for _, rr := range resp.Msg.Answer {
			f := strings.SplitN(rr.String(), "\t", 5)
			got = append(got, f[3]+" "+f[4])
		}
		slices.Sort(got)
		if resp.Msg.Rcode != tc.rcode || !slices.Equal(got, tc.want) {
			t.Errorf("%s %s: rcode %s answer %q, want %s %q", tc.name, dns.TypeToString[tc.qtype],
				dns.RcodeToString[resp.Msg.Rcode], got, dns.RcodeToString[tc.rcode], tc.want)
		}
	}
	// The automatic VIP of legacy.example.net: one of each family, in the pools.
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		_, resp, err := enginetest.Ask(e, enginetest.Default4(), enginetest.NewQuery("legacy.example.net", qt))
		if err != nil || resp == nil || len(resp.Msg.Answer) != 1 {
			t.Fatalf("legacy.example.net %s: %v %v", dns.TypeToString[qt], err, resp)
		}
		s := resp.Msg.Answer[0].String()
		if !strings.Contains(s, "\t240.240.") && !strings.Contains(s, "\t2001:2::") {
			t.Errorf("legacy.example.net: %s is not an automatic VIP", s)
		}
	}
}
