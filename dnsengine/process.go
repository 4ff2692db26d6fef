package dnsengine

import (
	"encoding/binary"

	"github.com/meshdns/meshdns/dnsengine/tcpstack"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/meshdns/meshdns/dnsengine/wire"
)

// Process inspects one packet. pkt holds the whole IPv4 or IPv6 packet;
// cap(pkt) is the room the response may use. On a Rewrite verdict the
// response has been written over pkt and Result.Packet aliases it; on any
// other verdict pkt is unchanged. Process does not allocate.
//
// Process is ProcessQueued with no way to hold the packet: a TCP query
// the TCP stack would forward is answered SERVFAIL.
func (e *Engine) Process(pkt []byte) verdict.Result { return e.ProcessQueued(pkt, nil) }

// ProcessQueued is Process for a packet its queue can hold (q, nil: it
// cannot): the TCP stack holds a segment whose queries it forwards
// through q (tcpstack.Holdable) and returns Verdict Hold.
//
// The packet is decoded once (package wire) and dispatched by its kind: a
// UDP query to the answering core (then the cache), a UDP response to the
// cache, a TCP segment to the TCP stack (tcp.go). Anything
// no handler takes is passed with the reason wire gave it.
func (e *Engine) ProcessQueued(pkt []byte, q tcpstack.Holdable) verdict.Result {
	var p wire.Packet
	switch wire.Decode(pkt, &p) {
	case wire.KindUDPQuery:
		return e.udpQuery(pkt, &p)
	case wire.KindUDPResponse:
		if e.cache != nil {
			return e.cache.Response(pkt, &p)
		}
	case wire.KindTCPSegment:
		if e.tcp != nil {
			seg := tcpstack.Layout{V6: p.V6, Off: p.L4, Len: p.L4Len}
			if p.DstPort == wire.DNSPort {
				return e.tcp.Process(pkt, seg, q)
			}
			return e.tcp.ServerReset(pkt, seg) // the nameserver's RST
		}
	}
	return verdict.Result{Reason: p.Reason}
}

// udpQuery answers the UDP query in pkt (decoded as ip) from the table, or
// hands a query the table does not own to the cache.
func (e *Engine) udpQuery(pkt []byte, ip *wire.Packet) verdict.Result {
	t := e.reg.Table()
	if t == nil {
		return verdict.Result{Reason: verdict.ReasonNotReady}
	}
	var q wire.Query
	if r := wire.ParseQuery(ip.UDPPayload(pkt), &q); r != 0 {
		return verdict.Result{Reason: r}
	}
	limit := q.Limit(e.cfg.EDNSSize)
	buf := pkt[ip.L4+wire.UDPHeaderLen : cap(pkt)]
	if limit > len(buf) {
		limit = len(buf)
	}
	n, r, tc := e.respond(t, buf, &q, limit)
	if n == 0 {
		if r == verdict.ReasonNotOwned && e.cache != nil {
			return e.cache.Query(pkt, ip, &q, limit)
		}
		return verdict.Result{Reason: r}
	}
	total := wire.FinishUDPResponse(pkt[:cap(pkt)], ip, n)
	return verdict.Result{Verdict: verdict.Rewrite, Reason: r, Packet: pkt[:total], Truncated: tc}
}

// respond writes the response to q over the query message at the start of
// m, using at most limit bytes. It returns the response length (0 when the
// query is passed through), the reason and whether TC was set.
func (e *Engine) respond(t *Table, m []byte, q *wire.Query, limit int) (int, verdict.Reason, bool) {
	var p plan
	e.resolve(t, q, &p)
	if p.needRuns {
		return e.respondRuns(t, m, q, limit)
	}
	return e.write(m, q, limit, &p)
}

// respondRuns is respond for a name several segments hold, with room for
// their runs of records.
func (e *Engine) respondRuns(t *Table, m []byte, q *wire.Query, limit int) (int, verdict.Reason, bool) {
	var runs [maxRuns]run
	p := plan{runs: &runs}
	e.resolve(t, q, &p)
	return e.write(m, q, limit, &p)
}

// write writes the response p plans over the query message at the start
// of m, using at most limit bytes.
func (e *Engine) write(m []byte, q *wire.Query, limit int, p *plan) (int, verdict.Reason, bool) {
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
	var rrs, chase []record
	if p.vhi > 0 || p.chi > 0 {
		var vbuf, cbuf rowRecs
		rrs, chase = p.records(&vbuf, &cbuf)
	} else {
		rrs, chase = p.rrs, p.chase
	}
	var an, ns, ar int
	tc := false
	ttl := e.cfg.TTL

	// Answer section.
	switch {
	case p.podType != 0:
		if w.Raw(wire.HeaderLen, p.podType, ttl, p.podAddr[:p.podLen]) >= 0 {
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
	case p.nruns > 0:
		an, tc = writeRuns(&w, p, q, ttl)
	default:
		cnt := len(rrs)
		start := 0
		if p.rotate && cnt > 1 {
			start = int(q.ID) % cnt
		}
		for i := 0; i < cnt; i++ {
			at, ok := writeRecord(&w, wire.HeaderLen, p.seg, &rrs[(start+i)%cnt], ttl)
			if !ok {
				tc = true
				break
			}
			an++
			if i == 0 && len(chase) > 0 && at <= 0x3fff {
				// The CNAME target's records, owned by the name in its rdata.
				cstart := int(q.ID) % len(chase)
				for j := range chase {
					if _, ok := writeRecord(&w, at, p.cseg, &chase[(cstart+j)%len(chase)], ttl); !ok {
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
	if !tc && an > 0 && p.nruns == 0 && len(rrs) > 0 && rrs[0].typ == TypeSRV {
		ar += e.glue(&w, p.seg, rrs, p.rotate, q, an, ttl)
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

// glue writes the addresses of the targets of the an SRV answers of t,
// rrs, written after the question, in the order they were written:
// rotated as the answer was (rotate), or not (an ANY question's).
func (e *Engine) glue(w *wire.Writer, t *segment, rrs []record, rotate bool, q *wire.Query, an int, ttl uint32) int {
	cnt := len(rrs)
	start := 0
	if rotate && cnt > 1 {
		start = int(q.ID) % cnt
	}
	off := q.QEnd
	written := 0
	for i := 0; i < an; i++ {
		r := &rrs[(start+i)%cnt]
		rdlen := int(binary.BigEndian.Uint16(w.B[off+10:]))
		target := off + 12 + 6
		off += 12 + rdlen
		if target > 0x3fff {
			return written
		}
		if r.typ != TypeSRV || t.flags(r.data)&nodeExists == 0 {
			continue
		}
		if t.isRow(r.data) {
			row, _ := t.row(r.data)
			a := rowAddr(row)
			if _, ok := writeRecord(w, target, t, &a, ttl); !ok {
				return written
			}
			written++
			continue
		}
		full := false
		t.glueRecords(r.data, func(a *record) bool {
			if _, ok := writeRecord(w, target, t, a, ttl); !ok {
				full = true
				return false
			}
			written++
			return true
		})
		if full {
			return written
		}
	}
	return written
}

// writeRuns writes the answer records of p's runs, rotated as one list
// when p.rotate. It returns how many it wrote and whether it ran out of
// room.
func writeRuns(w *wire.Writer, p *plan, q *wire.Query, ttl uint32) (an int, tc bool) {
	cnt := 0
	for i := range p.runs[:p.nruns] {
		cnt += len(p.runs[i].records())
	}
	start := 0
	if p.rotate && cnt > 1 {
		start = int(q.ID) % cnt
	}
	for i := 0; i < cnt; i++ {
		j := (start + i) % cnt
		k := 0
		for j >= len(p.runs[k].records()) {
			j -= len(p.runs[k].records())
			k++
		}
		if _, ok := writeRecord(w, wire.HeaderLen, p.runs[k].seg, &p.runs[k].records()[j], ttl); !ok {
			return an, true
		}
		an++
	}
	return an, false
}

// writeRecord writes record r of segment t with w.
func writeRecord(w *wire.Writer, ownerPtr int, t *segment, r *record, ttl uint32) (rdataOff int, ok bool) {
	if namesNode(r.typ) && t.isRow(r.data) {
		return writeRowTarget(w, ownerPtr, t, r, ttl)
	}
	n := t.rdataLen(r)
	at := w.RRHeader(ownerPtr, r.typ, ttl, n)
	if at < 0 {
		return -1, false
	}
	t.putRdata(w.B[at:], r)
	w.Off += n
	return at, true
}

// writeRowTarget is writeRecord for a record naming a row's name (a PTR
// or SRV record): the name derived once, not for its length and again
// for its bytes.
func writeRowTarget(w *wire.Writer, ownerPtr int, t *segment, r *record, ttl uint32) (rdataOff int, ok bool) {
	var buf [wire.MaxNameLen]byte
	name := t.rowName(&buf, r.data)
	n := len(name)
	if r.typ == TypeSRV {
		n += 6
	}
	at := w.RRHeader(ownerPtr, r.typ, ttl, n)
	if at < 0 {
		return -1, false
	}
	if r.typ == TypeSRV {
		binary.BigEndian.PutUint16(w.B[at:], r.a)
		binary.BigEndian.PutUint16(w.B[at+2:], r.b)
		binary.BigEndian.PutUint16(w.B[at+4:], r.c)
	}
	copy(w.B[at+n-len(name):], name)
	w.Off += n
	return at, true
}
