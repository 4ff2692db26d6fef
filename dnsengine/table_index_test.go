package dnsengine

import (
	"fmt"
	"net/netip"
	"testing"
)

// TestIndexWidths: a table finds each of its names, and no other, with a
// narrow index (under 1<<16 nodes: two slots a word) and a wide one.
func TestIndexWidths(t *testing.T) {
	for _, tc := range []struct {
		names  int
		narrow bool
	}{
		{0, true},
		{1, true},
		{1000, true},
		{70000, false},
	} {
		b, err := NewTableBuilder(TableConfig{Zones: []string{"example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		for i := range tc.names {
			if err := b.AddAddress(fmt.Sprintf("h%d.example.com", i), netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), ""); err != nil {
				t.Fatal(err)
			}
		}
		s := b.Build().base
		if s.narrow() != tc.narrow {
			t.Fatalf("%d names: narrow %v, want %v", tc.names, s.narrow(), tc.narrow)
		}
		for i := range tc.names {
			w := mustEncodeName(fmt.Sprintf("h%d.example.com", i))
			if n := s.lookup(w); n == noNode || !s.nameEqual(n, w) {
				t.Fatalf("%d names: %q not found", tc.names, w)
			}
		}
		for _, name := range []string{"example.com"} {
			if s.lookup(mustEncodeName(name)) == noNode {
				t.Errorf("%d names: %s not found", tc.names, name)
			}
		}
		for _, name := range []string{"nx.example.com", "com", fmt.Sprintf("h%d.example.com", tc.names)} {
			if s.lookup(mustEncodeName(name)) != noNode {
				t.Errorf("%d names: %s found", tc.names, name)
			}
		}
	}
}
