package model

import (
	"net/netip"
	"testing"
)

// TestIPCounts: an address counts from its first Service to its last,
// IPv4 and IPv6 apart, and an IPv4-mapped address as its IPv4 address.
func TestIPCounts(t *testing.T) {
	c := ipCounts{}
	v4, v6 := netip.MustParseAddr("10.96.0.1"), netip.MustParseAddr("fd00::a")
	if !c.add(v4) || c.add(v4) || !c.add(v6) {
		t.Fatal("add: first not reported once per address")
	}
	if !c.has(netip.MustParseAddr("::ffff:10.96.0.1")) || c.has(netip.MustParseAddr("10.96.0.2")) {
		t.Error("has: the mapped form not found, or another address found")
	}
	if c.remove(v4) || !c.has(v4) || !c.remove(v4) || c.has(v4) || !c.has(v6) {
		t.Errorf("remove: last not reported at the second, or the wrong address gone: %v", c)
	}
	if !c.remove(v6) || len(c) != 0 {
		t.Errorf("entries left: %v", c)
	}
}
