package model

import (
	"cmp"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// TestStrKeyCompare: a strKey orders as its string, for strings that
// share their first 8 bytes or not, are shorter or longer than 8 and end
// in zero bytes.
func TestStrKeyCompare(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "\x00ab-\xff"
	var strs []string
	for range 400 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		strs = append(strs, string(b))
	}
	strs = append(strs, "", "\x00", "ns-1", "ns-1\x00", "ns-10", "abcdefgh", "abcdefgh\x00", "abcdefghi", "abcdefgg\xff")
	for _, a := range strs {
		for _, b := range strs {
			if got, want := newStrKey(a).compare(newStrKey(b)), strings.Compare(a, b); got != want {
				t.Fatalf("compare(%q, %q) = %d, want %d", a, b, got, want)
			}
		}
	}
}

// TestSortedByKeyStable: objects come out sorted by their keys, those of
// one key in the order given, nil ones dropped.
func TestSortedByKeyStable(t *testing.T) {
	type obj struct {
		ns, name string
		n        int
	}
	r := rand.New(rand.NewPCG(5, 6))
	var in []*obj
	for i := range 300 {
		in = append(in, &obj{[]string{"a", "ns-1", "ns-10", "namespace-long"}[r.IntN(4)], []string{"x", "svc-1", "svc-1\x00", "service-long-name"}[r.IntN(4)], i})
		if i%50 == 0 {
			in = append(in, nil)
		}
	}
	got := sortedByKey(in, func(x *obj) (string, string) { return x.ns, x.name })
	want := slices.DeleteFunc(slices.Clone(in), func(x *obj) bool { return x == nil })
	slices.SortStableFunc(want, func(a, b *obj) int { return cmp.Or(strings.Compare(a.ns, b.ns), strings.Compare(a.name, b.name)) })
	if !slices.Equal(got, want) {
		t.Fatal("sortedByKey differs from a stable sort by key")
	}
}

// TestAddrRange: an address is outside the range only if it lies below
// the least or above the greatest address added, across families; a
// range of nothing knows nothing.
func TestAddrRange(t *testing.T) {
	var r addrRange
	if r.outside(netip.MustParseAddr("10.0.0.1")) {
		t.Fatal("an empty range places an address outside")
	}
	for _, a := range []string{"10.96.0.10", "10.96.0.2", "10.96.1.0"} {
		r.add(netip.MustParseAddr(a))
	}
	for a, want := range map[string]bool{
		"10.96.0.2": false, "10.96.0.5": false, "10.96.1.0": false,
		"10.96.0.1": true, "10.96.1.1": true, "10.128.0.1": true, "fd00::1": true,
	} {
		if got := r.outside(netip.MustParseAddr(a)); got != want {
			t.Errorf("outside(%s) = %v, want %v", a, got, want)
		}
	}
	r.add(netip.MustParseAddr("fd00::5"))
	if r.outside(netip.MustParseAddr("fd00::1")) || r.outside(netip.MustParseAddr("10.128.0.1")) || !r.outside(netip.MustParseAddr("fd00::6")) {
		t.Error("a range over both families misplaces an address")
	}
}
