package model

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestObjectsBlock: a group's block of objects, after random sets and
// removals of Services and EndpointSlices (some in a namespace not the
// group's), holds what a map of the same steps holds: the Services first,
// each run in key order, each body found by its key; and the block an
// earlier step returned is left as it was.
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
			k := Key{nss[r.IntN(len(nss))], names[r.IntN(len(names))]}
			svc := r.IntN(2) == 0
			id := obj{svc: svc, k: k}
			if r.IntN(3) == 0 {
				o = o.set(svc, k, nil)
				delete(want, id)
			} else {
				body := fmt.Sprintf("body %d/%d", run, step)
				if r.IntN(8) == 0 {
					body = "" // an empty body is an object too
				}
				o = o.set(svc, k, []byte(body))
				want[id] = body
			}
			if string(prev.b) != prevB {
				t.Fatalf("run %d step %d: set changed the block it was given", run, step)
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
				if b, ok := o.body(x.svc, x.k); !ok || string(b) != x.body {
					t.Fatalf("run %d step %d: body of %v: %q, %v", run, step, x, b, ok)
				}
				if _, ok := o.body(!x.svc, x.k); ok != hasKey(want, obj{svc: !x.svc, k: x.k}) {
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

// TestObjectsBlockMalformed: bytes that are no block (never the model's
// own) find nothing and report an error, without a panic.
func TestObjectsBlockMalformed(t *testing.T) {
	good := objects{ns: "ns"}.set(true, Key{"ns", "a"}, []byte("body")).set(false, Key{"other", "b"}, []byte("xy"))
	for i := range len(good.b) {
		for _, bad := range [][]byte{good.b[:i], append(slices.Clone(good.b[:i]), 0xff, 0xff, 0xff)} {
			o := objects{b: bad, nSvcs: 1, ns: "ns"}
			_, _ = o.body(false, Key{"other", "b"})
			_ = o.set(false, Key{"other", "c"}, []byte("z"))
			n := 0
			err := o.each("", func(bool, Key, string) bool { n++; return true })
			if i > 0 && err == nil && n == 2 {
				t.Errorf("%x: read as the whole block", bad)
			}
		}
	}
}
