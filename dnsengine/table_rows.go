package dnsengine

import (
	"bytes"
	"encoding/binary"
	"iter"
	"net/netip"

	"github.com/meshdns/meshdns/dnsengine/wire"
)

// Most names of a group are its endpoints': an endpoint without a
// hostname is named by its address dashed (10-128-0-7.<svc>), holds that
// address and one SRV record per port pointing at itself, and its address's
// reverse name holds a PTR record pointing back. As nodes and records that
// is two names, four records and their index slots, about 100 bytes an
// endpoint. A group holds such an endpoint as a row instead (16 bytes): its
// address, its ports, and the provenance and flags of its two names. The
// names and records are derived when asked:
//
//   - a row's names are virtual nodes numbered after the segment's nodes:
//     rowNode(i) is the dashed name of row i, rowNode(i)+1 its reverse
//     name. Records point at them as at any node, and the segment's
//     accessors (flags, records, putName, nameLen, lookup) answer for them;
//   - lookup finds a row by the address in the name: the dashed label
//     parsed, or the reverse name, then a binary search of the rows, which
//     are sorted by address; the name must be the address's own form;
//   - a group with rows has its Service's name as node 0: the parent of
//     every dashed name.
//
// Only the group builder makes rows (deriveRows), and only of names whose
// derived records are exactly those the builder laid out: anything else
// (a hostname, a name with children, records of other kinds, two weights,
// a reverse name with other records) stays nodes and records.

// epRow is an endpoint whose names are derived. See the comment above.
type epRow struct {
	addr  uint32 // IPv4: the address, big-endian; IPv6 (rowV6): arena offset of its 16 bytes
	ports uint32 // arena offset of its SRV set: weight (2 bytes), count (1), then each port (2 bytes)
	meta  uint32 // its dashed name's node.meta: flags and provenance
	rmeta uint32 // its reverse name's node.meta; 0: no reverse name (no PTR record)
}

const (
	// rowV6 flags a row's meta whose address is IPv6 (a flag bit nodes
	// do not use).
	rowV6 = 1 << 7
	// rowMaxRecs bounds the records of a row's dashed name: its address
	// and up to rowMaxRecs-1 SRV records. Answers derive them into a
	// buffer of this size (rowRecs).
	rowMaxRecs = 16
)

// rowRecs is room for the records of a row's name.
type rowRecs [rowMaxRecs]record

// rowNode returns the virtual node of the dashed name of row i.
func (t *segment) rowNode(i int) uint32 { return uint32(len(t.nodes) + 2*i) }

// isRow reports whether node n (not noNode) is a row's name.
func (t *segment) isRow(n uint32) bool { return n >= uint32(len(t.nodes)) }

// rowNames returns the virtual nodes of row i's names: its dashed name,
// then its reverse name when it has one (k of them).
func (t *segment) rowNames(i int) (ns [2]uint32, k int) {
	n := t.rowNode(i)
	if t.rows[i].rmeta == 0 {
		return [2]uint32{n}, 1
	}
	return [2]uint32{n, n + 1}, 2
}

// allNodes yields every node of the segment, the rows' names after the
// others (debug output and tests).
func (t *segment) allNodes() iter.Seq[uint32] {
	return func(yield func(uint32) bool) {
		for n := 0; n+1 < len(t.nodes); n++ {
			if !yield(uint32(n)) {
				return
			}
		}
		for i := range t.rows {
			ns, k := t.rowNames(i)
			for _, n := range ns[:k] {
				if !yield(n) {
					return
				}
			}
		}
	}
}

// row returns the row of the virtual node n and whether n is its reverse
// name.
func (t *segment) row(n uint32) (*epRow, bool) {
	i := n - uint32(len(t.nodes))
	return &t.rows[i>>1], i&1 != 0
}

// rowMeta returns the node.meta of the virtual node n.
func (t *segment) rowMeta(n uint32) uint32 {
	r, rev := t.row(n)
	if rev {
		return r.rmeta
	}
	return r.meta
}

// rowAddr returns the address record of row r.
func rowAddr(r *epRow) record {
	if r.meta>>metaFlags&rowV6 != 0 {
		return record{typ: TypeAAAA, data: r.addr}
	}
	return record{typ: TypeA, data: r.addr}
}

// rowIP returns the address of row r.
func (t *segment) rowIP(r *epRow) netip.Addr {
	if r.meta>>metaFlags&rowV6 != 0 {
		return netip.AddrFrom16([16]byte(t.arena[r.addr : r.addr+16]))
	}
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], r.addr)
	return netip.AddrFrom4(a)
}

// rowRecords derives the records of the virtual node n into buf (a
// rowRecs's, or nil to allocate), sorted as the builder sorts a node's.
func (t *segment) rowRecords(n uint32, buf []record) []record {
	r, rev := t.row(n)
	buf = buf[:0]
	if rev {
		return append(buf, record{typ: TypePTR, data: n - 1})
	}
	buf = append(buf, rowAddr(r))
	p := t.arena[r.ports:]
	w, k := binary.BigEndian.Uint16(p), int(p[2])
	for j := range k {
		buf = append(buf, record{typ: TypeSRV, b: w, c: binary.BigEndian.Uint16(p[3+2*j:]), data: n})
	}
	return buf
}

// rowName writes the wire name of the virtual node n into buf and returns
// it.
func (t *segment) rowName(buf *[wire.MaxNameLen]byte, n uint32) []byte {
	r, rev := t.row(n)
	ip := t.rowIP(r)
	if rev {
		return appendReverseName(buf[:0], ip)
	}
	w := AppendDashed(buf[:1], ip)
	buf[0] = byte(len(w) - 1)
	l := len(w)
	return buf[:l+t.putNodeName(buf[l:], 0)]
}

// lookupRow returns the virtual node of the lowercase wire name w, or
// noNode.
func (t *segment) lookupRow(w []byte) uint32 {
	var a [16]byte
	var l int
	var ok bool
	rev := isReverse(w)
	var label []byte
	if rev {
		l, ok = parseReverseName(w, &a)
	} else {
		if w[0] == 0 || !t.nameEqual(0, w[1+int(w[0]):]) {
			return noNode
		}
		label = w[1 : 1+int(w[0])]
		l, ok = parseDashedAddr(label, &a)
	}
	if !ok {
		return noNode
	}
	i, found := t.searchRows(a[:l])
	if !found {
		return noNode
	}
	n := t.rowNode(i)
	if rev {
		if t.rows[i].rmeta == 0 {
			return noNode
		}
		return n + 1
	}
	// Only the address's own form. An IPv4 label that parses is one
	// (parseDashed4 takes no leading zero); an IPv6 one may write zeros
	// or "--" elsewhere.
	if l == 16 {
		var buf [wire.MaxNameLen]byte
		if string(AppendDashed(buf[:0], t.rowIP(&t.rows[i]))) != string(label) {
			return noNode
		}
	}
	return n
}

// searchRows returns the row of address a (4 or 16 bytes) and whether
// there is one, else where it would go.
func (t *segment) searchRows(a []byte) (int, bool) {
	lo, hi := 0, len(t.rows)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.compareRow(&t.rows[m], a) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(t.rows) && t.compareRow(&t.rows[lo], a) == 0
}

// rowBytes returns the address of row r: an IPv4 one written into a.
func (t *segment) rowBytes(r *epRow, a *[4]byte) []byte {
	if r.meta>>metaFlags&rowV6 != 0 {
		return t.arena[r.addr : r.addr+16]
	}
	binary.BigEndian.PutUint32(a[:], r.addr)
	return a[:]
}

// compareRow orders rows by address, IPv4 before IPv6.
func (t *segment) compareRow(r *epRow, a []byte) int {
	v6 := r.meta>>metaFlags&rowV6 != 0
	switch {
	case !v6 && len(a) == 16:
		return -1
	case v6 && len(a) == 4:
		return 1
	case v6:
		return bytes.Compare(t.arena[r.addr:r.addr+16], a)
	}
	x, y := r.addr, binary.BigEndian.Uint32(a)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// parseReverseName parses the lowercase wire reverse name w into out,
// returning the address's length (4 or 16). Only the name
// appendReverseName writes for that address is accepted: decimal octets
// without leading zeros, lowercase nibbles, no IPv4-mapped address under
// ip6.arpa (FuzzParseReverseName).
func parseReverseName(w []byte, out *[16]byte) (int, bool) {
	const v4, v6 = "\x07in-addr\x04arpa\x00", "\x03ip6\x04arpa\x00"
	if len(w) > len(v4) && string(w[len(w)-len(v4):]) == v4 {
		p := w
		for i := 3; i >= 0; i-- {
			l := int(p[0])
			if l == 0 || l > 3 || l > 1 && p[1] == '0' {
				return 0, false
			}
			v := 0
			for _, c := range p[1 : 1+l] {
				if c < '0' || c > '9' {
					return 0, false
				}
				v = v*10 + int(c-'0')
			}
			if v > 255 {
				return 0, false
			}
			out[i] = byte(v)
			p = p[1+l:]
		}
		return 4, string(p) == v4
	}
	if len(w) != 64+len(v6) || string(w[64:]) != v6 {
		return 0, false
	}
	for i := 15; i >= 0; i-- {
		p := w[4*(15-i):]
		lo, hi := nibble(p[1]), nibble(p[3])
		if p[0] != 1 || p[2] != 1 || lo < 0 || hi < 0 {
			return 0, false
		}
		out[i] = byte(hi<<4 | lo)
	}
	// appendReverseName writes an IPv4-mapped address under in-addr.arpa.
	return 16, !netip.AddrFrom16(*out).Is4In6()
}

// nibble returns the value of the lowercase hex digit c, or -1.
func nibble(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}
