package tcpstack

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/meshdns/meshdns/dnsengine/verdict"
)

// Default MSS we announce when the client's SYN has none.
const (
	defaultMSS4 = 1460
	defaultMSS6 = 1440
)

type emitMode uint8

const (
	emitNew        emitMode = iota // send bytes not sent yet, as the window admits
	emitRetransmit                 // send again from the oldest unacknowledged byte
)

// noReason marks "no answer yet" while a segment's queries are answered.
const noReason = verdict.Reason(verdict.NumReasons)

// Layout says where the TCP segment lies in a packet whose IP header the
// caller decoded and checked (lengths, IPv4 header checksum, no
// fragment): an IPv4 header (of Off bytes, options included) or an IPv6
// header without extension headers.
type Layout struct {
	V6  bool
	Off int // of the TCP header
	Len int // of the segment, header and payload
}

// Process handles one TCP segment to port 53 of pkt, laid out as l, and
// returns its verdict; on a Rewrite verdict the reply has been written over
// pkt (cap(pkt) is the room it may use). A segment whose queries are
// forwarded is held through q (Holdable): Process returns Verdict Hold
// and releases it once the answers are back. With q nil the segment
// cannot be held, and a query that would be forwarded is answered
// SERVFAIL. It allocates nothing on an established flow once its buffers
// have grown.
func (t *Stack) Process(pkt []byte, l Layout, q Holdable) verdict.Result {
	var s segment
	r := decodeSegment(pkt, l, &s)
	if r != 0 && r != verdict.ReasonBadChecksum {
		return verdict.Result{Reason: r}
	}
	s.hold = q
	k := keyOf(&s)
	sh := &t.shards[k.shard()]
	now := t.cfg.Clock.Now()
	var a deferredEffects
	sh.mu.Lock()
	var res verdict.Result
	switch {
	case r == verdict.ReasonBadChecksum:
		// Passing a taken-over flow's segment to the real server would
		// make it reset the connection: drop it, the client resends.
		res = verdict.Result{Reason: r}
		if sh.flows[k] != nil {
			res.Verdict = verdict.Drop
		}
	default:
		if now.UnixNano()-sh.lastSweep >= int64(t.sweepEvery()) {
			t.sweep(sh, now, &a)
		}
		res = t.handle(sh, &k, pkt, &s, now, &a)
	}
	sh.mu.Unlock()
	t.finish(&a)
	return res
}

func (t *Stack) handle(sh *flowShard, k *flowKey, pkt []byte, s *segment, now time.Time, a *deferredEffects) verdict.Result {
	f := sh.flows[*k]
	switch {
	case s.flags&tcpRST != 0:
		if f != nil {
			return t.rst(sh, f, pkt, s, now, a)
		}
		// Not ours, or ours but forgotten: the real server, which holds
		// no such connection, ignores it.
		return verdict.Result{Reason: verdict.ReasonTCPForeign}
	case s.flags&tcpSYN != 0:
		t.unbreak(sh, *k)
		return t.syn(sh, k, f, pkt, s, now, a)
	}
	if f == nil {
		if s.flags&tcpACK == 0 {
			return verdict.Result{Reason: verdict.ReasonTCPForeign}
		}
		owned := t.cookie.owns(k, s)
		// Ours, forgotten in the middle of a message: the stream cannot be
		// framed again. Only a segment that carries our tags is of that
		// flow; one with timestamps that does not is another connection's
		// on the same 4-tuple (its SYN got past us to the nameserver while
		// the queue was full), which passes, and the mark stays for ours.
		if (owned || !s.hasTS) && t.unbreak(sh, *k) {
			return t.reset(pkt, s)
		}
		if !owned {
			return verdict.Result{Reason: verdict.ReasonTCPForeign}
		}
		if len(s.payload) == 0 && s.flags&tcpFIN == 0 {
			// A pure ACK needs no answer, and a keepalive probe (one
			// byte behind, no data) looks the same: nothing to resume
			// from. The next query will do.
			return verdict.Result{Verdict: verdict.Drop, Reason: verdict.ReasonTCPAck}
		}
		var res verdict.Result
		if f, res = t.resume(sh, k, pkt, s, now); f == nil {
			return res
		}
	}
	return t.segment(sh, f, pkt, s, now, a)
}

// rst handles an RST of a flow we hold (RFC 5961 3.2): only one whose
// sequence number is exactly the next byte we expect ends the flow; one
// elsewhere in the window gets a challenge ACK (the client's TCP answers
// it with an RST we accept, if it really meant to reset), and one outside
// the window is dropped. A process in the pod that does not know the
// flow's numbers cannot end it.
func (t *Stack) rst(sh *flowShard, f *flow, pkt []byte, s *segment, now time.Time, a *deferredEffects) verdict.Result {
	switch {
	case s.seq == f.rcvNxt:
		t.forget(sh, f, a)
		return verdict.Result{Verdict: verdict.Drop, Reason: verdict.ReasonTCPClose}
	case seqLT(f.rcvNxt, s.seq) && seqLT(s.seq, f.rcvNxt+ourWindow):
		return t.challenge(f, pkt, s, now)
	}
	return verdict.Result{Verdict: verdict.Drop, Reason: verdict.ReasonTCPAck}
}

// challenge rewrites s into a challenge ACK (RFC 5961): our next sequence
// number, the client's next byte, no data.
func (t *Stack) challenge(f *flow, pkt []byte, s *segment, now time.Time) verdict.Result {
	r := reply{seq: f.sndNxt(), ack: f.rcvNxt, flags: tcpACK}
	if f.ts {
		r.ts, r.tsVal, r.tsEcr = true, t.tsNow(f, now), f.tsRecent
	}
	f.ackSent = f.rcvNxt
	n := writeReply(pkt[:cap(pkt)], s, &r)
	return verdict.Result{Verdict: verdict.Rewrite, Reason: verdict.ReasonTCPAck, Packet: pkt[:n]}
}

// syn takes a new flow over: its SYN becomes our SYN-ACK.
func (t *Stack) syn(sh *flowShard, k *flowKey, f *flow, pkt []byte, s *segment, now time.Time, a *deferredEffects) verdict.Result {
	if s.flags&(tcpACK|tcpFIN) != 0 { // not a client's opening SYN
		if f != nil {
			return verdict.Result{Verdict: verdict.Drop, Reason: verdict.ReasonTCPAck}
		}
		return verdict.Result{Reason: verdict.ReasonTCPForeign}
	}
	if f != nil {
		if s.seq == f.irs && !f.resumed {
			if f.state == stateSynRcvd { // our SYN-ACK was lost: again
				f.tsRecent = s.tsVal
				return t.synAck(f, pkt, s, now)
			}
			return verdict.Result{Verdict: verdict.Drop, Reason: verdict.ReasonTCPAck}
		}
		// Another SYN on a flow we hold: a challenge ACK, not a new
		// connection (RFC 5961 4.2). If the client did open a new one,
		// its TCP answers the ACK with an RST at our acknowledgment
		// number, which ends this flow, and its next SYN opens the new.
		return t.challenge(f, pkt, s, now)
	}
	if !t.ans.Ready() {
		return verdict.Result{Reason: verdict.ReasonNotReady}
	}
	if int(t.flows.Load()) >= t.cfg.MaxFlows {
		t.sweep(sh, now, a)
		if int(t.flows.Load()) >= t.cfg.MaxFlows {
			return verdict.Result{Reason: verdict.ReasonTCPFlowLimit}
		}
	}
	if !t.fits(flowOverhead, t.softLimit()) {
		return verdict.Result{Reason: verdict.ReasonTCPMemory}
	}
	iss := t.cookie.isn(k, now)
	f = &flow{
		key:      *k,
		state:    stateSynRcvd,
		irs:      s.seq,
		iss:      iss,
		rcvNxt:   s.seq + 1,
		sndUna:   iss + 1,
		wnd:      uint32(s.win), // a SYN's window is never scaled
		mss:      s.mss,
		ts:       s.hasTS,
		tsRecent: s.tsVal,
		last:     now.UnixNano(),
	}
	if s.wscale >= 0 {
		f.ws, f.wscale = true, uint8(s.wscale)
	}
	if f.mss == 0 {
		f.mss = defaultMSS4
		if s.v6 {
			f.mss = defaultMSS6
		}
	}
	sh.flows[*k] = f
	t.flows.Add(1)
	t.recharge(f)
	return t.synAck(f, pkt, s, now)
}

func (t *Stack) synAck(f *flow, pkt []byte, s *segment, now time.Time) verdict.Result {
	r := reply{seq: f.iss, ack: f.irs + 1, flags: tcpSYN | tcpACK, mss: f.mss, ws: f.ws}
	if f.ts {
		r.ts, r.tsVal, r.tsEcr = true, t.tsNow(f, now), f.tsRecent
	}
	f.ackSent = f.rcvNxt
	n := writeReply(pkt[:cap(pkt)], s, &r)
	return verdict.Result{Verdict: verdict.Rewrite, Reason: verdict.ReasonTCPHandshake, Packet: pkt[:n]}
}

// resume re-creates the state of a flow the engine opened but no longer
// holds (forgotten when idle, or before a restart) from one of its client
// segments: the segment's sequence number is the client's next byte and
// its acknowledgment our next one. The window shift is not known: the
// window is taken unscaled, which only understates it.
func (t *Stack) resume(sh *flowShard, k *flowKey, pkt []byte, s *segment, now time.Time) (*flow, verdict.Result) {
	if int(t.flows.Load()) >= t.cfg.MaxFlows || !t.fits(flowOverhead, t.softLimit()) {
		// Ours, but no room: drop it; the client resends.
		return nil, verdict.Result{Verdict: verdict.Drop, Reason: verdict.ReasonTCPFlowLimit}
	}
	if len(s.payload) > 0 && !plausibleQueryStart(s.payload) {
		// The segment does not start a query: the stream cannot be framed
		// again. Reset the connection; the client retries at once.
		return nil, t.reset(pkt, s)
	}
	f := &flow{
		key:      *k,
		state:    stateEstablished,
		rcvNxt:   s.seq,
		ackSent:  s.seq,
		sndUna:   s.ack,
		wnd:      uint32(s.win),
		ts:       s.hasTS,
		tsRecent: s.tsVal,
		tsLast:   s.tsEcr, // our last TSval, echoed: ours must not go back
		resumed:  true,
		last:     now.UnixNano(),
	}
	sh.flows[*k] = f
	t.flows.Add(1)
	t.recharge(f)
	t.log.Debug("tcp: flow resumed", "client", k.client())
	return f, verdict.Result{}
}

// reset rewrites s into the RST that ends its connection: its sequence
// number is the one s acknowledges, which the client's TCP expects.
func (t *Stack) reset(pkt []byte, s *segment) verdict.Result {
	r := reply{seq: s.ack, flags: tcpRST}
	n := writeReply(pkt[:cap(pkt)], s, &r)
	return verdict.Result{Verdict: verdict.Rewrite, Reason: verdict.ReasonTCPClose, Packet: pkt[:n]}
}

// plausibleQueryStart reports whether p can be the start of a
// length-prefixed query: a length of at least a header, and, when the
// header is there, QR clear and one question.
func plausibleQueryStart(p []byte) bool {
	if len(p) < 2 {
		return true
	}
	if binary.BigEndian.Uint16(p) < headerLen {
		return false
	}
	if len(p) < 2+headerLen {
		return true
	}
	m := p[2:]
	return m[2]&0x80 == 0 && binary.BigEndian.Uint16(m[4:]) == 1
}

// segment handles a segment of a known flow other than SYN and RST.
func (t *Stack) segment(sh *flowShard, f *flow, pkt []byte, s *segment, now time.Time, a *deferredEffects) verdict.Result {
	if s.flags&tcpACK == 0 {
		return verdict.Result{Verdict: verdict.Drop, Reason: verdict.ReasonTCPAck}
	}
	if f.state == stateSynRcvd {
		if s.ack != f.sndUna {
			return verdict.Result{Verdict: verdict.Drop, Reason: verdict.ReasonTCPAck}
		}
		f.state = stateEstablished
	}
	if s.hasTS {
		f.tsRecent = s.tsVal
	}

	// The acknowledgment.
	maxPay := min(cap(pkt), t.cfg.MaxPacket) - replyHeaderLen(s.v6, f.ts)
	acked := s.ack - f.sndUna
	inFlight := f.sndNxt() - f.sndUna
	switch {
	case int32(acked) < 0:
		// An old acknowledgment: nothing to learn from it.
	case acked > inFlight:
		if f.resumed && len(f.out) == 0 && f.fwds == 0 && !f.finSent {
			// Bytes sent before the flow was resumed.
			f.sndUna = s.ack
			f.wnd = uint32(s.win) << f.wscale
			break
		}
		// It acknowledges bytes never sent: answer with an ACK and
		// ignore the segment (RFC 9293 3.10.7.4).
		var r reply
		t.plan(f, emitNew, true, 0, now, &r)
		n := writeReply(pkt[:cap(pkt)], s, &r)
		return verdict.Result{Verdict: verdict.Rewrite, Reason: verdict.ReasonTCPAck, Packet: pkt[:n]}
	default:
		if acked > 0 {
			f.last = now.UnixNano()
		}
		f.ackBytes(int(acked))
		t.recharge(f) // ackBytes may have let a burst's buffer go
		f.wnd = uint32(s.win) << f.wscale
		if f.finSent && acked == inFlight { // all answered, our FIN acknowledged
			t.forget(sh, f, a)
			return verdict.Result{Verdict: verdict.Drop, Reason: verdict.ReasonTCPClose}
		}
	}

	// The data and FIN.
	mode, force := emitNew, false
	first := noReason
	var h *heldSeg
	fin := s.flags&tcpFIN != 0
	plen := len(s.payload)
	if plen == 0 && !fin && seqLT(s.seq, f.rcvNxt) {
		force = true // a keepalive probe: it wants an ACK
	}
	if plen > 0 || fin {
		off := int32(s.seq - f.rcvNxt)
		if off > 0 {
			force = true // a gap: acknowledge what we have (a duplicate ACK)
		} else {
			skip := -int64(off)
			fresh := int64(plen) - skip
			newFin := fin && !f.finRcvd && fresh >= 0
			switch {
			case (fresh <= 0 || f.finRcvd) && !newFin:
				mode = emitRetransmit // all seen before: our answer or ACK was lost
			default:
				if fresh > 0 && !f.finRcvd {
					n := t.accept(sh, f, s, s.payload[skip:], now, a, &h, &first)
					if n < 0 {
						// Its partial query does not fit the budget.
						t.forget(sh, f, a)
						res := t.reset(pkt, s)
						res.Reason = verdict.ReasonTCPMemory
						return res
					}
					if int64(n) < fresh {
						newFin = false
					}
				}
				if newFin {
					f.finRcvd = true
					f.rcvNxt++
					f.last = now.UnixNano()
				}
				force = true
			}
		}
	}
	if h != nil {
		// Held from here on: the queue gives the segment no verdict now,
		// and no release can come before the mutex is let go.
		h.held = s.hold.Hold()
		f.held = append(f.held, h)
		return verdict.Result{Verdict: verdict.Hold, Reason: verdict.ReasonTCPHeld}
	}

	// The reply.
	var r reply
	if !t.plan(f, mode, force, maxPay, now, &r) {
		return verdict.Result{Verdict: verdict.Drop, Reason: verdict.ReasonTCPAck}
	}
	n := writeReply(pkt[:cap(pkt)], s, &r)
	res := verdict.Result{Verdict: verdict.Rewrite, Packet: pkt[:n]}
	switch {
	case first != noReason:
		res.Reason = first
	case fin || r.flags&tcpFIN != 0:
		res.Reason = verdict.ReasonTCPClose
	case mode == emitRetransmit:
		res.Reason = verdict.ReasonTCPRetransmit
	case len(r.payload) > 0:
		res.Reason = verdict.ReasonTCPCarrier
	default:
		res.Reason = verdict.ReasonTCPAck
	}
	return res
}

// accept takes data, the client's next bytes: it completes the partial
// query f.in holds, answers every query data completes (read in place,
// not copied), and keeps a trailing partial query in f.in, growing it
// within the budget. It answers in place when the engine can, by
// forwarding otherwise (creating the hold *h for this segment). Past the
// flow's bounds it stops where a query starts and leaves the rest
// unacknowledged. It returns the number of bytes taken, or -1 when the
// partial query does not fit the budget (the flow must be reset).
func (t *Stack) accept(sh *flowShard, f *flow, s *segment, data []byte, now time.Time, a *deferredEffects, h **heldSeg, first *verdict.Reason) int {
	taken := 0
	for taken < len(data) {
		rest := data[taken:]
		if len(f.in) == 0 {
			if !t.mayRead(f) {
				break
			}
			if len(rest) >= 2 {
				if l := int(binary.BigEndian.Uint16(rest)); len(rest)-2 >= l {
					t.query(sh, f, s, rest[2:2+l], now, a, h, first)
					taken += 2 + l
					f.last = now.UnixNano()
					continue
				}
			}
		}
		// Part of a query: into f.in, up to the end of its message.
		n, want := len(rest), 0
		switch {
		case len(f.in) >= 2:
			want = 2 + int(binary.BigEndian.Uint16(f.in))
		case len(f.in)+len(rest) >= 2:
			var p [2]byte
			copy(p[copy(p[:], f.in):], rest)
			want = 2 + int(binary.BigEndian.Uint16(p[:]))
		}
		if want > 0 {
			n = min(n, want-len(f.in))
		}
		if !t.growIn(f, n, want) {
			return -1
		}
		f.in = append(f.in, rest[:n]...)
		taken += n
		if len(f.in) == want {
			t.query(sh, f, s, f.in[2:], now, a, h, first)
			f.in = f.in[:0]
			if cap(f.in) > inSmall {
				f.in = nil
				t.recharge(f)
			}
			f.last = now.UnixNano()
		}
	}
	f.rcvNxt += uint32(taken)
	return taken
}

// query answers one query message m (which it does not keep).
func (t *Stack) query(sh *flowShard, f *flow, s *segment, m []byte, now time.Time, a *deferredEffects, h **heldSeg, first *verdict.Reason) {
	if len(m) < headerLen {
		return // not even an ID to answer
	}
	// The shard's answer buffer is made (and charged) for the first query
	// the Answerer can answer: one it says needs room.
	n, r := t.ans.Answer(m, sh.scratch)
	if n == 0 && r == verdict.ReasonNoRoom && sh.scratch == nil {
		n, r = t.ans.Answer(m, t.buf(sh))
	}
	if n > 0 {
		if !t.appendMsg(f, sh.scratch[:n]) {
			t.appendServfail(f, m) // no room for the answer
			r = verdict.ReasonTCPMemory
		}
		if *first == noReason {
			*first = r
		}
		return
	}
	cost := len(m) + fwdOverhead
	if !t.fits(cost, t.softLimit()) && (f.fwds > 0 || !t.fits(cost, t.limit())) {
		t.appendServfail(f, m) // no room to forward it
		if *first == noReason {
			*first = verdict.ReasonTCPMemory
		}
		return
	}
	if s.hold == nil {
		t.appendServfail(f, m) // the caller cannot hold the segment
		return
	}
	if *h == nil {
		seg := *s
		seg.payload, seg.hold = nil, nil
		*h = &heldSeg{seg: seg, since: now}
	}
	fw := &fwd{query: bytes.Clone(m), held: *h}
	(*h).waiting++
	(*h).fwds = append((*h).fwds, fw)
	f.fwds++
	f.fwdBytes += cost
	t.charge(cost) // until the Forwarder calls back (answered)
	t.fwding.Add(int64(cost))
	a.forwards = append(a.forwards, fwdJob{sh: sh, f: f, fw: fw})
}

// plan decides the reply the flow sends now, in mode, with at most maxPay
// payload bytes, and records it as sent. It returns false when there is
// nothing to send: no bytes, no FIN, no acknowledgment news, and not
// forced.
func (t *Stack) plan(f *flow, mode emitMode, force bool, maxPay int, now time.Time, r *reply) bool {
	*r = reply{ack: f.rcvNxt, flags: tcpACK}
	maxPay = max(maxPay, 0)
	n := 0
	if mode == emitRetransmit {
		r.seq = f.sndUna
		n = max(min(len(f.out), int(min(f.wnd, 1<<30)), maxPay), 0)
		f.sent = max(f.sent, n)
		if f.finSent && n == len(f.out) {
			r.flags |= tcpFIN
		}
		force = true
	} else {
		r.seq = f.sndNxt()
		room := int(min(f.wnd, 1<<30)) - f.sent
		n = max(min(len(f.out)-f.sent, room, maxPay), 0)
		r.payload = f.out[f.sent : f.sent+n]
		f.sent += n
		if f.finRcvd && !f.finSent && f.fwds == 0 && f.sent == len(f.out) {
			r.flags |= tcpFIN
			f.finSent = true
		}
	}
	if mode == emitRetransmit {
		r.payload = f.out[:n]
	}
	if n == 0 && r.flags&tcpFIN == 0 && !force && f.ackSent == f.rcvNxt {
		return false
	}
	if n > 0 {
		r.flags |= tcpPSH
		f.resumed = false
	}
	f.ackSent = f.rcvNxt
	if f.ts {
		r.ts, r.tsVal, r.tsEcr = true, t.tsNow(f, now), f.tsRecent
	}
	return true
}

// tsNow returns our TSval: the clock's second and its tag (cookie.go),
// never below the last one the flow sent (the client drops segments whose
// TSval goes back, RFC 7323 PAWS).
func (t *Stack) tsNow(f *flow, now time.Time) uint32 {
	sec := uint16(now.Unix())
	if sec != f.tsSec || !f.tsTagged {
		f.tsSec, f.tsMAC, f.tsTagged = sec, t.cookie.tsTag(&f.key, sec), true
	}
	v := uint32(sec)<<16 | uint32(f.tsMAC)
	if f.tsLast != 0 && seqLT(v, f.tsLast) {
		v = f.tsLast
	}
	f.tsLast = v
	return v
}

// replyHeaderLen is the header length of a reply without SYN options.
func replyHeaderLen(v6, ts bool) int {
	r := reply{ts: ts}
	return r.headerLen(v6)
}
