package model

import (
	"hash/maphash"

	"github.com/meshdns/meshdns/dnsengine"
)

// groupIndex finds a group's part by its key. It is a map by the key's
// hash, not by the key: 16 bytes an entry instead of 40 (a map by
// GroupKey holds the key's two string headers again), about 4 bytes an
// endpoint at 100,000. The part holds its key; parts whose keys hash
// alike (never seen, but possible) are chained by groupPart.next.
type groupIndex struct {
	byHash map[uint64]*groupPart
	seed   maphash.Seed
	hash   func(dnsengine.GroupKey) uint64 // nil: by seed (tests set one to force equal hashes)
}

// newGroupIndex returns an empty index hashing keys with hash, or with
// its own hash if hash is nil.
func newGroupIndex(hash func(dnsengine.GroupKey) uint64) *groupIndex {
	return &groupIndex{byHash: map[uint64]*groupPart{}, seed: maphash.MakeSeed(), hash: hash}
}

func (x *groupIndex) hashOf(g dnsengine.GroupKey) uint64 {
	if x.hash != nil {
		return x.hash(g)
	}
	return maphash.Comparable(x.seed, g)
}

// get returns the part of group g, or nil (also from a nil index).
func (x *groupIndex) get(g dnsengine.GroupKey) *groupPart {
	if x == nil {
		return nil
	}
	for gp := x.byHash[x.hashOf(g)]; gp != nil; gp = gp.next {
		if gp.key == g {
			return gp
		}
	}
	return nil
}

// lookup returns the hash of g and the part of g, or nil.
func (x *groupIndex) lookup(g dnsengine.GroupKey) (uint64, *groupPart) {
	h := x.hashOf(g)
	for gp := x.byHash[h]; gp != nil; gp = gp.next {
		if gp.key == g {
			return h, gp
		}
	}
	return h, nil
}

// add adds gp, whose key it does not hold.
func (x *groupIndex) add(gp *groupPart) { x.addHashed(gp, x.hashOf(gp.key)) }

// addHashed adds gp, whose key it does not hold and hashes to h.
func (x *groupIndex) addHashed(gp *groupPart, h uint64) {
	gp.next = x.byHash[h]
	x.byHash[h] = gp
}

// remove removes gp, which it holds.
func (x *groupIndex) remove(gp *groupPart) {
	h := x.hashOf(gp.key)
	var prev *groupPart
	for p := x.byHash[h]; p != nil; prev, p = p, p.next {
		if p != gp {
			continue
		}
		switch {
		case prev != nil:
			prev.next = gp.next
		case gp.next != nil:
			x.byHash[h] = gp.next
		default:
			delete(x.byHash, h)
		}
		gp.next = nil
		return
	}
}

// each calls f with every part held, in no order (none for a nil
// index).
func (x *groupIndex) each(f func(*groupPart)) {
	if x == nil {
		return
	}
	for _, gp := range x.byHash {
		for ; gp != nil; gp = gp.next {
			f(gp)
		}
	}
}
