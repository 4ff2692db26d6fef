package dnsengine_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
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
		if got := string(dnsengine.AppendDashed([]byte("x."), ip)); got != "x."+tc.want || got != "x."+slow {
			t.Errorf("dnsengine.AppendDashed(x., %s) = %q, want %q (slow form %q)", tc.ip, got, tc.want, slow)
		}
	}
}
