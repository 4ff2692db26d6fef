package dnsengine

import (
	"net/netip"
	"testing"
)

// FuzzParseReverseName: parseReverseName accepts exactly the names
// appendReverseName writes, and gives back their address. The input is an
// address (4 or 16 bytes: its name must parse back to it) or a name (it
// must parse only if it is its address's own name).
func FuzzParseReverseName(f *testing.F) {
	for _, s := range []string{"\x0a\x80\x00\x01", "\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01",
		"\x011\x010\x03128\x0210\x07in-addr\x04arpa\x00", "\x0201\x010\x03128\x0210\x07in-addr\x04arpa\x00",
		"\x03256\x010\x010\x0210\x07in-addr\x04arpa\x00", "\x010\x010\x07in-addr\x04arpa\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var out [16]byte
		if ip, ok := netip.AddrFromSlice(in); ok && (len(in) == 4 || !ip.Is4In6()) {
			w := appendReverseName(nil, ip)
			l, ok := parseReverseName(w, &out)
			if !ok || string(out[:l]) != string(ip.AsSlice()) {
				t.Fatalf("%s: parsed %v %x", ip, ok, out[:l])
			}
		}
		l, ok := parseReverseName(in, &out)
		if !ok {
			return
		}
		ip, _ := netip.AddrFromSlice(out[:l])
		if w := appendReverseName(nil, ip); string(w) != string(in) {
			t.Fatalf("%q parsed as %s, whose name is %q", in, ip, w)
		}
	})
}
