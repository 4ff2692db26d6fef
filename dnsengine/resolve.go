package dnsengine

import "github.com/meshdns/meshdns/dnsengine/wire"

// plan is what the engine decided to answer for one question.
type plan struct {
	rcode   uint16
	rrs     []record // answer records, one type (or all, for ANY)
	rotate  bool     // rotate rrs by the query ID
	chase   []record // the CNAME target's records, after the CNAME (owner: the target)
	zone    *zone    // SOA of this zone in the authority section (negative answers)
	soaAns  *zone    // SOA of this zone in the answer section (apex SOA query)
	reason  Reason
	podType uint16 // a synthesized pod address record, when non-zero
	podLen  int
	podAddr [16]byte
}

// resolve decides how to answer q from t. It returns reason ReasonNotOwned
// when the question must go to the real server.
func (e *Engine) resolve(t *Table, q *wire.Query, p *plan) {
	name := q.Name()
	n := t.lookup(name)
	z := t.zoneOf(name)
	if n == noNode {
		n = t.lookupWildcard(name)
	}
	if n != noNode {
		if t.flags(n)&nodeInZone != 0 || z != nil {
			e.fromNode(t, n, q, z, p, true)
			if p.reason == ReasonNoData && z != nil && string(z.name) == string(name) && q.QType == TypeSOA {
				p.reason, p.soaAns, p.zone = ReasonAnswered, z, nil
			}
		} else {
			e.fromNode(t, n, q, nil, p, false)
		}
		return
	}
	if z == nil && e.shortName(t, q, p) {
		return
	}
	if z == nil || t.passedThrough(name) {
		p.reason = ReasonNotOwned
		return
	}
	if t.podZone != nil && isSubdomain(name, t.podZone) {
		e.podRecord(t, q, z, p)
		return
	}
	p.rcode, p.zone, p.reason = wire.RcodeNXDomain, z, ReasonNXDomain
}

// fromNode answers from a node. Inside an authoritative zone a missing type
// is NODATA with the zone's SOA; outside (ServiceEntry hosts, reverse names)
// only address questions get NODATA, other types go upstream.
func (e *Engine) fromNode(t *Table, n uint32, q *wire.Query, z *zone, p *plan, authoritative bool) {
	f := t.flags(n)
	switch rs := t.records(n); {
	case f&nodeCNAME != 0:
		e.fromCNAME(t, rs, q, p)
		return
	case q.QType == TypeANY && len(rs) > 0:
		p.rrs, p.reason = rs, ReasonAnswered
		return
	}
	if rs := t.typeRange(n, q.QType); len(rs) > 0 {
		p.rrs, p.rotate, p.reason = rs, true, ReasonAnswered
		return
	}
	if authoritative {
		p.zone, p.reason = z, ReasonNoData
		return
	}
	if f&nodeHosts != 0 && (q.QType == TypeA || q.QType == TypeAAAA) {
		p.reason = ReasonNoData
		return
	}
	p.reason = ReasonNotOwned
}

// podRecord answers <a-b-c-d>.<ns>.pod.<zone> as CoreDNS's "pods insecure".
func (e *Engine) podRecord(t *Table, q *wire.Query, z *zone, p *plan) {
	if e.cfg.PodRecords == PodRecordsDisabled {
		p.rcode, p.zone, p.reason = wire.RcodeNXDomain, z, ReasonNXDomain
		return
	}
	// k: the label index at which pod.<zone> starts.
	k := -1
	for i := 0; i < q.Labels; i++ {
		if string(q.SuffixAt(i)) == string(t.podZone) {
			k = i
			break
		}
	}
	switch k {
	case 0, 1: // pod.<zone>, <ns>.pod.<zone>: empty non-terminals
		p.zone, p.reason = z, ReasonNoData
		return
	case 2:
		label := q.LName[q.LabelOff[0]+1 : q.LabelOff[1]]
		if l, ok := parseDashedAddr(label, &p.podAddr); ok {
			typ := TypeA
			if l == 16 {
				typ = TypeAAAA
			}
			if q.QType == typ || q.QType == TypeANY {
				p.podType, p.podLen, p.reason = typ, l, ReasonAnswered
				return
			}
			p.zone, p.reason = z, ReasonNoData
			return
		}
	}
	p.rcode, p.zone, p.reason = wire.RcodeNXDomain, z, ReasonNXDomain
}

// fromCNAME answers an alias (an ExternalName service) whose records are
// rs. A CNAME or ANY question gets the CNAME alone. Other types need the
// target's records too, as CoreDNS adds them: stub resolvers (glibc, Go) do
// not chase a CNAME themselves. When the table holds the target, its
// records follow the CNAME; otherwise the question goes upstream, where the
// cluster DNS knows the same alias and resolves the target.
func (e *Engine) fromCNAME(t *Table, rs []record, q *wire.Query, p *plan) {
	p.rrs = rs
	if q.QType == TypeCNAME || q.QType == TypeANY {
		p.reason = ReasonAnswered
		return
	}
	tn := rs[0].data
	if t.flags(tn)&nodeExists == 0 {
		var target [wire.MaxNameLen]byte
		tn = t.lookupWildcard(target[:t.putName(target[:], tn)])
	}
	if tn == noNode || t.flags(tn)&nodeCNAME != 0 {
		p.rrs, p.reason = nil, ReasonNotOwned
		return
	}
	p.chase, p.reason = t.typeRange(tn, q.QType), ReasonAnswered
}
