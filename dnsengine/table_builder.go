package dnsengine

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"net/netip"
	"slices"
	"strings"

	"github.com/meshdns/meshdns/dnsengine/wire"
)

// TableBuilder collects records and builds a Table. It is not safe for
// concurrent use. Records are deduplicated; the first source wins for the
// provenance shown in debug output.
type TableBuilder struct {
	cfg   TableConfig
	zones []zone
	t     *segment // the table being built: arena and nodes
	// names: every node (existing or not, wildcards excepted) by the hash
	// of its name: no copy of the names while building.
	names  nameSlots
	hashes []uint64 // by node: the hash of its name (nodes in names only)
	wild   map[string]uint32
	pass   map[string]bool
	blobs  map[string]uint32 // arena offsets of AAAA and TXT rdata, shared by equal values
	srcID  map[string]uint32 // arena offset + 1 of each provenance string
	recs   []buildRecord     // in the order added
	err    error
	// wbuf, tbuf: the wire form of an owner name and of a record's
	// target; rbuf: of a reverse name. Reused by every Add.
	wbuf, tbuf nameBuf
	rbuf       []byte
	// hot: the nodes anyNode returned lately, by the hash of their
	// names. One object's records come one after the other (an
	// endpoint's address, PTR target and SRV target are one name) and a
	// Service's endpoints share its name and, often, their reverse names'
	// parent: most lookups are answered here, from memory still in the
	// CPU's cache, without probing names.
	hot [hotSlots]hotNode
	// hotGen: ResetGroup empties hot by counting it up, rather than
	// clearing its 4 KB for each of many small groups.
	hotGen uint32
	// recent: the names anyNode returned last, asked for most often:
	// answered without hashing them.
	recent recentNames
	// The provenances add took last, the latest first: a Service's and
	// its EndpointSlices' records alternate.
	lastSrc [2]srcRef
	// stop: for a group builder, the wire name of the Service: empty
	// non-terminals are made up to it, not up to the zone apex.
	stop []byte
	// What a group builder keeps for ResetGroup: the node and arena
	// arrays (the segment gets exact copies), layout's scratch, the
	// segment being built (a group is a copy of it) and the wire name
	// svc.<cluster domain>, which group names end with.
	keepNodes []node
	keepArena []byte
	ls        layoutScratch
	rows      rowScratch
	seg       segment
	svcZone   []byte
	carve     *carver // set: groups are carved from chunks (table_carve.go)
}

// buildRecord is a record before Build sorts it to its node.
type buildRecord struct {
	node uint32
	src  uint32 // arena offset of the provenance string + 1; 0 for none
	r    record
}

// NewTableBuilder returns a builder for the given zones.
func NewTableBuilder(cfg TableConfig) (*TableBuilder, error) {
	if cfg.ClusterDomain == "" && len(cfg.Zones) == 0 {
		return nil, fmt.Errorf("table: no cluster domain and no zones")
	}
	zs := cfg.Zones
	if len(zs) == 0 {
		zs = []string{cfg.ClusterDomain}
	}
	hint := max(cfg.SizeHint, 0)
	minNames := 1024
	if cfg.Group != nil {
		minNames = 64 // a Service's few names
	}
	b := &TableBuilder{
		cfg:    cfg,
		t:      &segment{seed: maphash.MakeSeed(), nodes: make([]node, 0, hint/2), arena: make([]byte, 0, 4*hint)},
		recs:   make([]buildRecord, 0, hint),
		hashes: make([]uint64, 0, hint/2),
		wbuf:   nameBuf{w: make([]byte, 0, wire.MaxNameLen)},
		tbuf:   nameBuf{w: make([]byte, 0, wire.MaxNameLen)},
		rbuf:   make([]byte, 0, wire.MaxNameLen),
		wild:   map[string]uint32{},
		pass:   map[string]bool{},
		blobs:  map[string]uint32{},
		// About a provenance (a Service, an EndpointSlice) for 32
		// records.
		srcID: make(map[string]uint32, hint/32),
	}
	b.names.reset(max(minNames, 2*hint/3))
	if g := cfg.Group; g != nil {
		if !IsLabel(g.Namespace) || !IsLabel(g.Name) || cfg.ClusterDomain == "" {
			return nil, fmt.Errorf("table: group %s/%s: not a Service name in a cluster domain", g.Namespace, g.Name)
		}
		w, err := wire.EncodeName(g.Name + "." + g.Namespace + ".svc." + cfg.ClusterDomain)
		if err != nil {
			return nil, fmt.Errorf("table: group: %w", err)
		}
		b.stop = w
		b.svcZone = w[1+int(w[0]):]
		b.svcZone = slices.Clone(b.svcZone[1+int(b.svcZone[0]):])
	}
	for _, z := range zs {
		w, err := wire.EncodeName(z)
		if err != nil {
			return nil, fmt.Errorf("table: zone: %w", err)
		}
		if len(w) == 1 {
			return nil, fmt.Errorf("table: the root cannot be an authoritative zone")
		}
		b.zones = append(b.zones, zone{name: w})
	}
	return b, nil
}

// nameBuf is scratch for the wire form of a name. It remembers the name
// it holds: an object's records name it again and again (an endpoint's
// address, the target of its PTR, the owner and target of its SRV), and
// it is encoded once.
type nameBuf struct {
	w    []byte
	name string // the name w is the wire form of, if held
	held bool
}

// encode returns the wire form of name, valid until the next call: the
// one nb holds, a copy of the one other holds, or a new encoding.
func (nb *nameBuf) encode(name string, other *nameBuf) ([]byte, error) {
	switch {
	case nb.held && name == nb.name:
		return nb.w, nil
	case other.held && name == other.name:
		nb.w, nb.name, nb.held = append(nb.w[:0], other.w...), name, true
		return nb.w, nil
	}
	w, err := wire.AppendName(nb.w[:0], name)
	nb.w, nb.name, nb.held = w, name, err == nil
	return w, err
}

// owner returns the wire form of name in the builder's scratch: valid
// until the next call.
func (b *TableBuilder) owner(name string) ([]byte, error) { return b.wbuf.encode(name, &b.tbuf) }

// target is owner for a record's target name, in a scratch of its own.
func (b *TableBuilder) target(name string) ([]byte, error) { return b.tbuf.encode(name, &b.wbuf) }

func (b *TableBuilder) inZone(w []byte) bool {
	for _, z := range b.zones {
		if isSubdomain(w, z.name) {
			return true
		}
	}
	return false
}

func (b *TableBuilder) flags(n uint32) uint32 { return b.t.nodes[n].meta >> metaFlags }

func (b *TableBuilder) setFlags(n, f uint32) { b.t.nodes[n].meta |= f << metaFlags }

// newNode appends a node for the first label of w below parent.
func (b *TableBuilder) newNode(w []byte, parent uint32) uint32 {
	t := b.t
	n := uint32(len(t.nodes))
	t.nodes = append(t.nodes, node{label: uint32(len(t.arena)), parent: parent})
	b.hashes = append(b.hashes, 0)
	t.arena = append(t.arena, w[:1+int(w[0])]...)
	return n
}

// newFullNode appends a full node for w: its length, then the whole name.
func (b *TableBuilder) newFullNode(w []byte) uint32 {
	t := b.t
	n := uint32(len(t.nodes))
	t.nodes = append(t.nodes, node{label: uint32(len(t.arena)), parent: noNode})
	b.hashes = append(b.hashes, 0)
	t.arena = append(append(t.arena, byte(len(w))), w...)
	return n
}

// chained reports whether the node of w is its first label below the
// node of its parent, rather than a full node. Every name but the root
// is, in a table built whole. A group's names are only down to its
// Service's name, which is a full node, and, for reverse names, down to
// the parent an address shares with its /24 (IPv4) or with the 255
// addresses that differ from it in the last byte (IPv6): the suffixes
// above are the same in every group, and held as nodes of its own they
// cost a group more (about 10 nodes) than the bytes of the few full
// names that replace them.
func (b *TableBuilder) chained(w []byte) bool {
	if w[0] == 0 {
		return false
	}
	if b.stop == nil || isSubdomain(parentName(w), b.stop) {
		return true
	}
	if !isReverse(w) {
		return false
	}
	k := 0
	for p := w; p[0] != 0; p = p[1+int(p[0]):] {
		k++
	}
	if isSubdomain(w, []byte("\x07in-addr\x04arpa\x00")) {
		return k == 6 // d.c.b.a.in-addr.arpa: its parent is the /24
	}
	return k >= 33 // the last two nibbles below ip6.arpa
}

// hotSlots is the size of TableBuilder.hot: a slot by the low bits of a
// name's hash, the latest name in it. 256 covers the names of a few
// Services' endpoints.
const hotSlots = 256

// hotNode is a node anyNode returned and the hash of its name.
type hotNode struct {
	h   uint64
	n   uint32 // the node + 1; 0: none
	gen uint32 // TableBuilder.hotGen when it was set: another is none
}

// anyNode returns the node of w, creating it and its suffixes without
// making them exist: for record targets and name suffixes.
func (b *TableBuilder) anyNode(w []byte) uint32 {
	if n, ok := b.recent.find(w); ok {
		return n
	}
	h := maphash.Bytes(b.t.seed, w)
	if e := b.hot[h%hotSlots]; e.n != 0 && e.gen == b.hotGen && e.h == h && b.t.nameEqual(e.n-1, w) {
		b.recent.add(w, e.n-1)
		return e.n - 1
	}
	n, ok := b.findHash(w, h)
	if !ok {
		if b.chained(w) {
			n = b.newNode(w, b.anyNode(parentName(w)))
		} else {
			n = b.newFullNode(w)
		}
		b.hashes[n] = h
		b.names.insert(h, n, b.hashes)
	}
	b.hot[h%hotSlots] = hotNode{h: h, n: n + 1, gen: b.hotGen}
	b.recent.add(w, n)
	return n
}

// find returns the node of w, if there is one.
func (b *TableBuilder) find(w []byte) (uint32, bool) {
	return b.findHash(w, maphash.Bytes(b.t.seed, w))
}

// findHash is find for w, whose hash is h. A slot whose node's hash
// differs is passed over without comparing names.
func (b *TableBuilder) findHash(w []byte, h uint64) (uint32, bool) {
	return b.names.find(b.t, w, h)
}

// nodeFor returns the node of w, making it exist and, under a zone, its
// ancestors up to the apex as empty non-terminals.
func (b *TableBuilder) nodeFor(w []byte) uint32 {
	n := b.anyNode(w)
	if b.flags(n)&nodeExists != 0 {
		return n
	}
	// Below a name in a zone is in it: a chained node's parent, when
	// flagged so, answers without a walk of the zones.
	up := b.t.nodes[n].parent
	in := up != noNode && b.flags(up)&nodeInZone != 0 || b.inZone(w)
	f := uint32(nodeExists)
	if in {
		f |= nodeInZone
	}
	b.setFlags(n, f)
	if in {
		// A chained node's parent is the node of its parent name: no
		// lookup for it.
		// One that exists already ends the walk before its name is
		// checked: an endpoint's name's parent, its Service's, mostly.
		c := n
		for p := parentName(w); p != nil; p = parentName(p) {
			pn := b.t.nodes[c].parent
			if pn != noNode && b.flags(pn)&nodeExists != 0 {
				break
			}
			if !b.inZone(p) || b.stop != nil && !isSubdomain(p, b.stop) {
				break
			}
			if pn == noNode {
				pn = b.anyNode(p)
			}
			if b.flags(pn)&nodeExists != 0 {
				break
			}
			b.setFlags(pn, nodeExists|nodeInZone)
			c = pn
		}
	}
	return n
}

// blob returns the arena offset of data, stored once per distinct value.
func (b *TableBuilder) blob(data []byte) uint32 {
	if off, ok := b.blobs[string(data)]; ok {
		return off
	}
	off := uint32(len(b.t.arena))
	b.t.arena = append(b.t.arena, data...)
	b.blobs[string(data)] = off
	return off
}

// srcRef is a provenance string and its arena offset + 1.
type srcRef struct {
	src string
	id  uint32
}

// provenance returns the arena offset + 1 of the provenance src, which is
// not empty, putting it in the arena the first time.
func (b *TableBuilder) provenance(src string) uint32 {
	switch src {
	case b.lastSrc[0].src:
		return b.lastSrc[0].id
	case b.lastSrc[1].src:
		b.lastSrc[0], b.lastSrc[1] = b.lastSrc[1], b.lastSrc[0]
		return b.lastSrc[0].id
	}
	id, ok := b.srcID[src]
	if !ok {
		id = uint32(len(b.t.arena)) + 1
		text := src[:min(len(src), 0xffff)]
		b.t.arena = binary.BigEndian.AppendUint16(b.t.arena, uint16(len(text)))
		b.t.arena = append(b.t.arena, text...)
		b.srcID[src] = id
	}
	b.lastSrc[0], b.lastSrc[1] = srcRef{src, id}, b.lastSrc[0]
	return id
}

// add records r for node n. Duplicates are dropped when Build sorts the
// records, keeping the first. The provenance src goes to the arena once,
// its length in two bytes (debug output: a longer one is cut).
func (b *TableBuilder) add(n uint32, r record, src string) {
	var id uint32
	if src != "" {
		id = b.provenance(src)
	}
	b.recs = append(b.recs, buildRecord{node: n, src: id, r: r})
	f := uint32(nodeHasRecs)
	switch r.typ {
	case TypeCNAME:
		f |= nodeCNAME
	case TypeA, TypeAAAA:
		f |= nodeHosts
	}
	b.setFlags(n, f)
}

func (b *TableBuilder) addrRecord(ip netip.Addr) record {
	ip = ip.Unmap()
	if ip.Is4() {
		a := ip.As4()
		return record{typ: TypeA, data: binary.BigEndian.Uint32(a[:])}
	}
	a := ip.As16()
	return record{typ: TypeAAAA, data: b.blob(a[:])}
}

// HasName reports whether name already has records or exists as an empty
// non-terminal.
func (b *TableBuilder) HasName(name string) bool {
	w, err := b.owner(name)
	if err != nil {
		return false
	}
	n, ok := b.find(w)
	return ok && b.flags(n)&nodeExists != 0
}

// HasRecords reports whether name already owns records.
func (b *TableBuilder) HasRecords(name string) bool {
	w, err := b.owner(name)
	if err != nil {
		return false
	}
	n, ok := b.find(w)
	return ok && b.flags(n)&nodeHasRecs != 0
}

// AddAddress adds an A or AAAA record (by the address family) for name.
func (b *TableBuilder) AddAddress(name string, ip netip.Addr, src string) error {
	if !ip.IsValid() {
		return fmt.Errorf("table: %s: invalid address", name)
	}
	n, err := b.recordNode(name)
	if err != nil {
		return err
	}
	b.add(n, b.addrRecord(ip), src)
	return nil
}

// recordNode returns the node of name, made to exist, for a record other
// than a CNAME: an error if name is no valid owner or is a CNAME already.
func (b *TableBuilder) recordNode(name string) (uint32, error) {
	w, err := b.owner(name)
	if err != nil {
		return 0, fmt.Errorf("table: %w", err)
	}
	return b.recordNodeOf(w, name)
}

// recordNodeOf is recordNode for name already in wire form, w.
func (b *TableBuilder) recordNodeOf(w []byte, name string) (uint32, error) {
	n := b.nodeFor(w)
	if b.flags(n)&nodeCNAME != 0 {
		return n, fmt.Errorf("table: %s: already a CNAME", name)
	}
	return n, nil
}

// AddWildcardAddress adds an address for a wildcard pattern "*.suffix". A
// query for any name below suffix without an exact entry is answered from the
// most specific wildcard, with the queried name as owner.
func (b *TableBuilder) AddWildcardAddress(pattern string, ip netip.Addr, src string) error {
	suffix, ok := strings.CutPrefix(pattern, "*.")
	if !ok || strings.Contains(suffix, "*") {
		return fmt.Errorf("table: %q: not a wildcard of the form *.suffix", pattern)
	}
	if !ip.IsValid() {
		return fmt.Errorf("table: %s: invalid address", pattern)
	}
	w, err := b.owner(suffix)
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	n, ok := b.wild[string(w)]
	if !ok {
		n = b.newNode([]byte("\x01*"), b.anyNode(w))
		f := uint32(nodeWild)
		if b.inZone(w) {
			f |= nodeInZone
		}
		b.setFlags(n, f)
		b.wild[string(w)] = n
	}
	b.add(n, b.addrRecord(ip), src)
	return nil
}

// AddCNAME makes name an alias of target (an ExternalName service). A CNAME
// owner holds nothing else.
func (b *TableBuilder) AddCNAME(name, target, src string) error {
	w, err := b.owner(name)
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	t, err := b.target(target)
	if err != nil {
		return fmt.Errorf("table: CNAME target: %w", err)
	}
	n := b.nodeFor(w)
	f := b.flags(n)
	if f&nodeHasRecs != 0 && f&nodeCNAME == 0 {
		return fmt.Errorf("table: %s: has other records, cannot be a CNAME", name)
	}
	if f&nodeCNAME != 0 {
		return fmt.Errorf("table: %s: already a CNAME", name)
	}
	b.add(n, record{typ: TypeCNAME, data: b.anyNode(t)}, src)
	return nil
}

// AddSRV adds an SRV record. The A/AAAA records of target, if the table
// holds any, go to the additional section.
func (b *TableBuilder) AddSRV(name string, priority, weight, port uint16, target, src string) error {
	w, err := b.owner(name)
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	t, err := b.target(target)
	if err != nil {
		return fmt.Errorf("table: SRV target: %w", err)
	}
	if 6+len(t) > 0xffff {
		return fmt.Errorf("table: %s: SRV rdata too long", name)
	}
	n, err := b.recordNodeOf(w, name)
	if err != nil {
		return err
	}
	tn := n // an endpoint's own SRV records: its name is owner and target
	if target != name {
		tn = b.anyNode(t)
	}
	b.add(n, record{typ: TypeSRV, a: priority, b: weight, c: port, data: tn}, src)
	return nil
}

// AddPTR adds the reverse record of ip pointing at target.
func (b *TableBuilder) AddPTR(ip netip.Addr, target, src string) error {
	if !ip.IsValid() {
		return fmt.Errorf("table: PTR for %s: invalid address", target)
	}
	w := appendReverseName(b.rbuf[:0], ip)
	b.rbuf = w[:0]
	t, err := b.target(target)
	if err != nil {
		return fmt.Errorf("table: PTR target: %w", err)
	}
	n := b.nodeFor(w)
	b.add(n, record{typ: TypePTR, data: b.anyNode(t)}, src)
	return nil
}

// AddTXT adds a TXT record holding one character-string.
func (b *TableBuilder) AddTXT(name, text, src string) error {
	if len(text) > 255 {
		return fmt.Errorf("table: %s: TXT string longer than 255 bytes", name)
	}
	n, err := b.recordNode(name)
	if err != nil {
		return err
	}
	rd := append([]byte{byte(len(text))}, text...)
	b.add(n, record{typ: TypeTXT, a: uint16(len(rd)), data: b.blob(rd)}, src)
	return nil
}

// AddPassThrough leaves name and every name below it that the table does
// not hold to the upstream instead of answering NXDOMAIN: for objects that
// could not be loaded (a malformed Service), whose names the cluster DNS may
// still know.
func (b *TableBuilder) AddPassThrough(name string) error {
	w, err := b.owner(name)
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	b.pass[string(w)] = true
	return nil
}

// AddEmpty makes name exist without records (an empty non-terminal), so it
// answers NODATA rather than NXDOMAIN.
func (b *TableBuilder) AddEmpty(name string) error {
	w, err := b.owner(name)
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	b.nodeFor(w)
	return nil
}

// AddAncestors makes the names above name exist, as a record at name
// would, without making name itself exist: the base of a table with
// groups holds a namespace's empty non-terminals this way.
func (b *TableBuilder) AddAncestors(name string) error {
	w, err := b.owner(name)
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	for p := parentName(w); p != nil && b.inZone(p); p = parentName(p) {
		pn := b.anyNode(p)
		if b.flags(pn)&nodeExists != 0 {
			break
		}
		b.setFlags(pn, nodeExists|nodeInZone)
	}
	return nil
}

// Build finishes the table: zone apex records (SOA, NS), dns-version TXT and
// ns.dns.<zone> addresses. The builder must not be used after.
func (b *TableBuilder) Build() *Table {
	const apexSrc = "meshdns"
	t := &Table{serial: b.cfg.Serial, seed: maphash.MakeSeed()}
	for i := range b.zones {
		z := &b.zones[i]
		zname := wire.DecodeName(z.name)
		ns := mustEncodeName("ns.dns." + zname)
		host := mustEncodeName("hostmaster." + zname)
		z.soaPfx = make([]byte, 0, len(ns)+len(host)+4)
		z.soaPfx = append(z.soaPfx, ns...)
		z.soaPfx = append(z.soaPfx, host...)
		z.soaPfx = binary.BigEndian.AppendUint32(z.soaPfx, b.cfg.Serial)
		b.add(b.nodeFor(z.name), record{typ: TypeNS, data: b.anyNode(ns)}, apexSrc)
		for _, ip := range b.cfg.Nameservers {
			b.add(b.nodeFor(ns), b.addrRecord(ip), apexSrc)
		}
	}
	if b.cfg.ClusterDomain != "" {
		cw := mustEncodeName(b.cfg.ClusterDomain)
		t.svcZone = append([]byte("\x03svc"), cw...)
		if b.inZone(cw) {
			t.podZone = append([]byte("\x03pod"), cw...)
			_ = b.AddTXT("dns-version."+b.cfg.ClusterDomain, "1.1.0", apexSrc)
		}
	}
	t.zones = b.zones
	t.base = b.finish()
	t.apexes = t.base.apexes(t.zones)
	b.stop = nil // the base may be b.seg: no ResetGroup after
	t.stats = t.base.count()
	return t
}

// BuildGroup finishes the builder as the group of Service namespace/name
// (table_groups.go): the names below <name>.<namespace>.svc.<cluster
// domain> and reverse names, without apex records. It fails if a name
// lies elsewhere, or if the builder was not made with Group set. The
// builder must not be used after.
func (b *TableBuilder) BuildGroup() (*Group, error) {
	if b.stop == nil {
		return nil, fmt.Errorf("table: not a group builder")
	}
	if len(b.wild) > 0 || len(b.pass) > 0 && !(len(b.pass) == 1 && b.pass[string(b.stop)]) {
		return nil, fmt.Errorf("table: group %s: wildcards or pass-through names other than its own", wire.DecodeName(b.stop))
	}
	for n := range b.t.nodes {
		// A chained node is below the Service's name or a reverse name
		// (chained): only full nodes' names are checked.
		if b.flags(uint32(n))&nodeExists == 0 || b.t.nodes[n].parent != noNode {
			continue
		}
		var buf [wire.MaxNameLen]byte
		w := buf[:b.t.putName(buf[:], uint32(n))]
		if !isSubdomain(w, b.stop) && !isReverse(w) {
			return nil, fmt.Errorf("table: group %s: name %s is not its own", wire.DecodeName(b.stop), wire.DecodeName(w))
		}
	}
	// The Service's name is a full node (chained): its bytes in the arena
	// are the group's key. A group without names below it gets the node
	// for that, without records and not existing. A group with rows has
	// it as node 0 (deriveRows).
	svc := b.anyNode(b.stop)
	g := b.newGroup()
	g.seg = *b.finish()
	if len(g.seg.rows) > 0 {
		svc = 0
	}
	g.key = g.seg.nodes[svc].label
	return g, nil
}

// finish lays out the records and indexes the names. A group builder
// keeps its buffers for ResetGroup; any other lets them go.
func (b *TableBuilder) finish() *segment {
	t := b.t
	if len(b.wild) > 0 || len(b.pass) > 0 {
		t.more = &segMore{wild: b.wild, pass: b.pass}
		if len(t.more.wild) == 0 {
			t.more.wild = nil
		}
		if len(t.more.pass) == 0 {
			t.more.pass = nil
		}
	}
	b.keepNodes, b.keepArena = t.nodes, t.arena
	b.layout()
	b.buildIndex()
	if b.stop != nil {
		if len(b.wild) > 0 || len(b.pass) > 0 {
			b.wild, b.pass = nil, nil // the segment's now
		}
		b.t = nil
		return t
	}
	b.names, b.hashes, b.wild, b.pass, b.blobs, b.srcID, b.recs, b.t, b.recent = nameSlots{}, nil, nil, nil, nil, nil, nil, nil, recentNames{}
	b.keepNodes, b.keepArena, b.ls = nil, nil, layoutScratch{}
	return t
}

// ResetGroup makes b, a group builder finished with BuildGroup, a builder
// for the group of Service g, keeping its buffers: building the groups of
// many Services one after the other allocates little more than the
// groups.
func (b *TableBuilder) ResetGroup(g GroupKey) error {
	if b.stop == nil || b.t != nil {
		return fmt.Errorf("table: ResetGroup: not a finished group builder")
	}
	if !IsLabel(g.Namespace) || !IsLabel(g.Name) {
		return fmt.Errorf("table: group %s/%s: not a Service name", g.Namespace, g.Name)
	}
	// The group's name, written into the previous one's buffer: its
	// labels are lowercase (IsLabel), and the cluster domain encoded once.
	stop := append(b.stop[:0], byte(len(g.Name)))
	stop = append(append(stop, g.Name...), byte(len(g.Namespace)))
	stop = append(append(stop, g.Namespace...), b.svcZone...)
	if len(stop) > wire.MaxNameLen {
		_, err := wire.EncodeName(g.Name + "." + g.Namespace + ".svc." + b.cfg.ClusterDomain)
		return fmt.Errorf("table: group: %w", err)
	}
	// cfg.Group stays the first group's: only NewTableBuilder reads it.
	b.stop = stop
	b.seg = segment{seed: maphash.MakeSeed(), nodes: b.keepNodes[:0], arena: b.keepArena[:0]}
	b.t = &b.seg
	b.names.reset(len(b.names.slots))
	b.hashes, b.recs = b.hashes[:0], b.recs[:0]
	if b.wild == nil {
		b.wild, b.pass = map[string]uint32{}, map[string]bool{}
	}
	clear(b.blobs)
	clear(b.srcID)
	if b.hotGen++; b.hotGen == 0 {
		b.hot = [hotSlots]hotNode{} // wrapped around: old entries could match
	}
	b.recent.reset()
	b.err, b.lastSrc = nil, [2]srcRef{}
	return nil
}
