package dnsengine

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math/bits"
	"net/netip"

	"github.com/meshdns/meshdns/dnsengine/wire"
)

// DNS types and classes the engine writes or recognises.
const (
	TypeA     = wire.TypeA
	TypeNS    = wire.TypeNS
	TypeCNAME = wire.TypeCNAME
	TypeSOA   = wire.TypeSOA
	TypePTR   = wire.TypePTR
	TypeTXT   = wire.TypeTXT
	TypeAAAA  = wire.TypeAAAA
	TypeSRV   = wire.TypeSRV
	TypeOPT   = wire.TypeOPT
	TypeANY   = wire.TypeANY
	ClassINET = wire.ClassINET
)

// The table is a few flat slices without pointers, so a cluster of 100,000
// endpoints costs the garbage collector nothing to scan and about a hundred
// bytes per endpoint to hold:
//
//   - nodes: one per name. A name is its first label (in the arena) and the
//     node of the rest of the name, so a suffix shared by many names (a
//     Service's FQDN, a /24 of reverse names) is held once. Names that are
//     only suffixes or record targets are nodes too, without nodeExists.
//     A node without a parent is a full node: its arena bytes are the
//     length of its wire name, then the whole name. The root is one ("\x01\x00");
//     a group (table_groups.go) makes its Service's name and its reverse
//     names' shared parents full nodes rather than chains of suffix nodes
//     it would hold for itself alone.
//   - recs: the records of node i are recs[nodes[i].rec:nodes[i+1].rec],
//     sorted by type (insertion order within a type). A record holds its
//     rdata in 12 bytes: an IPv4 address inline, an IPv6 address or TXT
//     string as an arena offset, a name as the node of that name. Answers
//     write the wire form into the caller's buffer when asked.
//   - index: open addressing from the hash of a lowercase wire name to its
//     node, for the names that exist.
//   - rows (a group's only): its endpoints named by their dashed address,
//     16 bytes each instead of two nodes and four records; their names and
//     records are derived when asked, as virtual nodes numbered after the
//     others (table_rows.go).

// noNode marks the absence of a node (the parent of the root).
const noNode = ^uint32(0)

// Node flags, in the top byte of node.meta.
const (
	nodeExists  = 1 << 0 // a name of the table (records or an empty non-terminal)
	nodeInZone  = 1 << 1 // under one of the authoritative zones
	nodeCNAME   = 1 << 2 // holds a CNAME (ExternalName): answer it for any type
	nodeHosts   = 1 << 3 // holds A or AAAA records
	nodeMixed   = 1 << 4 // its A and AAAA records were not added all A first: see segMore.glueOrder
	nodeWild    = 1 << 5 // a wildcard "*.suffix" (found through segMore.wild, not the index)
	nodeHasRecs = 1 << 6 // build time: holds a record
	metaFlags   = 24     // shift of the flags in node.meta
	metaSrcMask = 1<<metaFlags - 1
)

// node is one name. See the comment above.
type node struct {
	label  uint32 // arena offset of the first label (its length byte, then its bytes); of a full node, its name's length, then the name
	parent uint32 // the name without its first label; noNode for a full node
	rec    uint32 // first record
	meta   uint32 // flags<<metaFlags | offset of the source list in segment.src
}

// record is one resource record. See the comment above.
type record struct {
	typ uint16
	// a, b, c: SRV priority, weight and port; a: the TXT rdata length.
	a, b, c uint16
	// data: A: the address, big-endian; AAAA, TXT: an arena offset;
	// CNAME, NS, PTR, SRV: the node of the target name.
	data uint32
}

// zone is one authoritative zone of a table.
type zone struct {
	name   []byte // lowercase wire name of the apex
	soaPfx []byte // SOA rdata up to and including the serial: mname, rname, serial
}

// segment is one immutable part of a table: a flat name space (the slices
// above) built by one TableBuilder. A table built from scratch is one
// segment; a table that follows changes (table_groups.go) is a base
// segment plus one segment per Kubernetes Service. A table of 10,000
// Services holds 10,000 segments, so the header is kept small: what few
// segments have is behind more, and the counts are computed when asked
// (count).
type segment struct {
	arena []byte // labels, full names, AAAA and TXT rdata, provenance strings
	nodes []node // plus a sentinel whose rec ends the last node's records
	recs  []record
	index []uint32 // node+1 per slot, 0 for empty; at most 7/8 full
	// src holds the provenance lists, for debug output: at each offset a
	// count, then the arena offsets of that many provenance strings (each
	// a 2-byte big-endian length, then its bytes). Offset 0 is the empty
	// list.
	src  []uint32
	rows []epRow // a group's endpoints whose names are derived (table_rows.go)
	seed maphash.Seed
	more *segMore // nil: no wildcards, pass-through names or glue order
}

// segMore is what few segments hold: a group has none of it, unless its
// Service left its names to the upstream.
type segMore struct {
	wild map[string]uint32 // lowercase wire suffix of "*.suffix" -> node
	pass map[string]bool   // names (and everything below) left to the upstream
	// glueOrder lists the A and AAAA records of the nodes flagged
	// nodeMixed in the order they were added, which SRV glue follows.
	glueOrder map[uint32][]uint32
}

// Table is an immutable snapshot of the names the mesh owns. Build one
// with a TableBuilder, derive changed ones with Update; share it freely
// between goroutines.
type Table struct {
	base    *segment
	zones   []zone // the base's zones, their SOA carrying serial
	serial  uint32
	apexes  []string // the base's part of Apexes
	podZone []byte   // wire "pod.<cluster domain>", nil without a cluster zone
	svcZone []byte   // wire "svc.<cluster domain>", nil without a cluster domain
	seed    maphash.Seed
	groups  *groupIndex // nil: no groups
	rev     *revIndex
	ids     groupIDs // the group of each Service id rev holds
	free    []uint32 // ids below nid of no Service, for the next new ones
	nid     uint32   // ids handed out so far
	// hashClear: bits cleared from the hashes of reverse names and of
	// Services' names, 0 but in tests, which make distinct names share
	// shards, keys and hashes (revHash, groupHash).
	hashClear uint64
	ngroups   int
	revDup    int // reverse names counted once per extra group holding them
	stats     segStats
}

// Stats returns the counts of the table.
func (t *Table) Stats() TableStats {
	st := TableStats{Names: int(t.stats.names) - t.revDup, Records: int(t.stats.records), Wildcards: t.base.wildcards(), ByType: map[string]int{}}
	for i, c := range t.stats.byType {
		if c != 0 {
			st.ByType[typeString(statTypes[i])] = int(c)
		}
	}
	return st
}

// Serial returns the SOA serial of the table's zones.
func (t *Table) Serial() uint32 { return t.serial }

// Groups returns the number of Service groups of the table.
func (t *Table) Groups() int { return t.ngroups }

// segStats counts what a segment holds, without a map.
type segStats struct {
	names, records int32
	byType         [len(statTypes)]int32
}

// statTypes are the types TableStats counts one by one.
// The builder writes no other type.
var statTypes = [...]uint16{TypeA, TypeAAAA, TypeCNAME, TypeNS, TypePTR, TypeSRV, TypeTXT}

// statIndex returns the index of typ in statTypes, or -1.
func statIndex(typ uint16) int {
	for i, t := range statTypes {
		if t == typ {
			return i
		}
	}
	return -1
}

// add adds the counts of o, times sign (1 or -1).
func (s *segStats) add(o *segStats, sign int32) {
	s.names += sign * o.names
	s.records += sign * o.records
	for i := range s.byType {
		s.byType[i] += sign * o.byType[i]
	}
}

// count returns the counts of the segment: the names with records, the
// records and the records of each type of statTypes. A table keeps the
// sum of its segments' counts; a segment does not keep its own (a group's
// few records are counted again when an update adds or drops it).
func (t *segment) count() segStats {
	var st segStats
	for n := 0; n+1 < len(t.nodes); n++ {
		if t.nodes[n].rec != t.nodes[n+1].rec {
			st.names++
		}
	}
	st.records = int32(len(t.recs))
	for i := range t.recs {
		if k := statIndex(t.recs[i].typ); k >= 0 {
			st.byType[k]++
		}
	}
	var buf rowRecs
	for i := range t.rows {
		ns, k := t.rowNames(i)
		for _, n := range ns[:k] {
			st.names++
			for _, r := range t.rowRecords(n, buf[:]) {
				st.records++
				st.byType[statIndex(r.typ)]++
			}
		}
	}
	return st
}

// wildcards returns the number of wildcard names of the segment.
func (t *segment) wildcards() int {
	if t.more == nil {
		return 0
	}
	return len(t.more.wild)
}

// TableStats counts what a table holds, for metrics and logs.
type TableStats struct {
	Names     int // owner names with records (not counting empty non-terminals)
	Records   int
	Wildcards int
	ByType    map[string]int
}

func (t *segment) flags(n uint32) uint32 { return t.meta(n) >> metaFlags }

// meta returns the node.meta of node n, a row's name's too.
func (t *segment) meta(n uint32) uint32 {
	if t.isRow(n) {
		return t.rowMeta(n)
	}
	return t.nodes[n].meta
}

// records returns the records of node n. Those of a row's name are
// derived into buf (a rowRecs's; nil: a new one), which the result then
// shares.
func (t *segment) records(n uint32, buf []record) []record {
	if t.isRow(n) {
		return t.rowRecords(n, buf)
	}
	return t.nodeRecords(n)
}

// nodeRecords is records for a node of t.nodes, the packet path's: short
// enough to be inlined.
func (t *segment) nodeRecords(n uint32) []record { return t.recs[t.nodes[n].rec:t.nodes[n+1].rec] }

// hasRecords reports whether node n holds records.
func (t *segment) hasRecords(n uint32) bool {
	return t.isRow(n) || t.nodes[n].rec != t.nodes[n+1].rec
}

// typeRange returns the run of records of type typ of node n; buf as for
// records.
func (t *segment) typeRange(n uint32, typ uint16, buf []record) []record {
	return typeRun(t.records(n, buf), typ)
}

// typeRun returns the run of records of type typ in rs, which is sorted
// by type, or nil.
func typeRun(rs []record, typ uint16) []record {
	lo, hi := typeBounds(rs, typ)
	if lo == hi {
		return nil
	}
	return rs[lo:hi]
}

// typeBounds returns the bounds of the run of records of type typ in rs,
// which is sorted by type; lo == hi when there is none.
func typeBounds(rs []record, typ uint16) (lo, hi int) {
	lo = -1
	for i := range rs {
		if rs[i].typ == typ {
			if lo < 0 {
				lo = i
			}
		} else if lo >= 0 {
			return lo, i
		}
	}
	if lo < 0 {
		return 0, 0
	}
	return lo, len(rs)
}

// lookup returns the node of the existing name w (lowercase wire), or noNode.
// The index holds the names of t.nodes; one it misses may be a row's
// (missed).
func (t *segment) lookup(w []byte) uint32 {
	if len(t.index) == 0 {
		return t.missed(w)
	}
	h := maphash.Bytes(t.seed, w)
	if t.narrow() {
		return t.lookupNarrow(h, w)
	}
	for i := slotOf(h, len(t.index)); ; i++ {
		if i == len(t.index) {
			i = 0
		}
		s := t.index[i]
		if s == 0 {
			return t.missed(w)
		}
		if t.nameEqual(s-1, w) {
			return s - 1
		}
	}
}

// missed returns the node of w, which the index does not hold: a row's
// name, or noNode.
func (t *segment) missed(w []byte) uint32 {
	if len(t.rows) == 0 {
		return noNode
	}
	return t.lookupRow(w)
}

// narrow reports whether the segment's index packs two slots in a word:
// with fewer than 1<<16 nodes (a group, a small table) node+1 fits in 16
// bits, and a group's index takes half the bytes.
func (t *segment) narrow() bool { return len(t.nodes) < 1<<16 }

// lookupNarrow is lookup in a narrow index, for w whose hash is h. Slot i
// is the low half of word i/2 when i is even, the high half when odd.
func (t *segment) lookupNarrow(h uint64, w []byte) uint32 {
	n := uint(2 * len(t.index))
	for i := uint(slotOf(h, int(n))); ; i++ {
		if i == n {
			i = 0
		}
		s := t.index[i>>1] >> (i & 1 * 16) & 0xffff
		if s == 0 {
			return t.missed(w)
		}
		if t.nameEqual(s-1, w) {
			return s - 1
		}
	}
}

// slotOf maps a hash onto a table of n slots (Lemire's multiply-shift: any
// length).
func slotOf(h uint64, n int) int {
	hi, _ := bits.Mul64(h, uint64(n))
	return int(hi)
}

// placeSlot puts node n, whose name hashes to h, in the first free slot
// from its own.
func placeSlot(slots []uint32, h uint64, n uint32) {
	i := slotOf(h, len(slots))
	for slots[i] != 0 {
		if i++; i == len(slots) {
			i = 0
		}
	}
	slots[i] = n + 1
}

// placeNarrow is placeSlot for a narrow index (segment.narrow): slots
// two to a word.
func placeNarrow(words []uint32, h uint64, n uint32) {
	i := slotOf(h, 2*len(words))
	for words[i/2]>>(uint(i)%2*16)&0xffff != 0 {
		if i++; i == 2*len(words) {
			i = 0
		}
	}
	words[i/2] |= (n + 1) << (uint(i) % 2 * 16)
}

// nameEqual reports whether node n is the lowercase wire name w.
func (t *segment) nameEqual(n uint32, w []byte) bool {
	for {
		nd := t.nodes[n]
		lab := t.arena[nd.label:]
		l := 1 + int(lab[0])
		if nd.parent == noNode {
			// A full node: the rest of w is its name.
			return string(w) == string(lab[1:l])
		}
		if len(w) < l || w[0] != lab[0] || string(w[1:l]) != string(lab[1:l]) {
			return false
		}
		w = w[l:]
		n = nd.parent
	}
}

// nameLen returns the length of the wire name of node n.
func (t *segment) nameLen(n uint32) int {
	if t.isRow(n) {
		var buf [wire.MaxNameLen]byte
		return len(t.rowName(&buf, n))
	}
	l := 0
	for {
		nd := &t.nodes[n]
		if nd.parent == noNode {
			return l + int(t.arena[nd.label])
		}
		l += 1 + int(t.arena[nd.label])
		n = nd.parent
	}
}

// putName writes the wire name of node n at the start of dst, which must
// have room for nameLen(n) bytes, and returns its length.
func (t *segment) putName(dst []byte, n uint32) int {
	if t.isRow(n) {
		var buf [wire.MaxNameLen]byte
		return copy(dst, t.rowName(&buf, n))
	}
	return t.putNodeName(dst, n)
}

// putNodeName is putName for a node of t.nodes.
func (t *segment) putNodeName(dst []byte, n uint32) int {
	off := 0
	for {
		nd := &t.nodes[n]
		lab := t.arena[nd.label:]
		if nd.parent == noNode {
			return off + copy(dst[off:], lab[1:1+int(lab[0])])
		}
		off += copy(dst[off:], lab[:1+int(lab[0])])
		n = nd.parent
	}
}

// rdataLen returns the length of the rdata of r.
func (t *segment) rdataLen(r *record) int {
	switch r.typ {
	case TypeA:
		return 4
	case TypeAAAA:
		return 16
	case TypeTXT:
		return int(r.a)
	case TypeSRV:
		return 6 + t.nameLen(r.data)
	}
	return t.nameLen(r.data)
}

// putRdata writes the rdata of r at the start of dst, which has room for
// rdataLen(r) bytes.
func (t *segment) putRdata(dst []byte, r *record) {
	switch r.typ {
	case TypeA:
		binary.BigEndian.PutUint32(dst, r.data)
	case TypeAAAA:
		copy(dst, t.arena[r.data:r.data+16])
	case TypeTXT:
		copy(dst, t.arena[r.data:r.data+uint32(r.a)])
	case TypeSRV:
		binary.BigEndian.PutUint16(dst[0:], r.a)
		binary.BigEndian.PutUint16(dst[2:], r.b)
		binary.BigEndian.PutUint16(dst[4:], r.c)
		t.putName(dst[6:], r.data)
	default:
		t.putName(dst, r.data)
	}
}

// rdata returns the rdata of r in a new slice (debug output and tests).
func (t *segment) rdata(r *record) []byte {
	b := make([]byte, t.rdataLen(r))
	t.putRdata(b, r)
	return b
}

// zoneOf returns the authoritative zone that holds w, or nil.
func (t *Table) zoneOf(w []byte) *zone {
	for i := range t.zones {
		if isSubdomain(w, t.zones[i].name) {
			return &t.zones[i]
		}
	}
	return nil
}

// passedThrough reports whether w or a name above it was left to the
// upstream with AddPassThrough.
func (t *segment) passedThrough(w []byte) bool {
	if t.more == nil || len(t.more.pass) == 0 {
		return false
	}
	for p := w; p != nil; p = parentName(p) {
		if t.more.pass[string(p)] {
			return true
		}
	}
	return false
}

// lookupWildcard finds the most specific wildcard covering w (not w itself).
func (t *segment) lookupWildcard(w []byte) uint32 {
	if t.more == nil || len(t.more.wild) == 0 {
		return noNode
	}
	for p := parentName(w); p != nil; p = parentName(p) {
		if n, ok := t.more.wild[string(p)]; ok {
			return n
		}
	}
	return noNode
}

// TableConfig describes the zones a table is authoritative for.
type TableConfig struct {
	// ClusterDomain is the Kubernetes cluster domain ("cluster.local").
	// It carries dns-version TXT and, when enabled in the engine, pod records.
	ClusterDomain string
	// Zones are the zones the engine answers authoritatively: names below
	// them that the table does not hold get NXDOMAIN. Default: ClusterDomain.
	Zones []string
	// Serial is the SOA serial (CoreDNS uses the time of the last change).
	Serial uint32
	// Nameservers are answered as the addresses of ns.dns.<zone>, the name
	// the NS and SOA records point at.
	Nameservers []netip.Addr
	// Group, when set, makes the builder one for the names of a single
	// Service: BuildGroup, not Build, finishes it.
	Group *GroupKey
	// SizeHint is the number of records the table is expected to hold: the
	// builder sizes its buffers for it instead of growing them (0: grow).
	SizeHint int
}

func typeString(t uint16) string {
	switch t {
	case TypeA:
		return "A"
	case TypeNS:
		return "NS"
	case TypeCNAME:
		return "CNAME"
	case TypeSOA:
		return "SOA"
	case TypePTR:
		return "PTR"
	case TypeTXT:
		return "TXT"
	case TypeAAAA:
		return "AAAA"
	case TypeSRV:
		return "SRV"
	case TypeOPT:
		return "OPT"
	case TypeANY:
		return "ANY"
	}
	return fmt.Sprintf("TYPE%d", t)
}
