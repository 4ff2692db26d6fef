package dnsengine_test

import (
	"strings"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/meshdns/meshdns/sync/model"
	"github.com/meshdns/meshdns/sync/objects"
	"github.com/miekg/dns"
)

// TestPodNamespaceShortNames: with Config.PodNamespace set, <svc>. of that
// namespace answers A/AAAA (NODATA for the other family; ANY the addresses
// alone), other types and other namespaces' services go upstream, and
// <svc>.<ns>. is never answered outside the zone. The table is the same
// for every namespace: the rule is the engine's.
func TestPodNamespaceShortNames(t *testing.T) {
	objs, _, err := objects.Load("../examples/objects.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tab, _, err := model.Build(objs, model.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, podNS := range []string{"", "default", "shop"} {
		cfg := dnsengine.DefaultConfig()
		cfg.PodNamespace = podNS
		e, err := dnsengine.New(cfg, dnsengine.StaticRegistry{T: tab})
		if err != nil {
			t.Fatal(err)
		}
		in := func(ns string, yes, no verdict.Reason) verdict.Reason {
			if podNS == ns {
				return yes
			}
			return no
		}
		for _, tc := range []struct {
			name   string
			qtype  uint16
			want   verdict.Reason
			answer string // the first answer's rdata, when answered
		}{
			{"web", dns.TypeA, in("default", verdict.ReasonAnswered, verdict.ReasonNotOwned), "10.96.23.17"},
			{"WEB", dns.TypeAAAA, in("default", verdict.ReasonNoData, verdict.ReasonNotOwned), ""},
			{"web", dns.TypeANY, in("default", verdict.ReasonAnswered, verdict.ReasonNotOwned), "10.96.23.17"},
			{"web", dns.TypeMX, verdict.ReasonNotOwned, ""},
			{"web", dns.TypeSRV, verdict.ReasonNotOwned, ""}, // the FQDN has SRV records; the short name does not
			{"api", dns.TypeA, in("shop", verdict.ReasonAnswered, verdict.ReasonNotOwned), "10.96.112.40"},
			{"web.default", dns.TypeA, verdict.ReasonNotOwned, ""}, // two labels: search expansion only
			{"search", dns.TypeA, verdict.ReasonNotOwned, ""},      // ExternalName: no short form
			{"nothere", dns.TypeA, verdict.ReasonNotOwned, ""},
		} {
			res, r, err := enginetest.Ask(e, enginetest.Default4(), enginetest.NewQuery(tc.name, tc.qtype))
			if err != nil {
				t.Fatal(err)
			}
			if res.Reason != tc.want {
				t.Errorf("pod namespace %q: %s %s: %v, want %v", podNS, tc.name, dns.TypeToString[tc.qtype], res.Reason, tc.want)
				continue
			}
			if res.Reason != verdict.ReasonAnswered {
				continue
			}
			for _, rr := range r.Msg.Answer {
				a, ok := rr.(*dns.A)
				if !ok {
					t.Errorf("pod namespace %q: %s %s: %v, want addresses only", podNS, tc.name, dns.TypeToString[tc.qtype], rr)
					continue
				}
				if a.Hdr.Name != dns.Fqdn(tc.name) || a.A.String() != tc.answer {
					t.Errorf("pod namespace %q: %s %s: %v, want %s %s", podNS, tc.name, dns.TypeToString[tc.qtype], rr, tc.name, tc.answer)
				}
			}
		}
	}
}

// TestPodNamespaceInvalid: a pod namespace that is no DNS label is refused.
func TestPodNamespaceInvalid(t *testing.T) {
	for _, ns := range []string{"Default", "-x", "a.b", strings.Repeat("a", 64)} {
		cfg := dnsengine.DefaultConfig()
		cfg.PodNamespace = ns
		if _, err := dnsengine.New(cfg, dnsengine.StaticRegistry{}); err == nil {
			t.Errorf("pod namespace %q accepted", ns)
		}
	}
}
