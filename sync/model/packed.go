package model

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/meshdns/meshdns/internal/carve"
)

// Incremental keeps every Service and EndpointSlice between Applies, to
// rebuild a group when one of its objects changes. It keeps them packed:
// what the model reads of each, in a compact encoding (packed_codec.go).
// A decoded EndpointSlice of ten endpoints, even with only what DNS reads
// left in it (sync/kube's transforms), is about 1.5 KB in two dozen
// allocations (an ObjectMeta, a discoveryv1.Endpoint of 96 bytes per
// endpoint, a string per address, a pointer per condition); packed, it is
// about 80 bytes in one. A group being rebuilt unpacks its objects (a
// microsecond or two each) and drops them again; the objects an Apply
// hands over are used as they are.

// packed is a Service or EndpointSlice kept packed.
type packed struct {
	Key
	b []byte
}

// newPacked returns the packed object of key k with a copy of the bytes
// enc, carved from *chunk unless chunk is nil.
func newPacked(k Key, enc []byte, chunk *[]byte) packed {
	var b []byte
	if chunk != nil {
		b = carve.Take(chunk, len(enc))
	} else {
		b = make([]byte, len(enc))
	}
	copy(b, enc)
	return packed{Key: k, b: b}
}

// findPacked returns the index of key k in l, sorted by key, and whether
// it is there.
func findPacked(l []packed, k Key) (int, bool) {
	return slices.BinarySearchFunc(l, k, func(p packed, k Key) int {
		return cmp.Or(cmp.Compare(p.Namespace, k.Namespace), cmp.Compare(p.Name, k.Name))
	})
}

// setPacked sets the object of key k in l, kept sorted by key, to p, or
// removes it.
func setPacked(l []packed, k Key, p packed, remove bool) []packed {
	i, ok := findPacked(l, k)
	switch {
	case ok && remove:
		return slices.Delete(l, i, i+1)
	case ok:
		l[i] = p
	case !remove:
		l = slices.Insert(l, i, p)
	}
	return l
}

// unpackAll returns the objects of l, in order: the version live holds for
// a key it has (the objects of the Apply under way), else l's unpacked
// (unpackService or unpackSlice) into an object of pool.
func unpackAll[T any](l []packed, live map[Key]*T, pool *objectPool[T], unpack func([]byte, Key, *T) error) ([]*T, error) {
	out := make([]*T, 0, len(l))
	for _, p := range l {
		if x, ok := live[p.Key]; ok && x != nil {
			out = append(out, x)
			continue
		}
		x := pool.get()
		if err := unpack(p.b, p.Key, x); err != nil {
			return nil, fmt.Errorf("model: unpacking %s/%s: %w", p.Namespace, p.Name, err)
		}
		out = append(out, x)
	}
	return out, nil
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
