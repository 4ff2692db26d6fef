package dnsengine

import (
	"encoding/binary"
	"iter"
	"maps"
	"math/bits"
	"slices"

	"github.com/meshdns/meshdns/dnsengine/wire"
	"github.com/meshdns/meshdns/internal/carve"
)

// holds reports whether a group of ids other than except holds the name
// w: whether a reverse name is held twice, not only its key (revIndex).
func (t *Table) holds(ids []uint32, except uint32, w []byte) bool {
	for _, id := range ids {
		if id != except && t.ids.get(id).seg.lookup(w) != noNode {
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
		nt.apexes = u.Base.apexes
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
	nt.ids = slices.Clone(t.ids)
	var groupBlockCopied [groupBlocks]bool
	var groupCopied shardSet
	var blockCopied [revBlocks]bool
	var revCopied shardSet
	idCopied := map[uint32]bool{}
	freeCopied := false
	var buf [wire.MaxNameLen]byte
	var keptBuf [32]uint64
	// shard returns the shard of the Service key, copied for nt, and the
	// hash of key.
	shard := func(key []byte) (*[]groupEntry, uint64) {
		h := nt.groupHash(key)
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
		if !groupCopied.has(i) {
			groupCopied.add(i)
			b[li] = slices.Clone(b[li])
		}
		return &b[li], h
	}
	// setID makes g (nil: none) the group of id, copying its leaf for nt.
	setID := func(id uint32, g *Group) {
		leaf := id / idLeaves
		for uint32(len(nt.ids)) <= leaf {
			nt.ids = append(nt.ids, nil)
		}
		if !idCopied[leaf] {
			idCopied[leaf] = true
			l := new([idLeaves]*Group)
			if o := nt.ids[leaf]; o != nil {
				*l = *o
			}
			nt.ids[leaf] = l
		}
		nt.ids[leaf][id%idLeaves] = g
	}
	// newID returns an id of no Service: a freed one, else the next.
	newID := func() uint32 {
		if n := len(nt.free); n > 0 {
			id := nt.free[n-1]
			nt.free = nt.free[:n-1]
			return id
		}
		nt.nid++
		return nt.nid - 1
	}
	// freeID makes id, of a removed Service, one for the next new one.
	freeID := func(id uint32) {
		setID(id, nil)
		if !freeCopied {
			freeCopied = true
			nt.free = slices.Clone(nt.free)
		}
		nt.free = append(nt.free, id)
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
		if !revCopied.has(i) {
			revCopied.add(i)
			s := &revShard{}
			if o := b[li]; o != nil {
				s.hs, s.gs = slices.Clone(o.hs), slices.Clone(o.gs)
				s.multi = maps.Clone(o.multi)
			}
			b[li] = s
		}
		return b[li]
	}
	// revAdd makes the group of id, g, a holder of its reverse name w,
	// of hash h.
	revAdd := func(id uint32, g *Group, w []byte, h uint64) {
		rs, k := revShard(h), revKey(h)
		var l []uint32
		if i, ok := slices.BinarySearch(rs.hs, k); ok {
			l = []uint32{rs.gs[i]}
		} else if l = rs.multi[k]; l == nil {
			// The key's first holder: at the place the search found.
			rs.insertAt(i, k, id)
			return
		}
		if nt.holds(l, id, w) {
			nt.revDup++
		}
		// id is there already when another of its names has the key.
		if !slices.Contains(l, id) {
			i, _ := slices.BinarySearchFunc(l, g, func(o uint32, g *Group) int {
				if nt.ids.get(o).before(g) {
					return -1
				}
				return 1
			})
			rs.setHolders(k, slices.Insert(slices.Clone(l), i, id))
		}
	}
	// revDrop makes the group of id no longer a holder of the reverse
	// name w, of hash h. The group stays in the entry of w's key when
	// keep: it holds another name of that shard and key.
	revDrop := func(id uint32, w []byte, h uint64, keep bool) {
		rs, k := revShard(h), revKey(h)
		o, one := rs.get(k)
		if one && o == id {
			if !keep {
				rs.del(k)
			}
			return
		}
		l := rs.multi[k]
		if one {
			// Another of the group's names had the key and is gone.
			l = []uint32{o}
		}
		if nt.holds(l, id, w) {
			nt.revDup--
		}
		if i := slices.Index(l, id); i >= 0 && !keep {
			rs.setHolders(k, slices.Delete(slices.Clone(l), i, i+1))
		}
	}
	// count adds (sign 1) or takes away (-1) g's names and records.
	count := func(g *Group, sign int32) {
		nt.ngroups += int(sign)
		st := g.seg.count()
		nt.stats.add(&st, sign)
	}
	for _, k := range u.Remove {
		key := append(append(append(append([]byte{byte(len(k.Name))}, k.Name...), byte(len(k.Namespace))), k.Namespace...), nt.svcZone...)
		es, h := shard(key)
		if j, ok := findGroup(*es, h, key); ok {
			e := (*es)[j]
			*es = slices.Delete(*es, j, j+1)
			count(e.g, -1)
			e.g.forReverse(&buf, func(w []byte) { revDrop(e.id, w, nt.revHash(w), false) })
			freeID(e.id)
		}
	}
	for _, g := range u.Set {
		key := g.keyName()
		es, h := shard(key)
		j, ok := findGroup(*es, h, key)
		if !ok {
			id := newID()
			*es = slices.Insert(*es, j, groupEntry{h, g, id})
			count(g, 1)
			setID(id, g)
			g.forReverse(&buf, func(w []byte) { revAdd(id, g, w, nt.revHash(w)) })
			continue
		}
		// A new version of the Service's group: only the reverse names
		// it adds or loses change the reverse index.
		e := &(*es)[j]
		old, id := e.g, e.id
		e.g = g
		count(old, -1)
		count(g, 1)
		setID(id, g)
		// kept: the hashes of g's reverse names, for the names old
		// loses (revDrop's keep), taken on the way.
		kept := keptBuf[:0]
		g.forReverse(&buf, func(w []byte) {
			h := nt.revHash(w)
			kept = append(kept, h)
			if !old.hasReverse(w) {
				revAdd(id, g, w, h)
			}
		})
		old.forReverse(&buf, func(w []byte) {
			if g.hasReverse(w) {
				return
			}
			h := nt.revHash(w)
			revDrop(id, w, h, slices.ContainsFunc(kept, func(o uint64) bool { return sameRevEntry(o, h) }))
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
	for i := range groupCopied.all() {
		if es := &nt.groups[i/groupLeaves][i%groupLeaves]; c != nil {
			*es = carve.Copy(&c.entries, *es)
		} else if spare(cap(*es), len(*es)) {
			*es = slices.Clone(*es)
		}
	}
	for i := range revCopied.all() {
		rs := nt.rev[i/revLeaves][i%revLeaves]
		if c != nil {
			rs.hs, rs.gs = carve.Copy(&c.words, rs.hs), carve.Copy(&c.words, rs.gs)
		} else if spare(cap(rs.hs), len(rs.hs)) || spare(cap(rs.gs), len(rs.gs)) {
			rs.hs, rs.gs = slices.Clone(rs.hs), slices.Clone(rs.gs)
		}
	}
	return &nt
}

// forReverse calls fn with each reverse name of g, written in buf.
func (g *Group) forReverse(buf *[wire.MaxNameLen]byte, fn func(w []byte)) {
	s := &g.seg
	for n := 0; n+1 < len(s.nodes); n++ {
		// A group's reverse names hold PTR records: skip the others
		// before writing out their names.
		if len(typeRun(s.nodeRecords(uint32(n)), TypePTR)) == 0 {
			continue
		}
		if w := buf[:s.putName(buf[:], uint32(n))]; isReverse(w) {
			fn(w)
		}
	}
	for i := range s.rows {
		if s.rows[i].rmeta != 0 {
			fn(s.rowName(buf, s.rowNode(i)+1))
		}
	}
}

// hasReverse reports whether w is one of the reverse names of g
// (forReverse): a name of g with PTR records.
func (g *Group) hasReverse(w []byte) bool {
	n := g.seg.lookup(w)
	var buf rowRecs
	return n != noNode && len(g.seg.typeRange(n, TypePTR, buf[:])) > 0
}

// sameRevEntry reports whether the reverse names of hashes a and b share
// a shard and a key of it (revIndex).
func sameRevEntry(a, b uint64) bool {
	return slotOf(a, revBlocks*revLeaves) == slotOf(b, revBlocks*revLeaves) && revKey(a) == revKey(b)
}

// shardSet is a set of the shards of an index (groupBlocks*groupLeaves,
// revBlocks*revLeaves): a bit each.
type shardSet [shards / 64]uint64

const shards = max(groupBlocks*groupLeaves, revBlocks*revLeaves)

func (s *shardSet) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }

func (s *shardSet) add(i int) { s[i/64] |= 1 << (i % 64) }

// all yields the shards of s in order.
func (s *shardSet) all() iter.Seq[int] {
	return func(yield func(int) bool) {
		for w, b := range s {
			for ; b != 0; b &= b - 1 {
				if !yield(w*64 + bits.TrailingZeros64(b)) {
					return
				}
			}
		}
	}
}
