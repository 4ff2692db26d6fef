package model

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/meshdns/meshdns/internal/carve"
)

// Incremental keeps every Service and EndpointSlice between Applies, to
// rebuild a group when one of its objects changes. It keeps them packed:
// as their protobuf encoding, the form the API server sends them in. A
// decoded EndpointSlice of ten endpoints, even with only what DNS reads
// left in it (sync/kube's transforms), is about 1.5 KB in two dozen
// allocations (an ObjectMeta, a discoveryv1.Endpoint of 96 bytes per
// endpoint, a string per address, a pointer per condition); packed, it is
// a few hundred bytes in one. A group being rebuilt unpacks its objects
// (a few microseconds each) and drops them again; the objects an Apply
// hands over are used as they are.

// packed is a Service or EndpointSlice kept packed.
type packed struct {
	Key
	b []byte
}

// protoObject is what pack and unpack need of a Kubernetes type: the
// protobuf methods generated for every built-in API type.
type protoObject[T any] interface {
	*T
	Size() int
	MarshalToSizedBuffer([]byte) (int, error)
	Unmarshal([]byte) error
}

// pack encodes x into exactly its size, carved from *chunk unless chunk
// is nil.
func pack[T any, P protoObject[T]](k Key, x P, chunk *[]byte) (packed, error) {
	var b []byte
	if chunk != nil {
		b = carve.Take(chunk, x.Size())
	} else {
		b = make([]byte, x.Size())
	}
	n, err := x.MarshalToSizedBuffer(b)
	if err != nil {
		return packed{}, fmt.Errorf("model: packing %s/%s: %w", k.Namespace, k.Name, err)
	}
	return packed{Key: k, b: b[len(b)-n:]}, nil
}

// unpack decodes p into x, a zero object.
func unpack[T any, P protoObject[T]](p packed, x P) (P, error) {
	if err := x.Unmarshal(p.b); err != nil {
		return nil, fmt.Errorf("model: unpacking %s/%s: %w", p.Namespace, p.Name, err)
	}
	return x, nil
}

// samePacked reports whether x encodes to p's bytes: an object handed over
// again unchanged, whether or not it is the same pointer.
func samePacked[T any, P protoObject[T]](p packed, x P) bool {
	q, err := pack(p.Key, x, nil)
	return err == nil && bytes.Equal(p.b, q.b)
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
// into an object of pool.
func unpackAll[T any, P protoObject[T]](l []packed, live map[Key]P, pool *objectPool[T]) ([]P, error) {
	out := make([]P, 0, len(l))
	for _, p := range l {
		if x, ok := live[p.Key]; ok && x != nil {
			out = append(out, x)
			continue
		}
		x, err := unpack[T, P](p, pool.get())
		if err != nil {
			return nil, err
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
