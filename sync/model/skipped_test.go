package model_test

import (
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/meshdns/meshdns/sync/model"
	"github.com/meshdns/meshdns/sync/objects"
	"github.com/miekg/dns"
)

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
		want verdict.Reason
	}{
		{"badext.default.svc.corp.example", verdict.ReasonNotOwned},
		{"x.badext.default.svc.corp.example", verdict.ReasonNotOwned},
		{"noext.default.svc.corp.example", verdict.ReasonNotOwned},
		{"nothere.default.svc.corp.example", verdict.ReasonNXDomain},
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
