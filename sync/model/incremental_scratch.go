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
	bySvc    map[Key][]*discoveryv1.EndpointSlice
	keys     []dnsengine.GroupKey
	flipped  []netip.Addr
	buf      []byte // an object packed (enc)
	// The changes of each group's objects, made at once (objects.setAll),
	// and their bodies.
	pending map[*groupPart][]objChange
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
	a.bySvc = fresh(a.bySvc, 0)
	a.pending = fresh(a.pending, 0)
	a.bodies = a.bodies[:0]
	if cap(a.bodies) > 64<<10 {
		a.bodies = nil
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
