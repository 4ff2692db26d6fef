package tcpstack

import (
	"encoding/binary"
	"time"

	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/meshdns/meshdns/dnsengine/wire"
)

// DNS header: its length and the flags a SERVFAIL sets or keeps.
const (
	headerLen     = 12
	flagQR        = 0x8000
	flagRD        = 0x0100
	flagRA        = 0x0080
	flagCD        = 0x0010
	rcodeServFail = 2
)

// maxServfail is the largest SERVFAIL appendServfail writes: a header and
// a question with the longest name.
const maxServfail = headerLen + 255 + 4

// answered is the Forwarder's callback for fw: it writes the answer (or a
// SERVFAIL) into the flow's output and releases the held segment once the
// last of its queries is answered.
func (t *Stack) answered(sh *flowShard, f *flow, fw *fwd, resp []byte, err error) {
	if err != nil {
		t.log.Debug("tcp: forwarded query failed", "server", f.key.server(), "err", err)
		resp = nil
	}
	t.charge(-(len(fw.query) + fwdOverhead)) // the Forwarder is done with it
	t.fwding.Add(-int64(len(fw.query) + fwdOverhead))
	now := t.cfg.Clock.Now()
	var a deferredEffects
	sh.mu.Lock()
	if !fw.done && !f.dead {
		fw.done = true
		f.last = now.UnixNano()
		t.complete(f, fw, resp, now, &a)
	}
	sh.mu.Unlock()
	t.finish(&a)
}

// complete writes the answer to fw, resp or (when resp is not a response)
// SERVFAIL, into the flow's output. fw.done is already set.
//
// The answer must fit the budget and the flow's own bound (MaxBuffered
// plus one message): a flow that pipelines many forwarded queries with
// large answers gets SERVFAIL for those that do not fit.
func (t *Stack) complete(f *flow, fw *fwd, resp []byte, now time.Time, a *deferredEffects) {
	f.fwds--
	f.fwdBytes -= len(fw.query) + fwdOverhead
	at := len(f.out) + 2
	if len(resp) >= headerLen && len(resp) <= maxTCPMsg && resp[2]&0x80 != 0 &&
		len(f.out)+2+len(resp) <= t.cfg.MaxBuffered+2+maxTCPMsg && t.appendMsg(f, resp) {
		copy(f.out[at:at+2], fw.query[:2]) // the client's ID, whatever the Forwarder did
	} else {
		t.appendServfail(f, fw.query)
	}
	h := fw.held
	h.waiting--
	if h.waiting == 0 && !h.released {
		t.release(f, h, now, a)
	}
}

// release gives the held segment h its verdict: the reply it becomes,
// carrying whatever output the client's window admits, or a drop when
// there is nothing to say.
func (t *Stack) release(f *flow, h *heldSeg, now time.Time, a *deferredEffects) {
	h.released = true
	for i, x := range f.held {
		if x == h {
			f.held = append(f.held[:i], f.held[i+1:]...)
			break
		}
	}
	res := verdict.Result{Verdict: verdict.Drop, Reason: verdict.ReasonTCPForwarded}
	var r reply
	if t.plan(f, emitNew, false, t.cfg.MaxPacket-replyHeaderLen(h.seg.v6, f.ts), now, &r) {
		buf := make([]byte, r.headerLen(h.seg.v6)+len(r.payload))
		writeReply(buf, &h.seg, &r)
		res = verdict.Result{Verdict: verdict.Rewrite, Reason: verdict.ReasonTCPForwarded, Packet: buf}
	}
	a.releases = append(a.releases, release{h.held, res})
}

// appendServfail appends a SERVFAIL answering query (at least a header):
// its header and, when it can be found, its question (at most 271 bytes:
// the one charge allowed past the budget).
func (t *Stack) appendServfail(f *flow, query []byte) {
	n, qd := headerLen, uint16(0)
	if end := questionEnd(query); end > 0 && end <= maxServfail {
		n, qd = end, 1
	}
	t.growOut(f, 2+n, true)
	f.out = append(f.out, byte(n>>8), byte(n))
	at := len(f.out)
	f.out = append(f.out, query[:n]...)
	m := f.out[at:]
	qf := binary.BigEndian.Uint16(m[2:])
	binary.BigEndian.PutUint16(m[2:], flagQR|qf&(0x7800|flagRD|flagCD)|flagRA|rcodeServFail)
	binary.BigEndian.PutUint16(m[4:], qd)
	clear(m[6:12])
}

// questionEnd returns the end of the first question of m, or 0: its
// name read as the engine reads one (wire.ReadQuestionName: uncompressed,
// at most 255 bytes), then its type and class.
func questionEnd(m []byte) int {
	if len(m) < headerLen || binary.BigEndian.Uint16(m[4:]) == 0 {
		return 0
	}
	var lname [wire.MaxNameLen]byte
	if _, _, end, ok := wire.ReadQuestionName(m, &lname, nil); ok && end+4 <= len(m) {
		return end + 4
	}
	return 0
}
