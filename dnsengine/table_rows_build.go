package dnsengine

import (
	"encoding/binary"
	"net/netip"
	"slices"
)

// rowScratch is what deriveRows works in; a group builder keeps it from
// group to group.
type rowScratch struct {
	child  []bool   // by node: some node's parent
	newID  []uint32 // by node: its number after deriveRows, or a row's virtual node, or dropped
	order  []uint32 // the nodes kept, in their new order
	cands  []rowCand
	nodes  []node
	recs   []record
	hashes []uint64
	ports  []byte
	dashed []byte
	rows   []epRow
	remap  []uint32 // by old arena offset: new offset + 1
	// lastPorts: arena offset + 1 of the SRV set of the row found last
	// (0: none yet in this group).
	lastPorts uint32
	arena     []byte
}

// rowCand is a row found and the nodes of its two names.
type rowCand struct {
	row  epRow
	d, r uint32 // the dashed name's node; the reverse name's, or noNode
}

// dropped marks a node deriveRows lets go in rowScratch.newID.
const dropped = noNode

// deriveRows turns the endpoints of a group's laid out segment whose
// names can be derived into rows (table_rows.go), and drops their nodes
// and records, and the nodes nothing needs any longer (the parents their
// reverse names had). It runs between layout's sort and its exact copies,
// on the builder's arrays.
func (b *TableBuilder) deriveRows() {
	t, rs := b.t, &b.rows
	if t.more != nil && (t.more.wild != nil || t.more.pass != nil) {
		return // wildcards or pass-through names: not a plain group
	}
	svc, ok := b.find(b.stop)
	if !ok {
		return
	}
	nn := len(t.nodes) - 1 // without the sentinel
	child := append(rs.child[:0], make([]bool, nn)...)
	for n := range nn {
		if p := t.nodes[n].parent; p != noNode {
			child[p] = true
		}
	}
	rs.child = child
	cands := rs.cands[:0]
	rs.lastPorts = 0
	for n := range uint32(nn) {
		if t.nodes[n].parent == svc && !child[n] {
			if c, ok := b.rowOf(n); ok {
				cands = append(cands, c)
			}
		}
	}
	rs.cands = cands
	if len(cands) == 0 {
		return
	}
	slices.SortFunc(cands, func(x, y rowCand) int {
		var a [4]byte
		return -t.compareRow(&y.row, t.rowBytes(&x.row, &a))
	})
	// The nodes kept: those with records or that exist, but a row's, the
	// Service's name, then the targets of their records, then the
	// parents of all of them.
	newID := append(rs.newID[:0], make([]uint32, nn)...)
	for i := range newID {
		newID[i] = dropped
	}
	rs.newID = newID
	const keep = 0
	for _, c := range cands {
		newID[c.d] = 1
		if c.r != noNode {
			newID[c.r] = 1
		}
	}
	isRowNode := func(n uint32) bool { return newID[n] == 1 }
	mark := func(n uint32) {
		for ; n != noNode && newID[n] == dropped; n = t.nodes[n].parent {
			newID[n] = keep
		}
	}
	mark(svc)
	for n := range uint32(nn) {
		if isRowNode(n) {
			continue
		}
		if t.nodes[n].meta>>metaFlags&nodeExists != 0 || t.nodes[n].rec != t.nodes[n+1].rec {
			mark(n)
		}
	}
	for n := range uint32(nn) {
		if newID[n] != keep {
			continue
		}
		for _, r := range t.recs[t.nodes[n].rec:t.nodes[n+1].rec] {
			if namesNode(r.typ) && !isRowNode(r.data) {
				mark(r.data)
			}
		}
	}
	// New numbers: the Service's name first, then the others in order;
	// the rows' names after the sentinel.
	order := append(rs.order[:0], svc)
	for n := range uint32(nn) {
		if newID[n] == keep && n != svc {
			order = append(order, n)
		}
	}
	rs.order = order
	for i, n := range order {
		newID[n] = uint32(i)
	}
	base := uint32(len(order) + 1)
	for i, c := range cands {
		newID[c.d] = base + 2*uint32(i)
		if c.r != noNode {
			newID[c.r] = base + 2*uint32(i) + 1
		}
	}
	nodes, recs, hashes := rs.nodes[:0], rs.recs[:0], rs.hashes[:0]
	var glue map[uint32][]uint32
	for _, n := range order {
		nd := t.nodes[n]
		if nd.parent != noNode {
			nd.parent = newID[nd.parent]
		}
		from := nd.rec
		nd.rec = uint32(len(recs))
		if t.more != nil {
			// A name whose A and AAAA records were not added all A
			// first (nodeMixed, never a row's) lists them by index.
			if idx, ok := t.more.glueOrder[n]; ok {
				if glue == nil {
					glue = map[uint32][]uint32{}
				}
				for i := range idx {
					idx[i] += nd.rec - from
				}
				glue[uint32(len(nodes))] = idx
			}
		}
		for _, r := range t.recs[from:t.nodes[n+1].rec] {
			if namesNode(r.typ) {
				r.data = newID[r.data]
			}
			recs = append(recs, r)
		}
		nodes = append(nodes, nd)
		hashes = append(hashes, b.hashes[n])
	}
	nodes = append(nodes, node{rec: uint32(len(recs)), parent: noNode})
	rows := rs.rows[:0]
	for _, c := range cands {
		rows = append(rows, c.row)
	}
	rs.rows = rows
	// The new arrays replace the builder's. The nodes' are the
	// builder's own (TableBuilder.keepNodes): the new ones stay this
	// scratch's. The records' and hashes' buffers swap.
	rs.nodes, t.nodes = nodes, nodes
	rs.recs, t.recs = t.recs, recs
	rs.hashes, b.hashes = b.hashes, hashes
	t.rows = b.ownRows(rows)
	if t.more != nil {
		t.more.glueOrder = glue
	}
	b.compactArena()
}

// compactArena copies into a new arena only what the segment's nodes,
// records, rows and provenance lists still refer to (the rows' labels
// and reverse names' are gone), and points them there. Like the nodes',
// the new arena is this scratch's: the builder's own is
// TableBuilder.keepArena.
func (b *TableBuilder) compactArena() {
	t, rs := b.t, &b.rows
	old := t.arena
	remap := append(rs.remap[:0], make([]uint32, len(old))...)
	arena := rs.arena[:0]
	// move returns the new offset of the n bytes at off.
	move := func(off, n uint32) uint32 {
		if m := remap[off]; m != 0 {
			return m - 1
		}
		at := uint32(len(arena))
		arena = append(arena, old[off:off+n]...)
		remap[off] = at + 1
		return at
	}
	for i := range t.nodes[:len(t.nodes)-1] {
		nd := &t.nodes[i]
		nd.label = move(nd.label, 1+uint32(old[nd.label]))
	}
	for i := range t.recs {
		switch r := &t.recs[i]; r.typ {
		case TypeAAAA:
			r.data = move(r.data, 16)
		case TypeTXT:
			r.data = move(r.data, uint32(r.a))
		}
	}
	for i := range t.rows {
		r := &t.rows[i]
		if r.meta>>metaFlags&rowV6 != 0 {
			r.addr = move(r.addr, 16)
		}
		r.ports = move(r.ports, 3+2*uint32(old[r.ports+2]))
	}
	for i := 0; i < len(t.src); {
		c := int(t.src[i])
		for j := i + 1; j <= i+c; j++ {
			off := t.src[j]
			t.src[j] = move(off, 2+uint32(binary.BigEndian.Uint16(old[off:])))
		}
		i += 1 + c
	}
	rs.remap, rs.arena, t.arena = remap, arena, arena
}

// namesNode reports whether the data of a record of type typ is a node.
func namesNode(typ uint16) bool {
	switch typ {
	case TypeCNAME, TypeNS, TypePTR, TypeSRV:
		return true
	}
	return false
}

// rowOf returns the row of node n, a name just below the group's Service
// without children, if its records are exactly what a row derives: one
// address, whose dashed form is its label, then SRV records of priority 0
// and one weight pointing at itself; and if the reverse name of its
// address exists, it holds only a PTR record pointing at n.
func (b *TableBuilder) rowOf(n uint32) (rowCand, bool) {
	t := b.t
	nd := t.nodes[n]
	f := nd.meta >> metaFlags
	if f&nodeExists == 0 || f&(nodeCNAME|nodeWild|nodeMixed) != 0 {
		return rowCand{}, false
	}
	rs := t.recs[nd.rec:t.nodes[n+1].rec]
	if len(rs) == 0 || len(rs) > rowMaxRecs {
		return rowCand{}, false
	}
	var ip netip.Addr
	c := rowCand{row: epRow{meta: nd.meta}, d: n, r: noNode}
	switch a := rs[0]; a.typ {
	case TypeA:
		var x [4]byte
		binary.BigEndian.PutUint32(x[:], a.data)
		ip = netip.AddrFrom4(x)
		c.row.addr = a.data
	case TypeAAAA:
		ip = netip.AddrFrom16([16]byte(t.arena[a.data : a.data+16]))
		if ip.Is4In6() {
			return rowCand{}, false
		}
		c.row.addr = a.data
		c.row.meta |= rowV6 << metaFlags
	default:
		return rowCand{}, false
	}
	ports := append(b.rows.ports[:0], 0, 0, byte(len(rs)-1))
	for i, r := range rs[1:] {
		if r.typ != TypeSRV || r.a != 0 || r.b != rs[1].b || r.data != n {
			return rowCand{}, false
		}
		if i == 0 {
			binary.BigEndian.PutUint16(ports, r.b)
		}
		ports = binary.BigEndian.AppendUint16(ports, r.c)
	}
	b.rows.ports = ports
	label := t.arena[nd.label+1 : nd.label+1+uint32(t.arena[nd.label])]
	dashed := AppendDashed(b.rows.dashed[:0], ip)
	b.rows.dashed = dashed
	var back [16]byte
	if string(label) != string(dashed) {
		return rowCand{}, false
	}
	if l, ok := parseDashedAddr(label, &back); !ok || string(back[:l]) != string(ip.AsSlice()) {
		return rowCand{}, false
	}
	w := appendReverseName(b.rbuf[:0], ip)
	b.rbuf = w[:0]
	if rn, ok := b.find(w); ok {
		rd := t.nodes[rn]
		rrs := t.recs[rd.rec:t.nodes[rn+1].rec]
		if b.rows.child[rn] || rd.meta>>metaFlags&(nodeCNAME|nodeWild|nodeMixed) != 0 ||
			len(rrs) != 1 || rrs[0].typ != TypePTR || rrs[0].data != n {
			// Another's reverse name too: it stays a node, its PTR
			// pointing at the row's name.
		} else {
			c.r, c.row.rmeta = rn, rd.meta
		}
	}
	// A group's endpoints mostly share their ports: the SRV set of the
	// row before is used again, without the blob map.
	if rs := &b.rows; rs.lastPorts == 0 || !samePorts(t.arena[rs.lastPorts-1:], ports) {
		rs.lastPorts = uint32(len(t.arena)) + 1
		t.arena = append(t.arena, ports...)
	}
	c.row.ports = b.rows.lastPorts - 1
	return c, true
}

// samePorts reports whether the SRV set at the start of a is ports.
func samePorts(a, ports []byte) bool {
	n := 3 + 2*int(a[2])
	return n == len(ports) && string(a[:n]) == string(ports)
}
