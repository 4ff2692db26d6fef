package dnsengine

import (
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/meshdns/meshdns/dnsengine/wire"
)

// plan is what the engine decided to answer for one question.
type plan struct {
	rcode  uint16
	seg    *segment // the segment of rrs
	rrs    []record // answer records, one type (or all, for ANY)
	rotate bool     // rotate rrs by the query ID
	cseg   *segment // the segment of chase
	chase  []record // the CNAME target's records, after the CNAME (owner: the target)
	// runs, when nruns > 0, replace rrs: the answer of a name several
	// segments hold (a reverse name of several Services), in order. Its
	// storage is respondRuns's, so that the common plan stays small;
	// without it resolve only sets needRuns.
	runs     *[maxRuns]run
	nruns    int
	needRuns bool
	zone     *zone // SOA of this zone in the authority section (negative answers)
	soaAns   *zone // SOA of this zone in the answer section (apex SOA query)
	reason   verdict.Reason
	podType  uint16 // a synthesized pod address record, when non-zero
	podLen   int
	podAddr  [16]byte
	// The records of a row's name (table_rows.go) are not in a segment
	// for rrs and chase to point at: they are derived again as they are
	// written (records), the answer's from row name vn of seg, those
	// chased from cn of cseg, the run [lo, hi) of them, when hi > 0.
	// (A buffer in the plan would be cleared for every query.)
	vn, cn   uint32
	vlo, vhi uint8
	clo, chi uint8
}

// records returns the answer records of p (not its runs) and those of the
// CNAME's target, derived into vbuf and cbuf when they are a row's.
func (p *plan) records(vbuf, cbuf *rowRecs) (rrs, chase []record) {
	rrs, chase = p.rrs, p.chase
	if p.vhi > 0 {
		rrs = p.seg.rowRecords(p.vn, vbuf[:])[p.vlo:p.vhi]
	}
	if p.chi > 0 {
		chase = p.cseg.rowRecords(p.cn, cbuf[:])[p.clo:p.chi]
	}
	return rrs, chase
}

// run is a run of records of one segment: rrs, or the one record of a
// row's reverse name, derived (one).
type run struct {
	seg   *segment
	rrs   []record
	one   [1]record
	isOne bool
}

// records returns the records of the run r.
func (r *run) records() []record {
	if r.isOne {
		return r.one[:]
	}
	return r.rrs
}

// resolve decides how to answer q from t. It returns reason ReasonNotOwned
// when the question must go to the real server.
func (e *Engine) resolve(t *Table, q *wire.Query, p *plan) {
	name := q.Name()
	z := t.zoneOf(name)
	var s *segment
	n := noNode
	if t.rev != nil && isReverse(name) {
		var ps [maxRuns]part
		switch k := t.reverseParts(name, ps[:]); {
		case k < 0:
			p.reason = verdict.ReasonNotOwned
			return
		case k > 1 && p.runs == nil:
			p.needRuns, p.reason = true, verdict.ReasonNotOwned
			return
		case k > 1:
			e.fromParts(ps[:k], q, z, p)
			return
		case k == 1:
			s, n = ps[0].seg, ps[0].n
		}
	} else {
		s, n = t.find(name)
	}
	if n == noNode {
		s, n = t.base, t.base.lookupWildcard(name)
	}
	if n != noNode {
		if s.flags(n)&nodeInZone != 0 || z != nil {
			e.fromNode(t, s, n, q, z, p, true)
			if p.reason == verdict.ReasonNoData && z != nil && string(z.name) == string(name) && q.QType == TypeSOA {
				p.reason, p.soaAns, p.zone = verdict.ReasonAnswered, z, nil
			}
		} else {
			e.fromNode(t, s, n, q, nil, p, false)
		}
		return
	}
	if z == nil && e.shortName(t, q, p) {
		return
	}
	if z == nil || t.passedThrough(name) {
		p.reason = verdict.ReasonNotOwned
		return
	}
	if t.podZone != nil && isSubdomain(name, t.podZone) {
		e.podRecord(t, q, z, p)
		return
	}
	p.rcode, p.zone, p.reason = wire.RcodeNXDomain, z, verdict.ReasonNXDomain
}

// fromNode answers from a node. Inside an authoritative zone a missing type
// is NODATA with the zone's SOA; outside (ServiceEntry hosts, reverse names)
// only address questions get NODATA, other types go upstream.
func (e *Engine) fromNode(t *Table, s *segment, n uint32, q *wire.Query, z *zone, p *plan, authoritative bool) {
	f := s.flags(n)
	p.seg = s
	if s.isRow(n) {
		var buf rowRecs
		rs := s.rowRecords(n, buf[:])
		lo, hi := 0, len(rs)
		if q.QType != TypeANY {
			lo, hi = typeBounds(rs, q.QType)
		}
		if hi > lo {
			p.vn, p.vlo, p.vhi = n, uint8(lo), uint8(hi)
			p.rotate, p.reason = q.QType != TypeANY, verdict.ReasonAnswered
			return
		}
		negative(f, q, z, p, authoritative)
		return
	}
	switch rs := s.nodeRecords(n); {
	case f&nodeCNAME != 0:
		e.fromCNAME(t, s, rs, q, p)
		return
	case q.QType == TypeANY && len(rs) > 0:
		p.rrs, p.reason = rs, verdict.ReasonAnswered
		return
	}
	if rs := typeRun(s.nodeRecords(n), q.QType); len(rs) > 0 {
		p.rrs, p.rotate, p.reason = rs, true, verdict.ReasonAnswered
		return
	}
	negative(f, q, z, p, authoritative)
}

// negative decides the answer for a name that exists without records of
// the type asked.
func negative(f uint32, q *wire.Query, z *zone, p *plan, authoritative bool) {
	if authoritative {
		p.zone, p.reason = z, verdict.ReasonNoData
		return
	}
	if f&nodeHosts != 0 && (q.QType == TypeA || q.QType == TypeAAAA) {
		p.reason = verdict.ReasonNoData
		return
	}
	p.reason = verdict.ReasonNotOwned
}

// podRecord answers <a-b-c-d>.<ns>.pod.<zone> as CoreDNS's "pods insecure".
func (e *Engine) podRecord(t *Table, q *wire.Query, z *zone, p *plan) {
	if e.cfg.PodRecords == PodRecordsDisabled {
		p.rcode, p.zone, p.reason = wire.RcodeNXDomain, z, verdict.ReasonNXDomain
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
		p.zone, p.reason = z, verdict.ReasonNoData
		return
	case 2:
		label := q.LName[q.LabelOff[0]+1 : q.LabelOff[1]]
		if l, ok := parseDashedAddr(label, &p.podAddr); ok {
			typ := TypeA
			if l == 16 {
				typ = TypeAAAA
			}
			if q.QType == typ || q.QType == TypeANY {
				p.podType, p.podLen, p.reason = typ, l, verdict.ReasonAnswered
				return
			}
			p.zone, p.reason = z, verdict.ReasonNoData
			return
		}
	}
	p.rcode, p.zone, p.reason = wire.RcodeNXDomain, z, verdict.ReasonNXDomain
}

// fromCNAME answers an alias (an ExternalName service) whose records are
// rs. A CNAME or ANY question gets the CNAME alone. Other types need the
// target's records too, as CoreDNS adds them: stub resolvers (glibc, Go) do
// not chase a CNAME themselves. When the table holds the target, its
// records follow the CNAME; otherwise the question goes upstream, where the
// cluster DNS knows the same alias and resolves the target.
func (e *Engine) fromCNAME(t *Table, s *segment, rs []record, q *wire.Query, p *plan) {
	p.rrs = rs
	if q.QType == TypeCNAME || q.QType == TypeANY {
		p.reason = verdict.ReasonAnswered
		return
	}
	ts, tn := s, rs[0].data
	if t.groups != nil || s.flags(tn)&nodeExists == 0 {
		// The target may be another segment's, or a wildcard's.
		var target [wire.MaxNameLen]byte
		w := target[:s.putName(target[:], tn)]
		if ts, tn = t.find(w); tn == noNode {
			ts, tn = t.base, t.base.lookupWildcard(w)
		}
	}
	if tn == noNode || ts.flags(tn)&nodeCNAME != 0 {
		p.rrs, p.reason = nil, verdict.ReasonNotOwned
		return
	}
	p.cseg, p.reason = ts, verdict.ReasonAnswered
	if ts.isRow(tn) {
		var buf rowRecs
		lo, hi := typeBounds(ts.rowRecords(tn, buf[:]), q.QType)
		p.cn, p.clo, p.chi = tn, uint8(lo), uint8(hi)
		return
	}
	p.chase = typeRun(ts.nodeRecords(tn), q.QType)
}

// anyOrder is every type a table holds, in the order of a node's records.
var anyOrder = [...]uint16{TypeA, TypeNS, TypeCNAME, TypePTR, TypeTXT, TypeAAAA, TypeSRV}

// fromParts answers a name several segments hold, their records in
// segment order within each type, as one build would have sorted them.
func (e *Engine) fromParts(ps []part, q *wire.Query, z *zone, p *plan) {
	var f uint32
	for _, x := range ps {
		f |= x.seg.flags(x.n)
	}
	if f&nodeCNAME != 0 {
		p.reason = verdict.ReasonNotOwned
		return
	}
	add := func(x part, typ uint16) bool {
		var r run
		if x.seg.isRow(x.n) {
			// A row's reverse name: one PTR record.
			var buf rowRecs
			rs := x.seg.rowRecords(x.n, buf[:])
			lo, hi := typeBounds(rs, typ)
			switch hi - lo {
			case 0:
				return true
			case 1:
				r = run{seg: x.seg, one: [1]record{rs[lo]}, isOne: true}
			default:
				return false
			}
		} else if rs := typeRun(x.seg.nodeRecords(x.n), typ); len(rs) > 0 {
			r = run{seg: x.seg, rrs: rs}
		} else {
			return true
		}
		if p.nruns == len(p.runs) {
			return false
		}
		p.runs[p.nruns] = r
		p.nruns++
		return true
	}
	one := [1]uint16{q.QType}
	types := one[:]
	if q.QType == TypeANY {
		types = anyOrder[:]
	}
	for _, typ := range types {
		for _, x := range ps {
			if !add(x, typ) {
				p.nruns, p.reason = 0, verdict.ReasonNotOwned
				return
			}
		}
	}
	if p.nruns > 0 {
		p.rotate, p.reason = q.QType != TypeANY, verdict.ReasonAnswered
		return
	}
	negative(f, q, z, p, f&nodeInZone != 0 || z != nil)
}
