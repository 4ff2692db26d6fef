package model

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/meshdns/meshdns/dnsengine"
)

// applyScratch is what apply and buildGroup reuse from one call to the
// next (an Incremental is used from one goroutine): the maps and lists a
// change needs, cleared after use, so that one change's Apply does not
// allocate them anew.
type applyScratch struct {
	dirty    map[dnsengine.GroupKey]bool
	unpacked map[dnsengine.GroupKey]*groupObjects
	keys     []dnsengine.GroupKey
	flipped  []netip.Addr
	ips      []netip.Addr // a group's addresses (buildGroup)
	pass     passThroughs // checkServices' writer
	buf      []byte       // an object packed (enc)
	// The changes of groups' objects, made at once (objects.setAll): the
	// parts changed (groupPart.pend), the changes, and the chunk their
	// bodies are cut from.
	parts   []*groupPart
	changes []objChange
	bodies  []byte
	// The objects unpacked to rebuild groups.
	svcPool   objectPool[corev1.Service]
	slicePool objectPool[discoveryv1.EndpointSlice]
}

// smallScratch is the most entries a scratch map may have held to be
// kept: clearing a map costs its capacity, so one that a first Apply (a
// whole cluster) grew is dropped rather than cleared on every change.
const smallScratch = 64

// fresh returns m emptied for reuse, or a new map sized for n entries if
// m is nil or held more than smallScratch entries, or n is more than
// that.
func fresh[K comparable, V any](m map[K]V, n int) map[K]V {
	if m == nil || len(m) > smallScratch || n > smallScratch {
		return make(map[K]V, n)
	}
	clear(m)
	return m
}

// done empties the scratch after an apply: what it points at (decoded
// objects, kept keys) is not held until the next one, and maps grown
// past smallScratch are dropped.
func (a *applyScratch) done() {
	a.dirty, a.unpacked = fresh(a.dirty, 0), fresh(a.unpacked, 0)
	for _, gp := range a.parts {
		gp.pend = 0
	}
	clear(a.parts)
	clear(a.changes)
	a.parts, a.changes = a.parts[:0], a.changes[:0]
	if cap(a.parts) > smallScratch || cap(a.changes) > smallScratch {
		a.parts, a.changes = nil, nil
	}
	a.svcPool.reset()
	a.slicePool.reset()
	clear(a.keys)
	a.keys, a.flipped = a.keys[:0], a.flipped[:0]
	if cap(a.keys) > smallScratch {
		a.keys = nil
	}
	if cap(a.flipped) > smallScratch {
		a.flipped = nil
	}
	if cap(a.ips) > smallScratch {
		a.ips = nil
	}
	if cap(a.buf) > 64<<10 {
		a.buf = nil
	}
}

// enc returns x packed by appendTo into the scratch buffer, valid until
// the next call.
func enc[T any](a *applyScratch, appendTo func([]byte, *T) []byte, x *T) []byte {
	a.buf = appendTo(a.buf[:0], x)
	return a.buf
}

// runsOf yields the runs of changes of one part, cs sorted by part.
func runsOf(cs []objChange) func(func([]objChange) bool) {
	return func(yield func([]objChange) bool) {
		for len(cs) > 0 {
			n := 1
			for n < len(cs) && cs[n].part == cs[0].part {
				n++
			}
			if !yield(cs[:n]) {
				return
			}
			cs = cs[n:]
		}
	}
}

// bodyChunk is the size of the chunks the changed objects' bodies are cut
// from: many an Apply of one change each, one every 16 KB of a first
// Apply's, with none of the copying of one growing buffer.
const bodyChunk = 16 << 10

// body returns a copy of b cut from a's chunk of bodies, valid until the
// Apply is done. The chunk is kept from one Apply to the next; the bodies
// in it are the Apply's own.
func (a *applyScratch) body(b []byte) []byte {
	if cap(a.bodies)-len(a.bodies) < len(b) {
		a.bodies = make([]byte, 0, max(bodyChunk, len(b)))
	}
	n := len(a.bodies)
	a.bodies = append(a.bodies, b...)
	return a.bodies[n:len(a.bodies):len(a.bodies)]
}
