package dnsengine

import (
	"net/netip"
	"time"

	"github.com/meshdns/meshdns/dnsengine/wire"
)

// cacheResponse handles a UDP packet from port 53 (wire.KindUDPResponse):
// an upstream response on its way to a client, offered to the cache.
// Whatever happens the packet is accepted unmodified.
func (e *Engine) cacheResponse(pkt []byte, ip *wire.Packet) Result {
	if !ip.UDPChecksumValid(pkt) {
		return Result{Reason: ReasonBadChecksum}
	}
	c := e.cache
	m := ip.UDPPayload(pkt)
	var r upResponse
	o := c.learnUpstream(m, ip.Dst(pkt), ip.DstPort, ip.Src(pkt), &r)
	c.shards[uint64(r.id)&c.mask].stats.Responses[o].Add(1)
	if o == CacheLearned {
		return Result{Reason: ReasonCacheLearned}
	}
	return Result{Reason: ReasonResponse}
}

// learnUpstream learns m, a response sent by server to client:port, if it
// answers a pending query exactly: same client address and port, ID,
// nameserver and question, within the match window. The entry is keyed by
// that nameserver.
func (c *cache) learnUpstream(m, client []byte, port uint16, server []byte, r *upResponse) CacheOutcome {
	if o := parseUpstreamHead(m, r); o != CacheLearned {
		return o
	}
	var p pendingQuery
	if o := c.pending.take(client, port, server, r, &p); o != CacheLearned {
		return o
	}
	// From here on the pending query is consumed: a second response to it
	// (a duplicate, or a spoof that lost the race to the real one) is
	// never learned.
	now := c.now()
	if now < p.at || now-p.at > int64(c.cfg.MatchWindow) {
		return CacheLate
	}
	return c.learn(m, r, p.do, p.cd, server, now)
}

// learn stores the response m (head parsed into r) under the key of its
// question with the given DO and CD bits.
func (c *cache) learn(m []byte, r *upResponse, do, cd bool, server []byte, now int64) CacheOutcome {
	if r.flags&wire.FlagTC != 0 {
		return CacheTruncated
	}
	if o := parseUpstreamBody(m, r); o != CacheLearned {
		return o
	}
	ttl, o := c.policyTTL(r)
	if o != CacheLearned {
		return o
	}
	if r.end > c.maxMsg {
		return CacheTooLarge
	}
	name := r.name()
	h := c.keyHash(server, name, r.qtype, r.qclass, do, cd)
	s := c.shard(h)
	need := cacheSlotsFor(r.end)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries == nil {
		s.init()
	}
	if need > s.nslots {
		return CacheTooLarge
	}
	if i := s.lookup(h, server, name, r.qtype, r.qclass, do, cd); i >= 0 {
		s.remove(i)
	}
	s.reclaim(need, now, int64(c.cfg.Stale)*int64(time.Second))
	if len(s.free) == 0 || len(s.freeSlots) < need {
		return CacheTooLarge // not reached: reclaim can always empty the shard
	}
	en := s.storeMsg(h, m[:r.end])
	en.do, en.cd = do, cd
	en.qtype, en.qclass = r.qtype, r.qclass
	en.nameLen = uint16(r.nameLen)
	en.qEnd = uint16(r.qEnd)
	en.flags = r.flags
	en.an, en.ns, en.ar = r.an, r.ns, r.ar
	if r.opt {
		en.ar--
	}
	en.ttl = ttl
	en.stored = now
	en.serverLen = uint8(copy(en.server[:], server))
	// The key's name, lowercase, where lookup compares it.
	copy(s.slot(en.slots[0])[wire.HeaderLen:], name)
	return CacheLearned
}

// LearnRefresh offers the cache msg, the upstream's answer to a refresh
// query asked for by req (the Refresher checked that it came from
// req.Server, port 53, with the query's ID). The question must be req's.
// It returns the outcome; the counters count it like any response.
func (e *Engine) LearnRefresh(req RefreshRequest, msg []byte) CacheOutcome {
	c := e.cache
	if c == nil {
		return CacheUnsupported
	}
	var r upResponse
	o := parseUpstreamHead(msg, &r)
	if o == CacheLearned && (r.qtype != req.Type || r.qclass != req.Class || string(r.name()) != string(req.Name())) {
		o = CacheQuestionMismatch
	}
	if o == CacheLearned {
		var srv [16]byte
		n := cacheAddrBytes(req.Server, &srv)
		o = c.learn(msg, &r, req.DO, req.CD, srv[:n], c.now())
	}
	c.shards[uint64(r.id)&c.mask].stats.Responses[o].Add(1)
	return o
}

// cacheAddrBytes writes a's 4 or 16 bytes into b and returns how many.
func cacheAddrBytes(a netip.Addr, b *[16]byte) int {
	a = a.Unmap()
	if a.Is4() {
		v := a.As4()
		return copy(b[:], v[:])
	}
	*b = a.As16()
	return 16
}
