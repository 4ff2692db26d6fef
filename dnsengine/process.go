package dnsengine

import (
	"encoding/binary"

	"github.com/meshdns/meshdns/dnsengine/tcpstack"
)

// Process inspects one packet. pkt holds the whole IPv4 or IPv6 packet;
// cap(pkt) is the room the response may use. On a Rewrite verdict the
// response has been written over pkt and Result.Packet aliases it; on any
// other verdict pkt is unchanged. Process does not allocate.
func (e *Engine) Process(pkt []byte) Result {
	var ip ipPacket
	if r := decodeIP(pkt, &ip); r != 0 {
		return Result{Reason: r}
	}
	if r := decodeTransport(pkt, &ip); r != 0 {
		seg := tcpstack.Layout{V6: ip.v6, Off: ip.l4, Len: ip.l4Len}
		if r == ReasonTCP && e.tcp != nil { // DNS over TCP: package tcpstack
			return e.tcp.Process(pkt, seg)
		}
		if r == ReasonNotDNSQuery && ip.proto == protoTCP && ip.sport == dnsPort && e.tcp != nil {
			return e.tcp.ServerReset(pkt, seg) // the nameserver's RST
		}
		if r == ReasonNotDNSQuery && e.cache != nil { // UDP from port 53: cache_learn.go
			return e.cacheResponse(pkt, &ip)
		}
		return Result{Reason: r}
	}
	t := e.reg.Table()
	if t == nil {
		return Result{Reason: ReasonNotReady}
	}
	dnsOff := ip.l4 + 8
	msgLen := ip.l4Len - 8
	var q query
	if r := parseQuery(pkt[dnsOff:dnsOff+msgLen], &q); r != 0 {
		return Result{Reason: r}
	}
	limit := 512
	if q.edns {
		limit = int(min(max(q.udpSize, 512), e.cfg.EDNSSize))
	}
	buf := pkt[dnsOff:cap(pkt)]
	if limit > len(buf) {
		limit = len(buf)
	}
	n, r, tc := e.respond(t, buf, &q, limit)
	if n == 0 {
		if r == ReasonNotOwned && e.cache != nil { // cache_answer.go
			return e.cacheQuery(pkt, &ip, &q, limit)
		}
		return Result{Reason: r}
	}
	total := finishUDPResponse(pkt[:cap(pkt)], &ip, n)
	return Result{Verdict: Rewrite, Reason: r, Packet: pkt[:total], Truncated: tc}
}

// respond writes the response to q over the query message at the start of
// m, using at most limit bytes. It returns the response length (0 when the
// query is passed through), the reason and whether TC was set.
func (e *Engine) respond(t *Table, m []byte, q *query, limit int) (int, Reason, bool) {
	var p plan
	e.resolve(t, q, &p)
	if !p.reason.Answered() {
		return 0, p.reason, false
	}
	reserve := 0
	if q.edns {
		reserve = optRRLen
	}
	if q.qEnd+reserve > limit {
		return 0, ReasonNoRoom, false
	}
	w := msgWriter{b: m, off: q.qEnd, limit: limit - reserve}
	var an, ns, ar int
	tc := false
	ttl := e.cfg.TTL

	// Answer section.
	switch {
	case p.podType != 0:
		if w.raw(headerLen, p.podType, ttl, p.podAddr[:p.podLen]) {
			an++
		} else {
			tc = true
		}
	case p.soaAns != nil:
		if w.soa(headerLen, p.soaAns, ttl, e.cfg.NegativeTTL) {
			an++
		} else {
			tc = true
		}
	default:
		cnt := len(p.rrs)
		start := 0
		if p.rotate && cnt > 1 {
			start = int(q.id) % cnt
		}
		for i := 0; i < cnt; i++ {
			at, ok := w.record(headerLen, t, &p.rrs[(start+i)%cnt], ttl)
			if !ok {
				tc = true
				break
			}
			an++
			if i == 0 && len(p.chase) > 0 && at <= 0x3fff {
				// The CNAME target's records, owned by the name in its rdata.
				cstart := int(q.id) % len(p.chase)
				for j := range p.chase {
					if _, ok := w.record(at, t, &p.chase[(cstart+j)%len(p.chase)], ttl); !ok {
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
		owner := headerLen + q.nameLen - len(p.zone.name)
		if w.soa(owner, p.zone, e.cfg.NegativeTTL, e.cfg.NegativeTTL) {
			ns++
		} else {
			tc = true
		}
	}

	// Additional: SRV target addresses, when everything else fit. Each
	// glue record's owner points at the target name inside the SRV rdata.
	if !tc && an > 0 && len(p.rrs) > 0 && p.rrs[0].typ == TypeSRV {
		ar += e.glue(t, &w, &p, q, an, ttl)
	}

	if q.edns {
		w.limit += reserve
		w.opt(min(max(q.udpSize, 512), e.cfg.EDNSSize), q.do)
		ar++
	}

	flags := uint16(flagQR|flagAA|flagRA) | q.flags&(flagRD|flagCD) | p.rcode
	if tc {
		flags |= flagTC
	}
	binary.BigEndian.PutUint16(m[2:], flags)
	binary.BigEndian.PutUint16(m[6:], uint16(an))
	binary.BigEndian.PutUint16(m[8:], uint16(ns))
	binary.BigEndian.PutUint16(m[10:], uint16(ar))
	return w.off, p.reason, tc
}

// glue writes the addresses of the targets of the an SRV answers written
// after the question, in the order they were written.
func (e *Engine) glue(t *Table, w *msgWriter, p *plan, q *query, an int, ttl uint32) int {
	cnt := len(p.rrs)
	start := 0
	if cnt > 1 {
		start = int(q.id) % cnt
	}
	off := q.qEnd
	written := 0
	for i := 0; i < an; i++ {
		r := &p.rrs[(start+i)%cnt]
		rdlen := int(binary.BigEndian.Uint16(w.b[off+10:]))
		target := off + 12 + 6
		off += 12 + rdlen
		if target > 0x3fff {
			return written
		}
		if r.typ != TypeSRV || t.flags(r.data)&nodeExists == 0 {
			continue
		}
		full := false
		t.glueRecords(r.data, func(a *record) bool {
			if _, ok := w.record(target, t, a, ttl); !ok {
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
