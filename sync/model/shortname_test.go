package model_test

import (
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/sync/model"
	"github.com/meshdns/meshdns/sync/objects"
	"github.com/miekg/dns"
)

// TestPodNamespaceShortNames: with PodNamespace set, <svc>. of that
// namespace answers A/AAAA (NODATA for the other family), other types and
// other namespaces' services go upstream, and <svc>.<ns>. is never
// answered outside the zone.
func TestPodNamespaceShortNames(t *testing.T) {
	objs, _, err := objects.Load("../../examples/objects.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, podNS := range []string{"", "default"} {
		opts := model.DefaultOptions()
		opts.PodNamespace = podNS
		tab, _, err := model.Build(objs, opts)
		if err != nil {
			t.Fatal(err)
		}
		e, err := dnsengine.New(dnsengine.DefaultConfig(), dnsengine.StaticRegistry{T: tab})
		if err != nil {
			t.Fatal(err)
		}
		on := podNS != ""
		for _, tc := range []struct {
			name  string
			qtype uint16
			want  dnsengine.Reason
		}{
			{"web", dns.TypeA, map[bool]dnsengine.Reason{true: dnsengine.ReasonAnswered, false: dnsengine.ReasonNotOwned}[on]},
			{"WEB", dns.TypeAAAA, map[bool]dnsengine.Reason{true: dnsengine.ReasonNoData, false: dnsengine.ReasonNotOwned}[on]},
			{"web", dns.TypeMX, dnsengine.ReasonNotOwned},
			{"api", dns.TypeA, dnsengine.ReasonNotOwned},         // namespace shop
			{"web.default", dns.TypeA, dnsengine.ReasonNotOwned}, // two labels: search expansion only
			{"search", dns.TypeA, dnsengine.ReasonNotOwned},      // ExternalName: no short form
		} {
			res, r, err := enginetest.Ask(e, enginetest.Default4(), enginetest.NewQuery(tc.name, tc.qtype))
			if err != nil {
				t.Fatal(err)
			}
			if res.Reason != tc.want {
				t.Errorf("pod namespace %q: %s %s: %v, want %v", podNS, tc.name, dns.TypeToString[tc.qtype], res.Reason, tc.want)
			}
			if res.Reason == dnsengine.ReasonAnswered && r.Msg.Answer[0].(*dns.A).A.String() != "10.96.23.17" {
				t.Errorf("%s: %v", tc.name, r.Msg.Answer)
			}
		}
	}
}

// TestSkippedServiceGoesUpstream: a Service that cannot be loaded (here an
// ExternalName without a valid target) is not denied with NXDOMAIN: its
// names are left to the cluster DNS, while unknown names still get NXDOMAIN.
func TestSkippedServiceGoesUpstream(t *testing.T) {
	objs, _, err := objects.Load("testdata/invalid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	opts := model.DefaultOptions()
	opts.ClusterDomain = "corp.example"
	tab, rep, err := model.Build(objs, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Services.Skipped == 0 {
		t.Fatal("no Service skipped: the fixture changed")
	}
	e, err := dnsengine.New(dnsengine.DefaultConfig(), dnsengine.StaticRegistry{T: tab})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		want dnsengine.Reason
	}{
		{"badext.default.svc.corp.example", dnsengine.ReasonNotOwned},
		{"x.badext.default.svc.corp.example", dnsengine.ReasonNotOwned},
		{"noext.default.svc.corp.example", dnsengine.ReasonNotOwned},
		{"nothere.default.svc.corp.example", dnsengine.ReasonNXDomain},
	} {
		res, _, err := enginetest.Ask(e, enginetest.Default4(), enginetest.NewQuery(tc.name, dns.TypeA))
		if err != nil {
			t.Fatal(err)
		}
		if res.Reason != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, res.Reason, tc.want)
		}
	}
}
