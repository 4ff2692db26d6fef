package cache

import (
	"net/netip"
	"time"

	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/meshdns/meshdns/dnsengine/wire"
)

// Response handles a UDP packet from port 53 (wire.KindUDPResponse):
// an upstream response on its way to a client, offered to the cache.
// Whatever happens the packet is accepted unmodified.
func (c *Cache) Response(pkt []byte, ip *wire.Packet) verdict.Result {
	if !ip.UDPChecksumValid(pkt) {
		return verdict.Result{Reason: verdict.ReasonBadChecksum}
	}
	m := ip.UDPPayload(pkt)
	var r upResponse
	o := c.learnUpstream(m, ip.Dst(pkt), ip.DstPort, ip.Src(pkt), &r)
	c.shards[uint64(r.id)&c.mask].stats.Responses[o].Add(1)
	if o == Learned {
		return verdict.Result{Reason: verdict.ReasonCacheLearned}
	}
	return verdict.Result{Reason: verdict.ReasonResponse}
}

// learnUpstream learns m, a response sent by server to client:port, if it
// answers a pending query exactly: same client address and port, ID,
// nameserver and question, within the match window. The entry is keyed by
// that nameserver.
func (c *Cache) learnUpstream(m, client []byte, port uint16, server []byte, r *upResponse) Outcome {
	if o := parseUpstreamHead(m, r); o != Learned {
		return o
	}
	var p pendingQuery
	if o := c.pending.take(client, port, server, r, &p); o != Learned {
		return o
	}
	// From here on the pending query is consumed: a second response to it
	// (a duplicate, or a spoof that lost the race to the real one) is
	// never learned.
	now := c.now()
	if now < p.at || now-p.at > int64(c.cfg.MatchWindow) {
		return Late
	}
	return c.learn(m, r, p.do, p.cd, server, now)
}

// learn stores the response m (head parsed into r) under the key of its
// question with the given DO and CD bits.
func (c *Cache) learn(m []byte, r *upResponse, do, cd bool, server []byte, now int64) Outcome {
	if r.flags&wire.FlagTC != 0 {
		return Truncated
	}
	if o := parseUpstreamBody(m, r); o != Learned {
		return o
	}
	ttl, o := c.policyTTL(r)
	if o != Learned {
		return o
	}
	if r.end > c.maxMsg {
		return TooLarge
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
		return TooLarge
	}
	if i := s.lookup(h, server, name, r.qtype, r.qclass, do, cd); i >= 0 {
		s.remove(i)
	}
	s.reclaim(need, now, int64(c.cfg.Stale)*int64(time.Second))
	if len(s.free) == 0 || len(s.freeSlots) < need {
		return TooLarge // not reached: reclaim can always empty the shard
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
	return Learned
}

// LearnRefresh offers the cache msg, the upstream's answer to a refresh
// query asked for by req (the Refresher checked that it came from
// req.Server, port 53, with the query's ID). The question must be req's.
// It returns the outcome; the counters count it like any response.
func (c *Cache) LearnRefresh(req RefreshRequest, msg []byte) Outcome {
	var r upResponse
	o := parseUpstreamHead(msg, &r)
	if o == Learned && (r.qtype != req.Type || r.qclass != req.Class || string(r.name()) != string(req.Name())) {
		o = QuestionMismatch
	}
	if o == Learned {
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
