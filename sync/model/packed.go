package model

import (
	"cmp"
	"fmt"
)

// Incremental keeps every Service and EndpointSlice between Applies, to
// rebuild a group when one of its objects changes. It keeps them packed:
// what the model reads of each, in a compact encoding (packed_codec.go).
// A decoded EndpointSlice of ten endpoints, even with only what DNS reads
// left in it (sync/kube's transforms), is about 1.5 KB in two dozen
// allocations (an ObjectMeta, a discoveryv1.Endpoint of 96 bytes per
// endpoint, a string per address, a pointer per condition); packed, it is
// about 80 bytes. A group being rebuilt unpacks its objects (a
// microsecond or two each) and drops them again; the objects an Apply
// hands over are used as they are.

// unpackAll returns the objects of o, Services or not (svc), in order:
// the version live holds for a key it has (the objects of the Apply
// under way), else o's unpacked (unpackService or unpackSlice) into an
// object of pool. s is o's block made a string, substrings of which the
// objects unpacked hold.
func unpackAll[T any](o objects, s string, svc bool, live map[Key]*T, pool *objectPool[T], unpack func(string, Key, *T) error) ([]*T, error) {
	var out []*T
	var err error
	perr := o.each(s, func(isSvc bool, k Key, body string) bool {
		if isSvc != svc {
			return isSvc // the Services come first
		}
		if x, ok := live[k]; ok && x != nil {
			out = append(out, x)
			return true
		}
		x := pool.get()
		if err = unpack(body, k, x); err != nil {
			err = fmt.Errorf("model: unpacking %s/%s: %w", k.Namespace, k.Name, err)
			return false
		}
		out = append(out, x)
		return true
	})
	return out, cmp.Or(err, perr)
}

// objectPool hands out zero objects to unpack into, and takes them all
// back at once (reset): the objects a group is rebuilt from live until its
// build is done, and an Apply of one change unpacks a Service or two,
// which the next one's reuse.
type objectPool[T any] struct {
	xs []*T
	n  int // handed out: xs[:n]
}

// get returns a zero object.
func (p *objectPool[T]) get() *T {
	if p.n == len(p.xs) {
		p.xs = append(p.xs, new(T))
	}
	p.n++
	return p.xs[p.n-1]
}

// reset takes every object back, zeroed so that it holds nothing the
// objects decoded into it did; a pool that grew past smallScratch objects
// (a first Apply's) is dropped.
func (p *objectPool[T]) reset() {
	var zero T
	for _, x := range p.xs[:p.n] {
		*x = zero
	}
	p.n = 0
	if len(p.xs) > smallScratch {
		p.xs = nil
	}
}
