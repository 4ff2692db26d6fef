package dnsengine

// The name table as it was before the compact table (a map of nodes holding
// pre-encoded records, SRV glue copied at build time), kept as the slow
// reference the differential tests compare the table against. Only the
// names changed (ref prefix); the engine's podRecord and message writer
// helpers are shared.

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/meshdns/meshdns/dnsengine/wire"
)

// refRR is one pre-encoded resource record of a refNode. Names inside rdata are
// uncompressed lowercase wire names.
type refRR struct {
	typ   uint16
	rdata []byte
	// glue holds the A/AAAA records of an SRV target, written to the
	// additional section; their owner is the SRV target name.
	glue []refRR
}

// refNode is everything the table knows about one owner name. A refNode with no
// records is an empty non-terminal (it exists; NODATA for every type).
type refNode struct {
	rrs    []refRR // sorted by type, so each type is one contiguous run
	inZone bool    // under one of the authoritative zones
	cname  bool    // the refNode holds a CNAME (ExternalName): answer it for any type
	hosts  bool    // the refNode holds A or AAAA records
	src    []string
}

// refTypeRange returns the run of rrs of type t.
func (n *refNode) refTypeRange(t uint16) []refRR {
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

// refTable is an immutable snapshot of the names the mesh owns. Build one with a
// refBuilder; share it freely between goroutines.
type refTable struct {
	names   map[string]*refNode // lowercase wire name -> refNode
	wild    map[string]*refNode // "*.suffix": lowercase wire suffix -> refNode
	pass    map[string]bool     // names (and everything below) left to the upstream
	zones   []zone
	podZone []byte // wire "pod.<cluster domain>", nil without a cluster zone
	serial  uint32
	stats   TableStats
}

// Serial returns the SOA serial of the table's zones.
func (t *refTable) Serial() uint32 { return t.serial }

// refZoneOf returns the authoritative zone that holds w, or nil.
func (t *refTable) refZoneOf(w []byte) *zone {
	for i := range t.zones {
		if isSubdomain(w, t.zones[i].name) {
			return &t.zones[i]
		}
	}
	return nil
}

// refPassedThrough reports whether w or a name above it was left to the
// upstream with AddPassThrough.
func (t *refTable) refPassedThrough(w []byte) bool {
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

// refLookupWildcard finds the most specific wildcard covering w (not w itself).
func (t *refTable) refLookupWildcard(w []byte) *refNode {
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

// refBuilder collects records and builds a refTable. It is not safe for
// concurrent use. Records are deduplicated; the first source wins for the
// provenance shown in debug output.
type refBuilder struct {
	cfg   TableConfig
	zones []zone
	names map[string]*refNode
	wild  map[string]*refNode
	pass  map[string]bool
	seen  map[string]struct{}
	glue  []refGlueRef
	err   error
}

type refGlueRef struct {
	n      *refNode
	target string // wire name of the SRV target
}

// newRefBuilder returns a builder for the given zones.
func newRefBuilder(cfg TableConfig) (*refBuilder, error) {
	if cfg.ClusterDomain == "" && len(cfg.Zones) == 0 {
		return nil, fmt.Errorf("table: no cluster domain and no zones")
	}
	zs := cfg.Zones
	if len(zs) == 0 {
		zs = []string{cfg.ClusterDomain}
	}
	b := &refBuilder{
		cfg:   cfg,
		names: map[string]*refNode{},
		wild:  map[string]*refNode{},
		pass:  map[string]bool{},
		seen:  map[string]struct{}{},
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

func (b *refBuilder) refInZone(w []byte) bool {
	for _, z := range b.zones {
		if isSubdomain(w, z.name) {
			return true
		}
	}
	return false
}

// refNodeFor returns the refNode of w, creating it and, under a zone, its
// ancestors up to the apex as empty non-terminals.
func (b *refBuilder) refNodeFor(w []byte) *refNode {
	if n, ok := b.names[string(w)]; ok {
		return n
	}
	n := &refNode{inZone: b.refInZone(w)}
	b.names[string(w)] = n
	if n.inZone {
		for p := parentName(w); p != nil && b.refInZone(p); p = parentName(p) {
			if _, ok := b.names[string(p)]; ok {
				break
			}
			b.names[string(p)] = &refNode{inZone: true}
		}
	}
	return n
}

func (b *refBuilder) add(n *refNode, key string, r refRR, src string) {
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

func refAddrRR(ip netip.Addr) refRR {
	ip = ip.Unmap()
	if ip.Is4() {
		a := ip.As4()
		return refRR{typ: TypeA, rdata: a[:]}
	}
	a := ip.As16()
	return refRR{typ: TypeAAAA, rdata: a[:]}
}

// HasName reports whether name already has records or exists as an empty
// non-terminal.
func (b *refBuilder) HasName(name string) bool {
	w, err := wire.EncodeName(name)
	if err != nil {
		return false
	}
	_, ok := b.names[string(w)]
	return ok
}

// HasRecords reports whether name already owns records.
func (b *refBuilder) HasRecords(name string) bool {
	w, err := wire.EncodeName(name)
	if err != nil {
		return false
	}
	n, ok := b.names[string(w)]
	return ok && len(n.rrs) > 0
}

// AddAddress adds an A or AAAA record (by the address family) for name.
func (b *refBuilder) AddAddress(name string, ip netip.Addr, src string) error {
	if !ip.IsValid() {
		return fmt.Errorf("table: %s: invalid address", name)
	}
	w, err := wire.EncodeName(name)
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	n := b.refNodeFor(w)
	if n.cname {
		return fmt.Errorf("table: %s: already a CNAME", name)
	}
	b.add(n, string(w), refAddrRR(ip), src)
	return nil
}

// AddWildcardAddress adds an address for a wildcard pattern "*.suffix". A
// query for any name below suffix without an exact entry is answered from the
// most specific wildcard, with the queried name as owner.
func (b *refBuilder) AddWildcardAddress(pattern string, ip netip.Addr, src string) error {
	suffix, ok := strings.CutPrefix(pattern, "*.")
	if !ok || strings.Contains(suffix, "*") {
		return fmt.Errorf("table: %q: not a wildcard of the form *.suffix", pattern)
	}
	if !ip.IsValid() {
		return fmt.Errorf("table: %s: invalid address", pattern)
	}
	w, err := wire.EncodeName(suffix)
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	n, ok := b.wild[string(w)]
	if !ok {
		n = &refNode{inZone: b.refInZone(w)}
		b.wild[string(w)] = n
	}
	b.add(n, "*"+string(w), refAddrRR(ip), src)
	return nil
}

// AddCNAME makes name an alias of target (an ExternalName service). A CNAME
// owner holds nothing else.
func (b *refBuilder) AddCNAME(name, target, src string) error {
	w, err := wire.EncodeName(name)
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	t, err := wire.EncodeName(target)
	if err != nil {
		return fmt.Errorf("table: CNAME target: %w", err)
	}
	n := b.refNodeFor(w)
	if len(n.rrs) > 0 && !n.cname {
		return fmt.Errorf("table: %s: has other records, cannot be a CNAME", name)
	}
	if n.cname {
		return fmt.Errorf("table: %s: already a CNAME", name)
	}
	b.add(n, string(w), refRR{typ: TypeCNAME, rdata: t}, src)
	return nil
}

// AddSRV adds an SRV record. The A/AAAA records of target, if the table
// holds any when Build runs, go to the additional section.
func (b *refBuilder) AddSRV(name string, priority, weight, port uint16, target, src string) error {
	w, err := wire.EncodeName(name)
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	t, err := wire.EncodeName(target)
	if err != nil {
		return fmt.Errorf("table: SRV target: %w", err)
	}
	n := b.refNodeFor(w)
	if n.cname {
		return fmt.Errorf("table: %s: already a CNAME", name)
	}
	rd := make([]byte, 6, 6+len(t))
	binary.BigEndian.PutUint16(rd[0:], priority)
	binary.BigEndian.PutUint16(rd[2:], weight)
	binary.BigEndian.PutUint16(rd[4:], port)
	rd = append(rd, t...)
	b.add(n, string(w), refRR{typ: TypeSRV, rdata: rd}, src)
	b.glue = append(b.glue, refGlueRef{n: n, target: string(t)})
	return nil
}

// AddPTR adds the reverse record of ip pointing at target.
func (b *refBuilder) AddPTR(ip netip.Addr, target, src string) error {
	if !ip.IsValid() {
		return fmt.Errorf("table: PTR for %s: invalid address", target)
	}
	w := mustEncodeName(ReverseName(ip))
	t, err := wire.EncodeName(target)
	if err != nil {
		return fmt.Errorf("table: PTR target: %w", err)
	}
	n := b.refNodeFor(w)
	b.add(n, string(w), refRR{typ: TypePTR, rdata: t}, src)
	return nil
}

// AddTXT adds a TXT record holding one character-string.
func (b *refBuilder) AddTXT(name, text, src string) error {
	if len(text) > 255 {
		return fmt.Errorf("table: %s: TXT string longer than 255 bytes", name)
	}
	w, err := wire.EncodeName(name)
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	n := b.refNodeFor(w)
	if n.cname {
		return fmt.Errorf("table: %s: already a CNAME", name)
	}
	rd := append([]byte{byte(len(text))}, text...)
	b.add(n, string(w), refRR{typ: TypeTXT, rdata: rd}, src)
	return nil
}

// AddPassThrough leaves name and every name below it that the table does
// not hold to the upstream instead of answering NXDOMAIN: for objects that
// could not be loaded (a malformed Service), whose names the cluster DNS may
// still know.
func (b *refBuilder) AddPassThrough(name string) error {
	w, err := wire.EncodeName(name)
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	b.pass[string(w)] = true
	return nil
}

// AddEmpty makes name exist without records (an empty non-terminal), so it
// answers NODATA rather than NXDOMAIN.
func (b *refBuilder) AddEmpty(name string) error {
	w, err := wire.EncodeName(name)
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	b.refNodeFor(w)
	return nil
}

// Build finishes the table: zone apex records (SOA, NS), dns-version TXT,
// ns.dns.<zone> addresses and SRV glue. The builder must not be used after.
func (b *refBuilder) Build() *refTable {
	const apexSrc = "meshdns"
	t := &refTable{names: b.names, wild: b.wild, pass: b.pass, serial: b.cfg.Serial}
	for i := range b.zones {
		z := &b.zones[i]
		zname := wire.DecodeName(z.name)
		ns := mustEncodeName("ns.dns." + zname)
		host := mustEncodeName("hostmaster." + zname)
		z.soaPfx = make([]byte, 0, len(ns)+len(host)+4)
		z.soaPfx = append(z.soaPfx, ns...)
		z.soaPfx = append(z.soaPfx, host...)
		z.soaPfx = binary.BigEndian.AppendUint32(z.soaPfx, b.cfg.Serial)
		apex := b.refNodeFor(z.name)
		b.add(apex, string(z.name), refRR{typ: TypeNS, rdata: ns}, apexSrc)
		for _, ip := range b.cfg.Nameservers {
			b.add(b.refNodeFor(ns), string(ns), refAddrRR(ip), apexSrc)
		}
	}
	if b.cfg.ClusterDomain != "" {
		cw := mustEncodeName(b.cfg.ClusterDomain)
		if b.refInZone(cw) {
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
					r.glue = append(r.glue, refRR{typ: a.typ, rdata: a.rdata})
				}
			}
		}
	}
	st := TableStats{ByType: map[string]int{}}
	finish := func(n *refNode) {
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

// refPlan is what the engine decided to answer for one question.
type refPlan struct {
	rcode   uint16
	rrs     []refRR // answer records, one type (or all, for ANY)
	rotate  bool    // rotate rrs by the query ID
	chase   []refRR // the CNAME target's records, after the CNAME (owner: the target)
	zone    *zone   // SOA of this zone in the authority section (negative answers)
	soaAns  *zone   // SOA of this zone in the answer section (apex SOA query)
	reason  verdict.Reason
	podType uint16 // a synthesized pod address record, when non-zero
	podLen  int
	podAddr [16]byte
}

// refResolve decides how to answer q from t. It returns reason ReasonNotOwned
// when the question must go to the real server.
func (e *Engine) refResolve(t *refTable, q *wire.Query, p *refPlan) {
	name := q.Name()
	n := t.names[string(name)]
	z := t.refZoneOf(name)
	if n == nil {
		n = t.refLookupWildcard(name)
	}
	if n != nil {
		if n.inZone || z != nil {
			e.refFromNode(t, n, q, z, p, true)
			if p.reason == verdict.ReasonNoData && z != nil && string(z.name) == string(name) && q.QType == TypeSOA {
				p.reason, p.soaAns, p.zone = verdict.ReasonAnswered, z, nil
			}
		} else {
			e.refFromNode(t, n, q, nil, p, false)
		}
		return
	}
	if z == nil || t.refPassedThrough(name) {
		p.reason = verdict.ReasonNotOwned
		return
	}
	if t.podZone != nil && isSubdomain(name, t.podZone) {
		var pp plan
		e.podRecord(&Table{podZone: t.podZone}, q, z, &pp)
		p.rcode, p.zone, p.reason, p.podType, p.podLen, p.podAddr = pp.rcode, pp.zone, pp.reason, pp.podType, pp.podLen, pp.podAddr
		return
	}
	p.rcode, p.zone, p.reason = wire.RcodeNXDomain, z, verdict.ReasonNXDomain
}

// refFromNode answers from a refNode. Inside an authoritative zone a missing type
// is NODATA with the zone's SOA; outside (ServiceEntry hosts, reverse names)
// only address questions get NODATA, other types go upstream.
func (e *Engine) refFromNode(t *refTable, n *refNode, q *wire.Query, z *zone, p *refPlan, authoritative bool) {
	switch {
	case n.cname:
		e.refFromCNAME(t, n, q, p)
		return
	case q.QType == TypeANY && len(n.rrs) > 0:
		p.rrs, p.reason = n.rrs, verdict.ReasonAnswered
		return
	}
	if rs := n.refTypeRange(q.QType); len(rs) > 0 {
		p.rrs, p.rotate, p.reason = rs, true, verdict.ReasonAnswered
		return
	}
	if authoritative {
		p.zone, p.reason = z, verdict.ReasonNoData
		return
	}
	if n.hosts && (q.QType == TypeA || q.QType == TypeAAAA) {
		p.reason = verdict.ReasonNoData
		return
	}
	p.reason = verdict.ReasonNotOwned
}

// refFromCNAME answers an alias (an ExternalName service). A CNAME or ANY
// question gets the CNAME alone. Other types need the target's records too,
// as CoreDNS adds them: stub resolvers (glibc, Go) do not chase a CNAME
// themselves. When the table holds the target, its records follow the
// CNAME; otherwise the question goes upstream, where the cluster DNS knows
// the same alias and resolves the target.
func (e *Engine) refFromCNAME(t *refTable, n *refNode, q *wire.Query, p *refPlan) {
	p.rrs = n.rrs
	if q.QType == TypeCNAME || q.QType == TypeANY {
		p.reason = verdict.ReasonAnswered
		return
	}
	target := n.rrs[0].rdata
	tn := t.names[string(target)]
	if tn == nil {
		tn = t.refLookupWildcard(target)
	}
	if tn == nil || tn.cname {
		p.rrs, p.reason = nil, verdict.ReasonNotOwned
		return
	}
	p.chase, p.reason = tn.refTypeRange(q.QType), verdict.ReasonAnswered
}

// refRespond writes the response to q over the query message at the start of
// m, using at most limit bytes. It returns the response length (0 when the
// query is passed through), the reason and whether TC was set.
func (e *Engine) refRespond(t *refTable, m []byte, q *wire.Query, limit int) (int, verdict.Reason, bool) {
	var p refPlan
	e.refResolve(t, q, &p)
	if !p.reason.Answered() {
		return 0, p.reason, false
	}
	reserve := 0
	if q.EDNS {
		reserve = wire.OptRRLen
	}
	if q.QEnd+reserve > limit {
		return 0, verdict.ReasonNoRoom, false
	}
	w := wire.Writer{B: m, Off: q.QEnd, Limit: limit - reserve}
	var an, ns, ar int
	tc := false
	ttl := e.cfg.TTL

	// Answer section.
	switch {
	case p.podType != 0:
		addr := p.podAddr
		pod := refRR{typ: p.podType, rdata: addr[:p.podLen]}
		if _, ok := refRecord(&w, wire.HeaderLen, &pod, ttl); ok {
			an++
		} else {
			tc = true
		}
	case p.soaAns != nil:
		if w.SOA(wire.HeaderLen, p.soaAns.soaPfx, ttl, e.cfg.NegativeTTL) {
			an++
		} else {
			tc = true
		}
	default:
		cnt := len(p.rrs)
		start := 0
		if p.rotate && cnt > 1 {
			start = int(q.ID) % cnt
		}
		for i := 0; i < cnt; i++ {
			at, ok := refRecord(&w, wire.HeaderLen, &p.rrs[(start+i)%cnt], ttl)
			if !ok {
				tc = true
				break
			}
			an++
			if i == 0 && len(p.chase) > 0 && at <= 0x3fff {
				// The CNAME target's records, owned by the name in its rdata.
				cstart := int(q.ID) % len(p.chase)
				for j := range p.chase {
					if _, ok := refRecord(&w, at, &p.chase[(cstart+j)%len(p.chase)], ttl); !ok {
						tc = true
						break
					}
					an++
				}
			}
		}
	}

	// Authority: the zone's SOA for negative answers.
	if !tc && p.zone != nil {
		owner := wire.HeaderLen + q.NameLen - len(p.zone.name)
		if w.SOA(owner, p.zone.soaPfx, e.cfg.NegativeTTL, e.cfg.NegativeTTL) {
			ns++
		} else {
			tc = true
		}
	}

	// Additional: SRV target addresses, when everything else fit. Each
	// glue record's owner points at the target name inside the SRV rdata.
	if !tc && an > 0 && len(p.rrs) > 0 && p.rrs[0].typ == TypeSRV {
		ar += e.refGlue(&w, &p, q, an, ttl)
	}

	if q.EDNS {
		w.Limit += reserve
		w.OPT(q.ResponseSize(e.cfg.EDNSSize), q.DO)
		ar++
	}

	flags := uint16(wire.FlagQR|wire.FlagAA|wire.FlagRA) | q.Flags&(wire.FlagRD|wire.FlagCD) | p.rcode
	if tc {
		flags |= wire.FlagTC
	}
	binary.BigEndian.PutUint16(m[2:], flags)
	binary.BigEndian.PutUint16(m[6:], uint16(an))
	binary.BigEndian.PutUint16(m[8:], uint16(ns))
	binary.BigEndian.PutUint16(m[10:], uint16(ar))
	return w.Off, p.reason, tc
}

// glue writes the addresses of the targets of the an SRV answers written
// after the question, in the order they were written.
func (e *Engine) refGlue(w *wire.Writer, p *refPlan, q *wire.Query, an int, ttl uint32) int {
	cnt := len(p.rrs)
	start := 0
	if p.rotate && cnt > 1 {
		start = int(q.ID) % cnt
	}
	off := q.QEnd
	written := 0
	for i := 0; i < an; i++ {
		r := &p.rrs[(start+i)%cnt]
		rdlen := int(binary.BigEndian.Uint16(w.B[off+10:]))
		target := off + 12 + 6
		off += 12 + rdlen
		if target > 0x3fff {
			return written
		}
		for j := range r.glue {
			if _, ok := refRecord(w, target, &r.glue[j], ttl); !ok {
				return written
			}
			written++
		}
	}
	return written
}

// record writes a whole record with pre-encoded rdata.
func refRecord(w *wire.Writer, ownerPtr int, r *refRR, ttl uint32) (rdataOff int, ok bool) {
	at := w.Raw(ownerPtr, r.typ, ttl, r.rdata)
	return at, at >= 0
}

// Records lists every record of the table (empty non-terminals excluded),
// sorted by name, type and data.
func (t *refTable) Records() []Record {
	var out []Record
	emit := func(owner string, n *refNode) {
		src := strings.Join(n.src, ", ")
		for _, r := range n.rrs {
			out = append(out, Record{Name: owner, Type: typeString(r.typ), Data: rdataString(r.typ, r.rdata), Source: src})
		}
	}
	for k, n := range t.names {
		emit(wire.DecodeName([]byte(k)), n)
	}
	for k, n := range t.wild {
		emit("*."+wire.DecodeName([]byte(k)), n)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Data < b.Data
	})
	return out
}

// Names lists every owner name the table holds, empty non-terminals included.
func (t *refTable) Names() []string {
	out := make([]string, 0, len(t.names))
	for k := range t.names {
		out = append(out, wire.DecodeName([]byte(k)))
	}
	sort.Strings(out)
	return out
}
