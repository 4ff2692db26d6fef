package model

import (
	"cmp"
	"encoding/binary"
	"slices"
	"strings"

	discoveryv1 "k8s.io/api/discovery/v1"
)

// strKey is a string to sort by and its first 8 bytes as a big-endian
// number (zero bytes after a shorter string): most comparisons, of
// namespaces and names that differ early or are short, are answered
// from the number, without reading the string's bytes, which lie in
// objects all over memory.
type strKey struct {
	p uint64
	s string
}

func newStrKey(s string) strKey {
	var b [8]byte
	copy(b[:], s)
	return strKey{binary.BigEndian.Uint64(b[:]), s}
}

// compare orders a and b as strings.Compare(a.s, b.s).
func (a strKey) compare(b strKey) int {
	switch {
	case a.p < b.p:
		return -1
	case a.p > b.p:
		return 1
	case len(a.s) <= 8 && len(b.s) <= 8:
		// The numbers hold both: equal but for trailing zero bytes.
		return cmp.Compare(len(a.s), len(b.s))
	}
	return strings.Compare(a.s, b.s)
}

// sortedByKey returns the objects of in that are not nil, sorted by key,
// objects of one key in the order of in. The keys are read once each and
// sorted beside the objects: comparing them does not read the objects.
func sortedByKey[T any](in []*T, key func(*T) (string, string)) []*T {
	type keyed struct {
		a, b strKey
		i    int
		x    *T
	}
	ks := make([]keyed, 0, len(in))
	for i, x := range in {
		if x != nil {
			a, b := key(x)
			ks = append(ks, keyed{newStrKey(a), newStrKey(b), i, x})
		}
	}
	byKey := func(x, y keyed) int {
		if c := x.a.compare(y.a); c != 0 {
			return c
		}
		if c := x.b.compare(y.b); c != 0 {
			return c
		}
		return cmp.Compare(x.i, y.i)
	}
	if !slices.IsSortedFunc(ks, byKey) {
		slices.SortFunc(ks, byKey)
	}
	out := make([]*T, len(ks))
	for i := range ks {
		out[i] = ks[i].x
	}
	return out
}

// svcSlice is an EndpointSlice and the Service it is labelled for.
type svcSlice struct {
	ns, svc strKey
	i       int // its place in the list given: repeats keep their order
	es      *discoveryv1.EndpointSlice
}

func newSvcSlice(ns, svc string, i int, es *discoveryv1.EndpointSlice) svcSlice {
	return svcSlice{newStrKey(ns), newStrKey(svc), i, es}
}

// sortSlices sorts l by namespace, Service and name, slices of one key
// in the order given, and returns the slices in that order in out.
func sortSlices(l []svcSlice, out []*discoveryv1.EndpointSlice) []*discoveryv1.EndpointSlice {
	bySvc := func(x, y svcSlice) int {
		if c := x.ns.compare(y.ns); c != 0 {
			return c
		}
		if c := x.svc.compare(y.svc); c != 0 {
			return c
		}
		if c := strings.Compare(x.es.Name, y.es.Name); c != 0 {
			return c
		}
		return cmp.Compare(x.i, y.i)
	}
	if !slices.IsSortedFunc(l, bySvc) {
		slices.SortFunc(l, bySvc)
	}
	out = out[:0]
	for i := range l {
		out = append(out, l[i].es)
	}
	return out
}
