package dnsengine

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestAppendReverseName: the builder's wire reverse names are the slow
// path's (ReverseName, then encodeName), for random and edge addresses.
func TestAppendReverseName(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ips := []netip.Addr{netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("255.255.255.255"),
		netip.MustParseAddr("10.0.100.9"), netip.MustParseAddr("::"), netip.MustParseAddr("::ffff:10.1.2.3")}
	for range 1000 {
		var b [16]byte
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		ips = append(ips, netip.AddrFrom16(b), netip.AddrFrom4([4]byte(b[:4])))
	}
	for _, ip := range ips {
		want := mustEncodeName(ReverseName(ip))
		if got := appendReverseName([]byte("x"), ip); string(got[1:]) != string(want) || got[0] != 'x' {
			t.Fatalf("%s: %q, want %q", ip, got[1:], want)
		}
	}
}
