package cache

import (
	"encoding/binary"
	"time"

	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/meshdns/meshdns/dnsengine/wire"
)

// cachedAnswer is what a hit copies out of an entry under the shard lock.
type cachedAnswer struct {
	flags      uint16
	an, ns, ar uint16
	n          int    // record bytes copied after the question
	ttl        uint32 // TTL of every record in the answer
	stale      bool
}

// Query handles a UDP query (decoded as ip, parsed as q) the name table
// does not own. With a fresh
// entry (or, with serve-stale, a stale one) it rewrites pkt into the cached
// response; otherwise it remembers the query so that its response can be
// learned, and passes it on with reason verdict.ReasonNotOwned. limit is the
// response size the client accepts (wire.Query.Limit, capped by the
// room in pkt).
func (c *Cache) Query(pkt []byte, ip *wire.Packet, q *wire.Query, limit int) verdict.Result {
	now := c.now()
	do, cd := q.DO, q.Flags&wire.FlagCD != 0
	name := q.Name()
	server := ip.Dst(pkt)
	h := c.keyHash(server, name, q.QType, q.QClass, do, cd)
	s := c.shard(h)
	m := pkt[ip.L4+wire.UDPHeaderLen : cap(pkt)]
	room := limit // bytes for the message without our OPT record
	if q.EDNS {
		room -= wire.OptRRLen
	}
	stale := int64(c.cfg.Stale) * int64(time.Second)

	var a cachedAnswer
	var req RefreshRequest
	hit, refresh := false, false
	s.mu.Lock()
	if i := s.lookup(h, server, name, q.QType, q.QClass, do, cd); i >= 0 {
		en := &s.entries[i]
		age := now - en.stored
		ttl := int64(en.ttl) * int64(time.Second)
		canRefresh := en.refreshAt == 0 || now-en.refreshAt >= int64(cacheRefreshRetry)
		switch {
		case age >= 0 && age < ttl:
			hit = true
			a.ttl = en.ttl - uint32(age/int64(time.Second))
			if p := c.cfg.Prefetch; p > 0 && en.hits+1 >= p && (a.ttl <= 1 || uint64(a.ttl)*10 <= uint64(en.ttl)) {
				refresh = canRefresh
			}
		case stale > 0 && age >= ttl && age < ttl+stale:
			hit, a.stale, a.ttl = true, true, StaleAnswerTTL
			refresh = canRefresh
		case en.dead(now, stale):
			s.remove(i)
			s.stats.Expired.Add(1)
		}
		if hit && (int(en.qEnd) != q.QEnd || room < q.QEnd) {
			hit, refresh = false, false // cannot happen for the same question; no room
		}
		if hit {
			a.n = s.copyOut(en, int(en.qEnd), int(en.msgLen), m[q.QEnd:room])
			a.flags, a.an, a.ns, a.ar = en.flags, en.an, en.ns, en.ar
			en.ref = true
			en.hits++
			if refresh {
				en.refreshAt = max(now, 1)
				s.refreshRequestFor(en, &req)
			}
		}
	}
	switch {
	case !hit:
		s.stats.Misses.Add(1)
	case a.stale:
		s.stats.Stale.Add(1)
	default:
		s.stats.Hits.Add(1)
	}
	s.mu.Unlock()

	if !hit {
		c.remember(pkt, ip, q, do, cd, now)
		return verdict.Result{Reason: verdict.ReasonNotOwned}
	}
	if refresh {
		if c.cfg.Refresher.Refresh(req) {
			s.stats.Refreshes.Add(1)
		} else {
			s.stats.RefreshDropped.Add(1)
		}
	}
	return c.writeCached(pkt, ip, q, &a, limit)
}

// writeCached completes the response whose records a copied after the
// query's question: TTLs, header, OPT, then the IP and UDP headers.
func (c *Cache) writeCached(pkt []byte, ip *wire.Packet, q *wire.Query, a *cachedAnswer, limit int) verdict.Result {
	m := pkt[ip.L4+wire.UDPHeaderLen : cap(pkt)]
	end := q.QEnd + a.n
	off := q.QEnd
	total := int(a.an) + int(a.ns) + int(a.ar)
	written := 0
	for written < total {
		next, ok := cacheSkipName(m[:end], off, nil)
		if !ok || next+10 > end {
			break
		}
		rEnd := next + 10 + int(binary.BigEndian.Uint16(m[next+8:]))
		if rEnd > end {
			break
		}
		binary.BigEndian.PutUint32(m[next+4:], a.ttl)
		off = rEnd
		written++
	}
	// Only a cut into the answer or authority section sets TC (RFC 2181
	// section 9); additional records that do not fit are left out.
	tc := written < int(a.an)+int(a.ns)
	an := min(written, int(a.an))
	ns := min(written-an, int(a.ns))
	ar := written - an - ns

	if q.EDNS {
		w := wire.Writer{B: m, Off: off, Limit: limit}
		w.OPT(q.ResponseSize(c.ednsSize), q.DO)
		off = w.Off
		ar++
	}
	fl := uint16(wire.FlagQR) | q.Flags&(wire.FlagRD|wire.FlagCD) | a.flags&(wire.FlagRA|0xf)
	if a.flags&wire.FlagAD != 0 && (q.Flags&wire.FlagAD != 0 || q.DO) {
		fl |= wire.FlagAD
	}
	if tc {
		fl |= wire.FlagTC
	}
	binary.BigEndian.PutUint16(m[2:], fl)
	binary.BigEndian.PutUint16(m[4:], 1)
	binary.BigEndian.PutUint16(m[6:], uint16(an))
	binary.BigEndian.PutUint16(m[8:], uint16(ns))
	binary.BigEndian.PutUint16(m[10:], uint16(ar))
	total = wire.FinishUDPResponse(pkt[:cap(pkt)], ip, off)
	r := verdict.ReasonCacheHit
	if a.stale {
		r = verdict.ReasonCacheStale
	}
	return verdict.Result{Verdict: verdict.Rewrite, Reason: r, Packet: pkt[:total], Truncated: tc}
}

// remember records a query passed to the upstream so that its response may
// be learned.
func (c *Cache) remember(pkt []byte, ip *wire.Packet, q *wire.Query, do, cd bool, now int64) {
	var p pendingQuery
	p.alen = uint8(ip.AddrLen)
	copy(p.client[:], pkt[ip.SrcOff:ip.SrcOff+ip.AddrLen])
	copy(p.server[:], pkt[ip.DstOff:ip.DstOff+ip.AddrLen])
	p.port, p.id = ip.SrcPort, q.ID
	p.qtype, p.qclass = q.QType, q.QClass
	p.do, p.cd = do, cd
	p.nameLen = uint16(copy(p.name[:], q.Name()))
	p.at = now
	c.pending.add(&p)
}
