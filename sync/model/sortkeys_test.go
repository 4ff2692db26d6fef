package model

import (
	"cmp"
	"math/rand/v2"
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
