package dnsengine_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/meshdns/meshdns/dnsengine"
)

// checkApexes fails t unless every name tab holds records for is at or
// below one of its apexes and no apex is below another: what a kernel filter built
// from them lets through covers every name the table answers.
func checkApexes(t *testing.T, tab *dnsengine.Table) {
	t.Helper()
	apexes := tab.Apexes()
	under := func(name, apex string) bool { return name == apex || strings.HasSuffix(name, "."+apex) }
	for _, a := range apexes {
		for _, b := range apexes {
			if a != b && under(a, b) {
				t.Errorf("apex %s is below apex %s", a, b)
			}
		}
	}
	for _, r := range tab.Records() {
		if !slices.ContainsFunc(apexes, func(a string) bool { return under(strings.ToLower(r.Name), a) }) {
			t.Errorf("%s is under none of the apexes %q", r, apexes)
		}
	}
}

func TestApexes(t *testing.T) {
	build := func(t *testing.T, add func(b *dnsengine.TableBuilder) error, zones ...string) *dnsengine.Table {
		t.Helper()
		b, err := dnsengine.NewTableBuilder(dnsengine.TableConfig{ClusterDomain: "cluster.local", Zones: zones})
		if err != nil {
			t.Fatal(err)
		}
		if err := add(b); err != nil {
			t.Fatal(err)
		}
		return b.Build()
	}
	ip := netip.MustParseAddr
	tests := []struct {
		name  string
		zones []string
		add   func(b *dnsengine.TableBuilder) error
		want  []string
	}{
		{"the zone only", nil, func(*dnsengine.TableBuilder) error { return nil }, []string{"cluster.local."}},
		{"a Service and its PTR", nil, func(b *dnsengine.TableBuilder) error {
			return firstErr(b.AddAddress("web.default.svc.cluster.local.", ip("10.96.0.5"), ""),
				b.AddPTR(ip("10.96.0.5"), "web.default.svc.cluster.local.", ""))
		}, []string{"cluster.local.", "in-addr.arpa.", "ip6.arpa."}},
		{"ServiceEntry hosts and wildcards", nil, func(b *dnsengine.TableBuilder) error {
			return firstErr(
				b.AddAddress("Api.Example.COM.", ip("10.1.0.1"), ""),
				b.AddAddress("deep.a.wild.example.org.", ip("10.1.0.2"), ""),
				b.AddWildcardAddress("*.wild.example.org", ip("10.1.0.3"), ""),
				b.AddWildcardAddress("*.internal", ip("fd00::3"), ""),
				b.AddAddress("db.internal.", ip("10.1.0.4"), ""),
				b.AddAddress("inzone.default.svc.cluster.local.", ip("10.1.0.5"), ""),
				// An empty non-terminal outside the zones answers nothing.
				b.AddEmpty("empty.example.net."))
		}, []string{"api.example.com.", "cluster.local.", "internal.", "wild.example.org."}},
		// A host under a reverse zone with an address and no PTR in the
		// table: listed itself, since in-addr.arpa. is not.
		{"a reverse-tree host without PTRs", nil, func(b *dnsengine.TableBuilder) error {
			return b.AddAddress("svc.10.in-addr.arpa.", ip("10.1.0.1"), "")
		}, []string{"cluster.local.", "svc.10.in-addr.arpa."}},
		// With a PTR, the reverse zones cover it.
		{"a reverse-tree host and a PTR", nil, func(b *dnsengine.TableBuilder) error {
			return firstErr(b.AddAddress("svc.10.in-addr.arpa.", ip("10.1.0.1"), ""),
				b.AddPTR(ip("10.96.0.5"), "web.default.svc.cluster.local.", ""))
		}, []string{"cluster.local.", "in-addr.arpa.", "ip6.arpa."}},
		{"more zones", []string{"cluster.local", "mesh.internal"}, func(b *dnsengine.TableBuilder) error {
			return b.AddAddress("x.mesh.internal.", ip("10.1.0.6"), "")
		}, []string{"cluster.local.", "mesh.internal."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := build(t, tt.add, tt.zones...)
			if d := cmp.Diff(tt.want, tab.Apexes()); d != "" {
				t.Errorf("Apexes (-want +got):\n%s", d)
			}
			checkApexes(t, tab)
		})
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
