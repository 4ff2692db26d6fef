package model

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestObjectsBlock: a group's block of objects, after random batches of
// sets and removals of Services and EndpointSlices (some in a namespace
// not the group's, some changing one object twice), holds what a map of
// the same changes, made in order, holds: the Services first, each run in
// key order, each found by its kind and key; and the block a batch
// started from is left as it was.
func TestObjectsBlock(t *testing.T) {
	type obj struct {
		svc  bool
		k    Key
		body string
	}
	r := rand.New(rand.NewPCG(7, 8))
	nss := []string{"ns", "ns", "Ns"}
	names := []string{"a", "b", "web", "web-1", "x", ""}
	for run := range 200 {
		o := objects{ns: "ns"}
		want := map[obj]string{} // body by kind and key
		for step := range 30 {
			prev, prevB := o, string(o.b)
			var cs []objChange
			for range 1 + r.IntN(4) {
				c := objChange{svc: r.IntN(2) == 0, k: Key{nss[r.IntN(len(nss))], names[r.IntN(len(names))]}}
				id := obj{svc: c.svc, k: c.k}
				if r.IntN(3) == 0 {
					delete(want, id) // c.body nil: removed
				} else {
					c.body = fmt.Appendf([]byte{}, "body %d/%d/%d", run, step, len(cs))
					if r.IntN(8) == 0 {
						c.body = []byte{} // an empty body is an object too
					}
					want[id] = string(c.body)
				}
				cs = append(cs, c)
			}
			var err error
			if o, err = o.setAll(cs); err != nil {
				t.Fatal(err)
			}
			if string(prev.b) != prevB {
				t.Fatalf("run %d step %d: setAll changed the block it was given", run, step)
			}
			var got []obj
			if err := o.each("", func(svc bool, k Key, body string) bool {
				got = append(got, obj{svc, k, body})
				return true
			}); err != nil {
				t.Fatal(err)
			}
			var exp []obj
			for id, body := range want {
				exp = append(exp, obj{id.svc, id.k, body})
			}
			slices.SortFunc(exp, func(a, b obj) int {
				if a.svc != b.svc {
					if a.svc {
						return -1
					}
					return 1
				}
				return cmp.Or(cmp.Compare(a.k.Namespace, b.k.Namespace), cmp.Compare(a.k.Name, b.k.Name))
			})
			if !slices.Equal(got, exp) {
				t.Fatalf("run %d step %d: block holds %v, want %v", run, step, got, exp)
			}
			nSvcs := 0
			for _, x := range exp {
				if x.svc {
					nSvcs++
				}
				if !o.find(x.svc, x.k) {
					t.Fatalf("run %d step %d: %v not found", run, step, x)
				}
				if o.find(!x.svc, x.k) != hasKey(want, obj{svc: !x.svc, k: x.k}) {
					t.Fatalf("run %d step %d: %v found as the other kind", run, step, x)
				}
			}
			if int(o.nSvcs) != nSvcs {
				t.Fatalf("run %d step %d: %d Services counted, %d held", run, step, o.nSvcs, nSvcs)
			}
		}
	}
}

func hasKey[K comparable, V any](m map[K]V, k K) bool {
	_, ok := m[k]
	return ok
}

// TestObjectsBlockMalformed: a block cut inside an object (never the
// model's own) makes setAll and each report an error, and neither they
// nor find panic on it or on junk after it.
func TestObjectsBlockMalformed(t *testing.T) {
	good, err := objects{ns: "ns"}.setAll([]objChange{{svc: true, k: Key{"ns", "a"}, body: []byte("body")}, {k: Key{"other", "b"}, body: []byte("xy")}})
	if err != nil {
		t.Fatal(err)
	}
	first, ok := readObj(good.b, 0)
	if !ok {
		t.Fatal("the first object unread")
	}
	for i := range len(good.b) {
		cut := objects{b: good.b[:i], nSvcs: 1, ns: "ns"}
		junk := objects{b: append(slices.Clone(good.b[:i]), 0xff, 0xff, 0xff), nSvcs: 1, ns: "ns"}
		for _, o := range []objects{cut, junk} {
			_ = o.find(false, Key{"other", "b"})
			_, _ = o.setAll([]objChange{{k: Key{"other", "c"}, body: []byte("z")}})
			_ = o.each("", func(bool, Key, string) bool { return true })
		}
		if i == 0 || i == first.end {
			continue // whole objects
		}
		if _, err := cut.setAll([]objChange{{k: Key{"other", "c"}, body: []byte("z")}}); err == nil {
			t.Errorf("%x: setAll without an error", cut.b)
		}
		if err := cut.each("", func(bool, Key, string) bool { return true }); err == nil {
			t.Errorf("%x: each without an error", cut.b)
		}
	}
}
