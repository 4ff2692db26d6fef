package dnsengine

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// DNS types and classes the engine writes or recognises.
const (
	TypeA     uint16 = 1
	TypeNS    uint16 = 2
	TypeCNAME uint16 = 5
	TypeSOA   uint16 = 6
	TypePTR   uint16 = 12
	TypeTXT   uint16 = 16
	TypeAAAA  uint16 = 28
	TypeSRV   uint16 = 33
	TypeOPT   uint16 = 41
	TypeANY   uint16 = 255
	ClassINET uint16 = 1
)

// rr is one pre-encoded resource record of a node. Names inside rdata are
// uncompressed lowercase wire names.
type rr struct {
	typ   uint16
	rdata []byte
	// glue holds the A/AAAA records of an SRV target, written to the
	// additional section; their owner is the SRV target name.
	glue []rr
}

// node is everything the table knows about one owner name. A node with no
// records is an empty non-terminal (it exists; NODATA for every type).
type node struct {
	rrs    []rr // sorted by type, so each type is one contiguous run
	inZone bool // under one of the authoritative zones
	cname  bool // the node holds a CNAME (ExternalName): answer it for any type
	hosts  bool // the node holds A or AAAA records
	src    []string
}

// typeRange returns the run of rrs of type t.
func (n *node) typeRange(t uint16) []rr {
	lo := -1
	for i := range n.rrs {
		if n.rrs[i].typ == t {
			if lo < 0 {
				lo = i
			}
		} else if lo >= 0 {
			return n.rrs[lo:i]
		}
	}
	if lo < 0 {
		return nil
	}
	return n.rrs[lo:]
}

// zone is one authoritative zone of a table.
type zone struct {
	name   []byte // lowercase wire name of the apex
	soaPfx []byte // SOA rdata up to and including the serial: mname, rname, serial
}

// Table is an immutable snapshot of the names the mesh owns. Build one with a
// TableBuilder; share it freely between goroutines.
type Table struct {
	names   map[string]*node // lowercase wire name -> node
	wild    map[string]*node // "*.suffix": lowercase wire suffix -> node
	pass    map[string]bool  // names (and everything below) left to the upstream
	zones   []zone
	podZone []byte // wire "pod.<cluster domain>", nil without a cluster zone
	serial  uint32
	stats   TableStats
}

// TableStats counts what a table holds, for metrics and logs.
type TableStats struct {
	Names     int // owner names with records (not counting empty non-terminals)
	Records   int
	Wildcards int
	ByType    map[string]int
}

// Stats returns the counts of the table.
func (t *Table) Stats() TableStats { return t.stats }

// Serial returns the SOA serial of the table's zones.
func (t *Table) Serial() uint32 { return t.serial }

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
func (t *Table) passedThrough(w []byte) bool {
	if len(t.pass) == 0 {
		return false
	}
	for p := w; p != nil; p = parentName(p) {
		if t.pass[string(p)] {
			return true
		}
	}
	return false
}

// lookupWildcard finds the most specific wildcard covering w (not w itself).
func (t *Table) lookupWildcard(w []byte) *node {
	if len(t.wild) == 0 {
		return nil
	}
	for p := parentName(w); p != nil; p = parentName(p) {
		if n, ok := t.wild[string(p)]; ok {
			return n
		}
	}
	return nil
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
}

// TableBuilder collects records and builds a Table. It is not safe for
// concurrent use. Records are deduplicated; the first source wins for the
// provenance shown in debug output.
type TableBuilder struct {
	cfg   TableConfig
	zones []zone
	names map[string]*node
	wild  map[string]*node
	pass  map[string]bool
	seen  map[string]struct{}
	glue  []glueRef
	err   error
}

type glueRef struct {
	n      *node
	target string // wire name of the SRV target
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
	b := &TableBuilder{
		cfg:   cfg,
		names: map[string]*node{},
		wild:  map[string]*node{},
		pass:  map[string]bool{},
		seen:  map[string]struct{}{},
	}
	for _, z := range zs {
		w, err := encodeName(z)
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

func (b *TableBuilder) inZone(w []byte) bool {
	for _, z := range b.zones {
		if isSubdomain(w, z.name) {
			return true
		}
	}
	return false
}

// nodeFor returns the node of w, creating it and, under a zone, its
// ancestors up to the apex as empty non-terminals.
func (b *TableBuilder) nodeFor(w []byte) *node {
	if n, ok := b.names[string(w)]; ok {
		return n
	}
	n := &node{inZone: b.inZone(w)}
	b.names[string(w)] = n
	if n.inZone {
		for p := parentName(w); p != nil && b.inZone(p); p = parentName(p) {
			if _, ok := b.names[string(p)]; ok {
				break
			}
			b.names[string(p)] = &node{inZone: true}
		}
	}
	return n
}

func (b *TableBuilder) add(n *node, key string, r rr, src string) {
	k := key + "\x00" + string(rune(r.typ)) + string(r.rdata)
	if _, dup := b.seen[k]; dup {
		return
	}
	b.seen[k] = struct{}{}
	n.rrs = append(n.rrs, r)
	if src != "" && (len(n.src) == 0 || n.src[len(n.src)-1] != src) {
		n.src = append(n.src, src)
	}
	switch r.typ {
	case TypeCNAME:
		n.cname = true
	case TypeA, TypeAAAA:
		n.hosts = true
	}
}

func addrRR(ip netip.Addr) rr {
	ip = ip.Unmap()
	if ip.Is4() {
		a := ip.As4()
		return rr{typ: TypeA, rdata: a[:]}
	}
	a := ip.As16()
	return rr{typ: TypeAAAA, rdata: a[:]}
}

// HasName reports whether name already has records or exists as an empty
// non-terminal.
func (b *TableBuilder) HasName(name string) bool {
	w, err := encodeName(name)
	if err != nil {
		return false
	}
	_, ok := b.names[string(w)]
	return ok
}

// HasRecords reports whether name already owns records.
func (b *TableBuilder) HasRecords(name string) bool {
	w, err := encodeName(name)
	if err != nil {
		return false
	}
	n, ok := b.names[string(w)]
	return ok && len(n.rrs) > 0
}

// AddAddress adds an A or AAAA record (by the address family) for name.
func (b *TableBuilder) AddAddress(name string, ip netip.Addr, src string) error {
	if !ip.IsValid() {
		return fmt.Errorf("table: %s: invalid address", name)
	}
	w, err := encodeName(name)
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	n := b.nodeFor(w)
	if n.cname {
		return fmt.Errorf("table: %s: already a CNAME", name)
	}
	b.add(n, string(w), addrRR(ip), src)
	return nil
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
	w, err := encodeName(suffix)
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	n, ok := b.wild[string(w)]
	if !ok {
		n = &node{inZone: b.inZone(w)}
		b.wild[string(w)] = n
	}
	b.add(n, "*"+string(w), addrRR(ip), src)
	return nil
}

// AddCNAME makes name an alias of target (an ExternalName service). A CNAME
// owner holds nothing else.
func (b *TableBuilder) AddCNAME(name, target, src string) error {
	w, err := encodeName(name)
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	t, err := encodeName(target)
	if err != nil {
		return fmt.Errorf("table: CNAME target: %w", err)
	}
	n := b.nodeFor(w)
	if len(n.rrs) > 0 && !n.cname {
		return fmt.Errorf("table: %s: has other records, cannot be a CNAME", name)
	}
	if n.cname {
		return fmt.Errorf("table: %s: already a CNAME", name)
	}
	b.add(n, string(w), rr{typ: TypeCNAME, rdata: t}, src)
	return nil
}

// AddSRV adds an SRV record. The A/AAAA records of target, if the table
// holds any when Build runs, go to the additional section.
func (b *TableBuilder) AddSRV(name string, priority, weight, port uint16, target, src string) error {
	w, err := encodeName(name)
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	t, err := encodeName(target)
	if err != nil {
		return fmt.Errorf("table: SRV target: %w", err)
	}
	n := b.nodeFor(w)
	if n.cname {
		return fmt.Errorf("table: %s: already a CNAME", name)
	}
	rd := make([]byte, 6, 6+len(t))
	binary.BigEndian.PutUint16(rd[0:], priority)
	binary.BigEndian.PutUint16(rd[2:], weight)
	binary.BigEndian.PutUint16(rd[4:], port)
	rd = append(rd, t...)
	b.add(n, string(w), rr{typ: TypeSRV, rdata: rd}, src)
	b.glue = append(b.glue, glueRef{n: n, target: string(t)})
	return nil
}

// AddPTR adds the reverse record of ip pointing at target.
func (b *TableBuilder) AddPTR(ip netip.Addr, target, src string) error {
	if !ip.IsValid() {
		return fmt.Errorf("table: PTR for %s: invalid address", target)
	}
	w := mustEncodeName(ReverseName(ip))
	t, err := encodeName(target)
	if err != nil {
		return fmt.Errorf("table: PTR target: %w", err)
	}
	n := b.nodeFor(w)
	b.add(n, string(w), rr{typ: TypePTR, rdata: t}, src)
	return nil
}

// AddTXT adds a TXT record holding one character-string.
func (b *TableBuilder) AddTXT(name, text, src string) error {
	if len(text) > 255 {
		return fmt.Errorf("table: %s: TXT string longer than 255 bytes", name)
	}
	w, err := encodeName(name)
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	n := b.nodeFor(w)
	if n.cname {
		return fmt.Errorf("table: %s: already a CNAME", name)
	}
	rd := append([]byte{byte(len(text))}, text...)
	b.add(n, string(w), rr{typ: TypeTXT, rdata: rd}, src)
	return nil
}

// AddPassThrough leaves name and every name below it that the table does
// not hold to the upstream instead of answering NXDOMAIN: for objects that
// could not be loaded (a malformed Service), whose names the cluster DNS may
// still know.
func (b *TableBuilder) AddPassThrough(name string) error {
	w, err := encodeName(name)
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	b.pass[string(w)] = true
	return nil
}

// AddEmpty makes name exist without records (an empty non-terminal), so it
// answers NODATA rather than NXDOMAIN.
func (b *TableBuilder) AddEmpty(name string) error {
	w, err := encodeName(name)
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	b.nodeFor(w)
	return nil
}

// Build finishes the table: zone apex records (SOA, NS), dns-version TXT,
// ns.dns.<zone> addresses and SRV glue. The builder must not be used after.
func (b *TableBuilder) Build() *Table {
	const apexSrc = "meshdns"
	t := &Table{names: b.names, wild: b.wild, pass: b.pass, serial: b.cfg.Serial}
	for i := range b.zones {
		z := &b.zones[i]
		zname := decodeName(z.name)
		ns := mustEncodeName("ns.dns." + zname)
		host := mustEncodeName("hostmaster." + zname)
		z.soaPfx = make([]byte, 0, len(ns)+len(host)+4)
		z.soaPfx = append(z.soaPfx, ns...)
		z.soaPfx = append(z.soaPfx, host...)
		z.soaPfx = binary.BigEndian.AppendUint32(z.soaPfx, b.cfg.Serial)
		apex := b.nodeFor(z.name)
		b.add(apex, string(z.name), rr{typ: TypeNS, rdata: ns}, apexSrc)
		for _, ip := range b.cfg.Nameservers {
			b.add(b.nodeFor(ns), string(ns), addrRR(ip), apexSrc)
		}
	}
	if b.cfg.ClusterDomain != "" {
		cw := mustEncodeName(b.cfg.ClusterDomain)
		if b.inZone(cw) {
			t.podZone = append([]byte("\x03pod"), cw...)
			_ = b.AddTXT("dns-version."+b.cfg.ClusterDomain, "1.1.0", apexSrc)
		}
	}
	t.zones = b.zones
	for _, g := range b.glue {
		tn, ok := b.names[g.target]
		if !ok {
			continue
		}
		for i := range g.n.rrs {
			r := &g.n.rrs[i]
			if r.typ != TypeSRV || string(r.rdata[6:]) != g.target || r.glue != nil {
				continue
			}
			for _, a := range tn.rrs {
				if a.typ == TypeA || a.typ == TypeAAAA {
					r.glue = append(r.glue, rr{typ: a.typ, rdata: a.rdata})
				}
			}
		}
	}
	st := TableStats{ByType: map[string]int{}}
	finish := func(n *node) {
		sort.SliceStable(n.rrs, func(i, j int) bool { return n.rrs[i].typ < n.rrs[j].typ })
		if len(n.rrs) > 0 {
			st.Names++
		}
		st.Records += len(n.rrs)
		for _, r := range n.rrs {
			st.ByType[typeString(r.typ)]++
		}
	}
	for _, n := range t.names {
		finish(n)
	}
	for _, n := range t.wild {
		finish(n)
		st.Wildcards++
	}
	t.stats = st
	b.names, b.wild, b.pass, b.seen, b.glue = nil, nil, nil, nil, nil
	return t
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
