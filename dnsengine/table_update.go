package dnsengine

import (
	"encoding/binary"
	"hash/maphash"
	"maps"
	"slices"

	"github.com/meshdns/meshdns/dnsengine/wire"
	"github.com/meshdns/meshdns/internal/carve"
)

// holds reports whether a group of gs other than except holds the name
// w: whether a reverse name is held twice, not only its key (revIndex).
func holds(gs []*Group, except *Group, w []byte) bool {
	for _, g := range gs {
		if g != except && g.seg.lookup(w) != noNode {
			return true
		}
	}
	return false
}

// spare reports whether a slice of capacity c holding n elements has
// more room left than a copy would: a quarter of n, or 4.
func spare(c, n int) bool { return c-n > max(n/4, 4) }

// TableUpdate is a change to a table.
type TableUpdate struct {
	// Base, when set, replaces the base segment with that of Base, a
	// table from TableBuilder.Build for the same zones.
	Base *Table
	// Set adds the groups, replacing those of the same Services.
	Set []*Group
	// Remove drops the groups of these Services.
	Remove []GroupKey
	// Serial, when not 0, becomes the SOA serial.
	Serial uint32
	// Carve: the update is a first build's, setting every group at once;
	// the index shards it makes are carved from shared chunks
	// (table_carve.go) instead of each being allocated on its own.
	Carve bool
}

// Update returns a new table with u applied; t is unchanged and shares
// with it everything u does not touch.
func (t *Table) Update(u TableUpdate) *Table {
	nt := *t
	if u.Base != nil {
		old, nw := t.base.count(), u.Base.base.count()
		nt.stats.add(&old, -1)
		nt.base = u.Base.base
		nt.zones = u.Base.zones
		nt.stats.add(&nw, 1)
		if u.Serial == 0 {
			u.Serial = t.serial
		}
	}
	if u.Serial != 0 && u.Serial != nt.serial || u.Base != nil {
		nt.serial = u.Serial
		nt.zones = slices.Clone(nt.zones)
		for i := range nt.zones {
			z := &nt.zones[i]
			z.soaPfx = binary.BigEndian.AppendUint32(slices.Clone(z.soaPfx[:len(z.soaPfx)-4]), u.Serial)
		}
	}
	if len(u.Set) == 0 && len(u.Remove) == 0 {
		return &nt
	}
	if nt.groups == nil {
		nt.groups, nt.rev = new(groupIndex), new(revIndex)
	} else {
		g, r := *t.groups, *t.rev
		nt.groups, nt.rev = &g, &r
	}
	var groupBlockCopied [groupBlocks]bool
	groupCopied := map[int]bool{}
	var blockCopied [revBlocks]bool
	revCopied := map[int]bool{}
	var buf [wire.MaxNameLen]byte
	// shard returns the shard of the Service key, copied for nt, and the
	// hash of key.
	shard := func(key []byte) (*[]groupEntry, uint64) {
		h := maphash.Bytes(nt.seed, key)
		i := slotOf(h, groupBlocks*groupLeaves)
		bi, li := i/groupLeaves, i%groupLeaves
		if !groupBlockCopied[bi] {
			groupBlockCopied[bi] = true
			b := new(groupBlock)
			if o := nt.groups[bi]; o != nil {
				*b = *o
			}
			nt.groups[bi] = b
		}
		b := nt.groups[bi]
		if !groupCopied[i] {
			groupCopied[i] = true
			b[li] = slices.Clone(b[li])
		}
		return &b[li], h
	}
	revShard := func(h uint64) *revShard {
		i := slotOf(h, revBlocks*revLeaves)
		bi, li := i/revLeaves, i%revLeaves
		if !blockCopied[bi] {
			blockCopied[bi] = true
			b := new(revBlock)
			if o := nt.rev[bi]; o != nil {
				*b = *o
			}
			nt.rev[bi] = b
		}
		b := nt.rev[bi]
		if !revCopied[i] {
			revCopied[i] = true
			s := &revShard{}
			if o := b[li]; o != nil {
				s.hs, s.gs = slices.Clone(o.hs), slices.Clone(o.gs)
				s.multi = maps.Clone(o.multi)
			}
			b[li] = s
		}
		return b[li]
	}
	// forReverse calls fn with each reverse name of g and its hash.
	forReverse := func(g *Group, fn func(w []byte, h uint64)) {
		s := g.seg
		for n := 0; n+1 < len(s.nodes); n++ {
			// A group's reverse names hold PTR records: skip the
			// others before writing out their names.
			if len(s.typeRange(uint32(n), TypePTR)) == 0 {
				continue
			}
			w := buf[:s.putName(buf[:], uint32(n))]
			if isReverse(w) {
				fn(w, maphash.Bytes(nt.seed, w))
			}
		}
	}
	drop := func(old *Group) {
		nt.ngroups--
		st := old.seg.count()
		nt.stats.add(&st, -1)
		forReverse(old, func(w []byte, h uint64) {
			rs, k := revShard(h), revKey(h)
			o, one := rs.get(k)
			if one && o == old {
				rs.set(k, nil)
				return
			}
			l := rs.multi[k]
			if one {
				// Another of old's names had the key and is gone.
				l = []*Group{o}
			}
			if holds(l, old, w) {
				nt.revDup--
			}
			if i := slices.Index(l, old); i >= 0 {
				rs.setHolders(k, slices.Delete(slices.Clone(l), i, i+1))
			}
		})
	}
	for _, k := range u.Remove {
		key := append(append(append(append([]byte{byte(len(k.Name))}, k.Name...), byte(len(k.Namespace))), k.Namespace...), nt.svcZone...)
		es, h := shard(key)
		if j, ok := findGroup(*es, h, key); ok {
			old := (*es)[j].g
			*es = slices.Delete(*es, j, j+1)
			drop(old)
		}
	}
	for _, g := range u.Set {
		key := g.keyName()
		es, h := shard(key)
		if j, ok := findGroup(*es, h, key); ok {
			drop((*es)[j].g)
			(*es)[j].g = g
		} else {
			*es = slices.Insert(*es, j, groupEntry{h, g})
		}
		nt.ngroups++
		st := g.seg.count()
		nt.stats.add(&st, 1)
		forReverse(g, func(w []byte, h uint64) {
			rs, k := revShard(h), revKey(h)
			l := rs.multi[k]
			if o, ok := rs.get(k); ok {
				l = []*Group{o}
			} else if l == nil {
				rs.set(k, g)
				return
			}
			if holds(l, g, w) {
				nt.revDup++
			}
			// g is there already when another of its names has the key.
			if !slices.Contains(l, g) {
				i, _ := slices.BinarySearchFunc(l, g, func(a, b *Group) int {
					if a.before(b) {
						return -1
					}
					return 1
				})
				rs.setHolders(k, slices.Insert(slices.Clone(l), i, g))
			}
		})
	}
	// Near exact sizes: the shards grew by appending (at the first update,
	// by every group, doubling their capacity), and a table keeps them
	// until a change copies them. A copy's own rounding up to the
	// allocator's size is left alone.
	var c *carver
	if u.Carve {
		c = &carver{}
	}
	for i := range groupCopied {
		if es := &nt.groups[i/groupLeaves][i%groupLeaves]; c != nil {
			*es = carve.Copy(&c.entries, *es)
		} else if spare(cap(*es), len(*es)) {
			*es = slices.Clone(*es)
		}
	}
	for i := range revCopied {
		rs := nt.rev[i/revLeaves][i%revLeaves]
		if c != nil {
			rs.hs, rs.gs = carve.Copy(&c.words, rs.hs), carve.Copy(&c.holders, rs.gs)
		} else if spare(cap(rs.hs), len(rs.hs)) || spare(cap(rs.gs), len(rs.gs)) {
			rs.hs, rs.gs = slices.Clone(rs.hs), slices.Clone(rs.gs)
		}
	}
	return &nt
}
