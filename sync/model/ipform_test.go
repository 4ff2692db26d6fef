package model

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestIPFormIPv4: ipForm takes a text as an address exactly when it is
// the address's canonical text (its String, IPv6 unmapped as 16 bytes),
// for texts made of the characters of addresses at random and for
// addresses written with leading zeros, upper case, mapped forms and
// zones. ipForm trusts ParseAddr's IPv4 texts to be canonical; the
// reference formats every address again.
func TestIPFormIPv4(t *testing.T) {
	want := func(s string) bool {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return false
		}
		if a.Is4() {
			return a.String() == s
		}
		return netip.AddrFrom16(a.As16()).String() == s
	}
	texts := []string{"10.0.0.1", "0.0.0.0", "255.255.255.255", "010.0.0.1", "10.0.0.01", "1.2.3", "1.2.3.4.5",
		"::1", "::ffff:10.0.0.1", "::FFFF:10.0.0.1", "2001:db8::1", "2001:DB8::1", "2001:db8:0::1", "2001:0db8::1",
		"fe80::1%eth0", "10.0.0.1%eth0", "::ffff:a00:1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:0:0"}
	r := rand.New(rand.NewPCG(5, 6))
	const chars = "0123456789.:abcdefABCDEF%"
	for range 20000 {
		b := make([]byte, 1+r.IntN(16))
		for i := range b {
			b[i] = chars[r.IntN(len(chars))]
			if r.IntN(3) > 0 {
				b[i] = "0123456789."[r.IntN(11)]
			}
		}
		texts = append(texts, string(b))
	}
	for range 2000 {
		var v [4]byte
		for i := range v {
			v[i] = byte(r.IntN(256))
		}
		texts = append(texts, netip.AddrFrom4(v).String())
	}
	for _, s := range texts {
		if _, ok := ipForm(s); ok != want(s) {
			t.Errorf("ipForm(%q): %v, want %v", s, ok, want(s))
		}
	}
}
