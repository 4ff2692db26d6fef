package dnsengine

import (
	"cmp"
	"encoding/binary"
	"slices"
)

// layoutScratch is what layout works in; a group builder keeps it from
// group to group (ResetGroup), so that a group's layout allocates only
// what the group keeps.
type layoutScratch struct {
	start  []uint32
	byNode []uint32      // the builder's records by node: their indexes
	kept   []buildRecord // a node's records, repeats dropped
	recs   []record      // a group's records, before their exact copy
	src    []uint32      // its provenance lists, likewise
	lists  map[string]uint32
	recent [2]srcList          // the lists found last, the latest first
	seen   map[record]struct{} // a node's records, when it has many
	key    []byte
	srcs   []uint32
}

// srcList is a provenance list of segment.src and its offset there.
type srcList struct {
	srcs []uint32
	off  uint32
}

// recentList returns the offset of srcs if it is one of the lists found
// last, making it the latest.
func (ls *layoutScratch) recentList(srcs []uint32) (uint32, bool) {
	for i := range ls.recent {
		if r := ls.recent[i]; len(r.srcs) > 0 && slices.Equal(r.srcs, srcs) {
			ls.recent[0], ls.recent[i] = r, ls.recent[0]
			return r.off, true
		}
	}
	return 0, false
}

// scanRecords is the most records of a node whose duplicates layout
// finds by a scan rather than by a map.
const scanRecords = 32

// layout sorts the builder's records to their nodes: duplicates dropped
// (the first kept), each node's records sorted by type, provenance
// computed.
func (b *TableBuilder) layout() {
	t, ls := b.t, &b.ls
	nn := len(t.nodes)
	start := append(ls.start[:0], make([]uint32, nn+1)...)
	for i := range b.recs {
		start[b.recs[i].node+1]++
	}
	for i := 1; i <= nn; i++ {
		start[i] += start[i-1]
	}
	// The records' indexes sorted by node, in the order added: a fifth
	// of the bytes of sorted copies of the records, which a whole
	// table's build would allocate anew.
	byNode := append(ls.byNode[:0], make([]uint32, len(b.recs))...)
	// pos[n], the next free place of node n, is kept in start[n+1]:
	// shifted there it starts at start[n] and, counted up past node n's
	// records, ends at start[n+1] again.
	pos := start[1:]
	copy(pos, start[:nn])
	for i, r := range b.recs {
		byNode[pos[r.node]] = uint32(i)
		pos[r.node]++
	}
	ls.start, ls.byNode = start, byNode
	if b.stop != nil {
		t.recs = ls.recs[:0] // a group's: copied exactly below
	} else {
		t.recs = make([]record, 0, len(byNode))
	}
	t.src = append(ls.src[:0], 0) // offset 0: the empty list; copied exactly below
	if ls.lists == nil {
		// A table's: about one list a Service for its own names, one
		// for its endpoints' and one for their reverse names, a node in
		// eight.
		ls.lists = make(map[string]uint32, nn/8)
	}
	lists := ls.lists
	clear(lists)
	for i := range ls.recent {
		ls.recent[i].srcs = ls.recent[i].srcs[:0]
	}
	key, srcs, kept := ls.key, ls.srcs, ls.kept
	byType := func(x, y buildRecord) int { return cmp.Compare(x.r.typ, y.r.typ) }
	for n := 0; n < nn; n++ {
		rs := byNode[start[n]:start[n+1]]
		t.nodes[n].rec = uint32(len(t.recs))
		if len(rs) == 0 {
			continue
		}
		// Drop duplicates, keeping the first: by a scan of those kept
		// for a node of a few dozen records (a Service's name with the
		// SRV records of its endpoints' ports), by a map for more.
		kept = kept[:0]
		seen := ls.seen
		if len(rs) > scanRecords {
			if seen == nil {
				seen = map[record]struct{}{}
				ls.seen = seen
			}
			clear(seen)
		}
		for _, i := range rs {
			r := b.recs[i]
			dup := false
			if len(rs) > scanRecords {
				_, dup = seen[r.r]
				seen[r.r] = struct{}{}
			} else {
				for _, k := range kept {
					if k.r == r.r {
						dup = true
						break
					}
				}
			}
			if !dup {
				kept = append(kept, r)
			}
		}
		// Provenance: the sources in the order added, each once in a row.
		srcs = srcs[:0]
		for _, r := range kept {
			if r.src != 0 && (len(srcs) == 0 || srcs[len(srcs)-1] != r.src-1) {
				srcs = append(srcs, r.src-1)
			}
		}
		if len(srcs) > 0 {
			// Nodes one after the other mostly have one of two lists
			// (an endpoint's name: its slice's and its Service's; its
			// reverse name: its slice's): those are not looked up.
			off, ok := ls.recentList(srcs)
			if !ok {
				key = key[:0]
				for _, s := range srcs {
					key = binary.LittleEndian.AppendUint32(key, s)
				}
				off, ok = lists[string(key)]
				if !ok {
					off = uint32(len(t.src))
					t.src = append(t.src, uint32(len(srcs)))
					t.src = append(t.src, srcs...)
					lists[string(key)] = off
				}
				old := ls.recent[1].srcs // its buffer reused
				ls.recent[1] = ls.recent[0]
				ls.recent[0] = srcList{srcs: append(old[:0], srcs...), off: off}
			}
			if off <= metaSrcMask {
				t.nodes[n].meta |= off
			}
		}
		// SRV glue lists a target's addresses in the order they were
		// added; when an A came after an AAAA, that order is kept aside.
		mixed, v6 := false, false
		for _, r := range kept {
			switch r.r.typ {
			case TypeAAAA:
				v6 = true
			case TypeA:
				mixed = mixed || v6
			}
		}
		var order []uint16
		if mixed {
			for _, r := range kept {
				if r.r.typ == TypeA || r.r.typ == TypeAAAA {
					order = append(order, r.r.typ)
				}
			}
		}
		if !slices.IsSortedFunc(kept, byType) {
			slices.SortStableFunc(kept, byType)
		}
		first := len(t.recs)
		for _, r := range kept {
			t.recs = append(t.recs, r.r)
		}
		if mixed {
			t.nodes[n].meta |= nodeMixed << metaFlags
			if t.more == nil {
				t.more = &segMore{}
			}
			if t.more.glueOrder == nil {
				t.more.glueOrder = map[uint32][]uint32{}
			}
			ia := uint32(first + slices.IndexFunc(kept, func(r buildRecord) bool { return r.r.typ == TypeA }))
			i6 := uint32(first + slices.IndexFunc(kept, func(r buildRecord) bool { return r.r.typ == TypeAAAA }))
			idx := make([]uint32, 0, len(order))
			for _, typ := range order {
				if typ == TypeA {
					idx = append(idx, ia)
					ia++
				} else {
					idx = append(idx, i6)
					i6++
				}
			}
			t.more.glueOrder[uint32(n)] = idx
		}
	}
	t.nodes = append(t.nodes, node{rec: uint32(len(t.recs)), parent: noNode})
	ls.key, ls.srcs, ls.kept = key, srcs, kept
	if b.stop != nil {
		b.deriveRows()
	}
	if b.stop == nil {
		b.recs = nil
	} else {
		b.recs = b.recs[:0]
	}
	// Exact sizes: append left up to half of each slice unused.
	if b.stop != nil {
		ls.recs, t.recs = t.recs, b.ownRecs(t.recs)
	}
	t.nodes, t.arena = b.ownNodes(t.nodes), b.ownBytes(t.arena)
	ls.src, t.src = t.src, b.ownWords(t.src)
}

// buildIndex hashes every existing name to its node.
func (b *TableBuilder) buildIndex() {
	t := b.t
	count := 0
	for n := range t.nodes {
		if b.flags(uint32(n))&nodeExists != 0 {
			count++
		}
	}
	// At most 7/8 full, a narrow index (two slots a word) at most 3/4:
	// it still takes less than half the bytes, and a miss, which probes
	// up to the first empty slot, probes a quarter as many. Every slot of
	// the allocation is used (it is rounded up to a size class).
	words := count + count/7 + 1
	if t.narrow() {
		words = (count + count/3 + 2) / 2
	}
	t.index = b.indexWords(words)
	for n := range t.nodes {
		// Every existing node was made by anyNode, which kept its hash.
		if b.flags(uint32(n))&nodeExists != 0 {
			if t.narrow() {
				placeNarrow(t.index, b.hashes[n], uint32(n))
			} else {
				placeSlot(t.index, b.hashes[n], uint32(n))
			}
		}
	}
}

// glueRecords calls fn with each A and AAAA record of node n in the order
// they were added, until fn returns false.
func (t *segment) glueRecords(n uint32, fn func(*record) bool) {
	if t.flags(n)&nodeMixed != 0 {
		for _, i := range t.more.glueOrder[n] {
			if !fn(&t.recs[i]) {
				return
			}
		}
		return
	}
	rs := t.nodeRecords(n) // not a row's (glue asks rowAddr)
	for i := range rs {
		if rs[i].typ == TypeA || rs[i].typ == TypeAAAA {
			if !fn(&rs[i]) {
				return
			}
		}
	}
}
