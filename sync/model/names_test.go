package model

import (
	"net/netip"
	"strings"
	"testing"
)

// TestDashed: the endpoint label (appended after a prefix) CoreDNS derives from an address, checked
// against the obvious (allocating) form.
func TestDashed(t *testing.T) {
	for _, tc := range []struct{ ip, want string }{
		{"10.1.2.3", "10-1-2-3"},
		{"2001:db8::1", "2001-db8--1"},
		{"fd00:10:244:1:2:3:4:5", "fd00-10-244-1-2-3-4-5"},
		{"::", "--"},
	} {
		ip := netip.MustParseAddr(tc.ip)
		slow := strings.NewReplacer(".", "-", ":", "-").Replace(ip.String())
		if got := string(appendDashed([]byte("x."), ip)); got != "x."+tc.want || got != "x."+slow {
			t.Errorf("appendDashed(x., %s) = %q, want %q (slow form %q)", tc.ip, got, tc.want, slow)
		}
	}
}

// TestServiceNames: a Service's provenance keeps its namespace and name
// as given; its FQDN is made of the lowercased ones, with a trailing dot.
func TestServiceNames(t *testing.T) {
	src, fqdn := serviceNames("Default", "Web", "web", "default", "cluster.local")
	if src != "Service Default/Web" || fqdn != "web.default.svc.cluster.local." {
		t.Fatalf("serviceNames = %q, %q", src, fqdn)
	}
}
