package dnsengine

import (
	"bytes"
	"cmp"
	"net/netip"
	"slices"

	"github.com/meshdns/meshdns/dnsengine/wire"
)

// A table that follows a cluster's changes cannot be rebuilt whole on
// each: at 100,000 endpoints a build takes a third of a second. So a
// table is a base segment (zone apex records, ServiceEntries, the
// namespaces' empty non-terminals, anything not below a Service) plus one
// segment per Kubernetes Service, its group: the names below
// <name>.<namespace>.svc.<cluster domain> and the reverse names of its
// addresses. Update replaces the groups that changed and shares the rest
// with the table it came from, so a change costs the Services it touches.
//
// A name finds its segment without a search:
//   - below <name>.<namespace>.svc.<cluster domain>: that Service's group
//     (groupIndex, sharded so that an update copies one shard), then the
//     base (a ServiceEntry host below a Service's name);
//   - a reverse name: every group holding it, by the hash of the name
//     (revIndex), in the order a whole build adds them (by namespace,
//     then name), then the base. A pod behind two Services has two PTR
//     records, one from each group;
//   - anything else: the base.
//
// A table from a single Build has no groups: everything is in the base.

// GroupKey names the Service a group holds.
type GroupKey struct{ Namespace, Name string }

// Group is the segment of one Service. Build one with a TableBuilder made
// with TableConfig.Group and finished with BuildGroup. It is one
// allocation: the segment and where its arena holds the Service's name.
type Group struct {
	seg segment
	key uint32 // arena offset of the Service's full node: the length of its lowercase wire name, then the name
}

// keyName returns the lowercase wire name of the group's Service.
func (g *Group) keyName() []byte {
	a := g.seg.arena[g.key:]
	return a[1 : 1+int(a[0])]
}

// parts returns the namespace and name of the group's Service.
func (g *Group) parts() (ns, name []byte) {
	k := g.keyName()
	name, k = k[1:1+int(k[0])], k[1+int(k[0]):]
	return k[1 : 1+int(k[0])], name
}

// Key returns the Service of the group.
func (g *Group) Key() GroupKey {
	ns, name := g.parts()
	return GroupKey{string(ns), string(name)}
}

// Empty reports whether the group holds no name below its Service (a
// headless Service without ready endpoints, or a pass-through): it then
// makes no namespace exist.
func (g *Group) Empty() bool { return g.seg.lookup(g.keyName()) == noNode }

// ReverseHolders returns the Services whose groups hold the reverse name
// of ip, in order.
func (t *Table) ReverseHolders(ip netip.Addr) []GroupKey {
	if t.rev == nil {
		return nil
	}
	w := appendReverseName(nil, ip)
	h := t.revHash(w)
	var out []GroupKey
	rs := t.rev.shard(h)
	if rs == nil {
		return nil
	}
	ids := rs.multi[revKey(h)]
	if id, ok := rs.get(revKey(h)); ok {
		ids = []uint32{id}
	}
	for _, id := range ids {
		if g := t.ids.get(id); g.seg.lookup(w) != noNode {
			out = append(out, g.Key())
		}
	}
	return out
}

// GroupHasRecords reports whether a group of t owns records at name (a
// dotted name): the Kubernetes names a ServiceEntry host must not shadow.
func (t *Table) GroupHasRecords(name string) bool {
	w, err := wire.EncodeName(name)
	if err != nil || t.groups == nil {
		return false
	}
	w = lowerWire(w)
	if isReverse(w) {
		var ps [maxRuns]part
		k := t.reverseParts(w, ps[:])
		return k < 0 || k > 1 || k == 1 && ps[0].seg != t.base
	}
	g := t.groupOf(w)
	if g == nil {
		return false
	}
	n := g.seg.lookup(w)
	return n != noNode && g.seg.hasRecords(n)
}

// lowerWire lowercases the wire name w in place (length bytes are at
// most 63, below 'A').
func lowerWire(w []byte) []byte {
	for i, c := range w {
		w[i] = wire.Lower(c)
	}
	return w
}

// before orders groups as a whole build adds their names.
func (g *Group) before(o *Group) bool { return compareGroups(g, o) < 0 }

// compareGroups orders groups by namespace, then name.
func compareGroups(g, o *Group) int {
	gns, gname := g.parts()
	ons, oname := o.parts()
	return cmp.Or(bytes.Compare(gns, ons), bytes.Compare(gname, oname))
}

const (
	// groupBlocks blocks of groupLeaves shards: an update copies the
	// block array, the blocks it touches and the shards (about two
	// Services each at 10,000 Services).
	groupBlocks = 64
	groupLeaves = 64
	// revBlocks blocks of revLeaves shards: an update copies the block
	// array, the blocks it touches and, in them, the shards (about 25
	// names each at 100,000 endpoints, 12 bytes a name).
	revBlocks = 64
	revLeaves = 64
	// maxRuns bounds the record runs of one answer: a reverse name held
	// by more groups than fit is left to the upstream, which knows it too.
	maxRuns = 8
)

// groupIndex finds a group by the hash of its Service's wire name.
type groupIndex [groupBlocks]*groupBlock

// groupBlock holds shards of groups, each sorted by hash: a few groups a
// shard, 16 bytes each (a map of so few costs a hundred bytes a group).
type groupBlock [groupLeaves][]groupEntry

// groupEntry is a group, the hash of its Service's wire name and the id
// of the Service in the table (groupIDs).
type groupEntry struct {
	h  uint64
	g  *Group
	id uint32
}

// get returns the group of the wire name key, whose hash is h, or nil.
func (x *groupIndex) get(h uint64, key []byte) *Group {
	i := slotOf(h, groupBlocks*groupLeaves)
	b := x[i/groupLeaves]
	if b == nil {
		return nil
	}
	es := b[i%groupLeaves]
	if j, ok := findGroup(es, h, key); ok {
		return es[j].g
	}
	return nil
}

// findGroup returns the place in the shard es of the group of the wire
// name key, whose hash is h: its index and whether it is there (else where
// it would go).
func findGroup(es []groupEntry, h uint64, key []byte) (int, bool) {
	j := searchGroups(es, h)
	for ; j < len(es) && es[j].h == h; j++ {
		if string(es[j].g.keyName()) == string(key) {
			return j, true
		}
	}
	return j, false
}

// searchGroups returns the first entry of es whose hash is at least h.
func searchGroups(es []groupEntry, h uint64) int {
	lo, hi := 0, len(es)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if es[m].h < h {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// revIndex finds the groups holding a reverse name by the hash of the
// name (Table.revHash): its high bits choose the shard, its low 32 bits
// (revKey) the entry. An entry names its groups by the ids of their
// Services (groupIDs), not by the groups: a new version of a Service's
// group keeps the id, so replacing it touches only the entries of the
// reverse names it adds or loses, not every name it holds. A key held by
// one group maps to its id in hs and gs; the few held by more are listed,
// in group order, in multi. Two names may share a key: every group found
// is asked for the name itself.
type revIndex [revBlocks]*revBlock

type revBlock [revLeaves]*revShard

// shard returns the shard of hash h, or nil.
func (r *revIndex) shard(h uint64) *revShard {
	i := slotOf(h, revBlocks*revLeaves)
	if b := r[i/revLeaves]; b != nil {
		return b[i%revLeaves]
	}
	return nil
}

// revShard is one shard of a revIndex: 8 bytes a reverse name.
type revShard struct {
	hs    []uint32 // sorted keys held by one group
	gs    []uint32 // the group of id gs[i] holds hs[i]
	multi map[uint32][]uint32
}

// revKey is the key of the name of hash h in its shard.
func revKey(h uint64) uint32 { return uint32(h) }

// get returns the id of the one group holding key k, if one does.
func (s *revShard) get(k uint32) (uint32, bool) {
	i, ok := slices.BinarySearch(s.hs, k)
	if !ok {
		return 0, false
	}
	return s.gs[i], true
}

// set makes the group of id the one holding k.
func (s *revShard) set(k, id uint32) {
	i, ok := slices.BinarySearch(s.hs, k)
	if ok {
		s.gs[i] = id
		return
	}
	s.insertAt(i, k, id)
}

// insertAt makes the group of id the one holding k, at i in hs and gs:
// where a search for k, not there, found its place.
func (s *revShard) insertAt(i int, k, id uint32) {
	s.hs, s.gs = slices.Insert(s.hs, i, k), slices.Insert(s.gs, i, id)
}

// del makes k held by no group in hs and gs.
func (s *revShard) del(k uint32) {
	if i, ok := slices.BinarySearch(s.hs, k); ok {
		s.hs, s.gs = slices.Delete(s.hs, i, i+1), slices.Delete(s.gs, i, i+1)
	}
}

// setHolders makes the groups of ids, in order, the groups holding key k.
func (s *revShard) setHolders(k uint32, ids []uint32) {
	if len(ids) > 1 {
		s.del(k)
		if s.multi == nil {
			s.multi = map[uint32][]uint32{}
		}
		s.multi[k] = ids
		return
	}
	delete(s.multi, k)
	if len(ids) == 1 {
		s.set(k, ids[0])
	} else {
		s.del(k)
	}
}

// isReverse reports whether the lowercase wire name w lies below
// in-addr.arpa or ip6.arpa. Every such name ends in the bytes of
// "arpa.", which most names do not: those are turned away without a walk
// of their labels.
func isReverse(w []byte) bool {
	const arpa = "\x04arpa\x00"
	if len(w) < len(arpa) || string(w[len(w)-len(arpa):]) != arpa {
		return false
	}
	return isSubdomain(w, []byte("\x07in-addr\x04arpa\x00")) || isSubdomain(w, []byte("\x03ip6\x04arpa\x00"))
}

// groupOf returns the group that would hold w, or nil: w must lie at or
// below <name>.<namespace>.svc.<cluster domain>.
func (t *Table) groupOf(w []byte) *Group {
	if t.groups == nil {
		return nil
	}
	key := t.serviceName(w)
	if key == nil {
		return nil
	}
	return t.groups.get(t.groupHash(key), key)
}

// serviceName returns the suffix of the lowercase wire name w that names
// a Service, <name>.<namespace>.svc.<cluster domain>, or nil when w lies
// neither at nor below one.
func (t *Table) serviceName(w []byte) []byte {
	if len(t.svcZone) == 0 || len(w) <= len(t.svcZone) || string(w[len(w)-len(t.svcZone):]) != string(t.svcZone) {
		return nil
	}
	// The offsets of w's labels; the Service is two labels above svc.
	var offs [wire.MaxNameLen / 2]uint8
	k := 0
	for off := 0; w[off] != 0; off += 1 + int(w[off]) {
		offs[k] = uint8(off)
		k++
	}
	svc := len(w) - len(t.svcZone)
	i := slices.Index(offs[:k], uint8(svc))
	if i < 2 || string(w[svc:]) != string(t.svcZone) {
		return nil
	}
	return w[offs[i-2]:]
}

// ServiceOf returns the Service whose group holds the dotted name name,
// when name lies at or below a Service's name.
func (t *Table) ServiceOf(name string) (GroupKey, bool) {
	w, err := wire.EncodeName(name)
	if err != nil {
		return GroupKey{}, false
	}
	key := t.serviceName(lowerWire(w))
	if key == nil {
		return GroupKey{}, false
	}
	svc, ns := key[1:1+key[0]], key[1+key[0]:]
	return GroupKey{Namespace: string(ns[1 : 1+ns[0]]), Name: string(svc)}, true
}

// find returns the segment and node of the existing name w (lowercase
// wire), or the base and noNode. A group's node with records wins over the
// base's; the base's wins over a group's empty non-terminal. Of a reverse
// name several groups hold it returns the first (resolve asks
// reverseParts for all).
func (t *Table) find(w []byte) (*segment, uint32) {
	if t.rev != nil && isReverse(w) {
		var ps [1]part
		if t.reverseParts(w, ps[:]) != 0 {
			return ps[0].seg, ps[0].n
		}
		return t.base, noNode
	}
	if g := t.groupOf(w); g != nil {
		if n := g.seg.lookup(w); n != noNode {
			if g.seg.hasRecords(n) {
				return &g.seg, n
			}
			if bn := t.base.lookup(w); bn != noNode {
				return t.base, bn
			}
			return &g.seg, n
		}
	}
	return t.base, t.base.lookup(w)
}

// part is one segment's node of a name held by several segments.
type part struct {
	seg *segment
	n   uint32
}

// reverseParts fills ps with the segments holding the reverse name w, in
// order, and returns how many; more than len(ps) returns -1.
func (t *Table) reverseParts(w []byte, ps []part) int {
	k := 0
	add := func(s *segment) bool {
		if n := s.lookup(w); n != noNode {
			if k == len(ps) {
				return false
			}
			ps[k] = part{s, n}
			k++
		}
		return true
	}
	h := t.revHash(w)
	if t.rev == nil {
		// no groups
	} else if rs := t.rev.shard(h); rs != nil {
		if id, ok := rs.get(revKey(h)); ok {
			add(&t.ids.get(id).seg)
		} else {
			for _, id := range rs.multi[revKey(h)] {
				if !add(&t.ids.get(id).seg) {
					return -1
				}
			}
		}
	}
	if !add(t.base) {
		return -1
	}
	return k
}

// passedThrough reports whether w or a name above it was left to the
// upstream, by the base or by w's group.
func (t *Table) passedThrough(w []byte) bool {
	if t.base.passedThrough(w) {
		return true
	}
	g := t.groupOf(w)
	return g != nil && g.seg.passedThrough(w)
}

// segments calls fn with every group, in the order a whole build adds
// them, then the base (whose ServiceEntries a build adds last).
func (t *Table) segments(fn func(*segment)) {
	defer fn(t.base)
	if t.groups == nil {
		return
	}
	var gs []*Group
	for _, b := range t.groups {
		if b == nil {
			continue
		}
		for _, es := range b {
			for _, e := range es {
				gs = append(gs, e.g)
			}
		}
	}
	slices.SortFunc(gs, compareGroups)
	for _, g := range gs {
		fn(&g.seg)
	}
}
