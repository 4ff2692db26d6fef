package tcpstack

import (
	"net/netip"
	"sync"
	"time"

	"github.com/meshdns/meshdns/dnsengine/verdict"
)

// tcpShards is the number of flow table shards, each with its own mutex.
const tcpShards = 32

// flowKey is a flow's 4-tuple as the client sends it.
type flowKey struct {
	src, dst     [16]byte
	sport, dport uint16
	v6           bool
}

func keyOf(s *segment) flowKey {
	return flowKey{src: s.src, dst: s.dst, sport: s.sport, dport: s.dport, v6: s.v6}
}

// shard picks the key's shard (FNV-1a).
func (k *flowKey) shard() int {
	h := uint32(2166136261)
	mix := func(b byte) { h = (h ^ uint32(b)) * 16777619 }
	for _, b := range k.src {
		mix(b)
	}
	for _, b := range k.dst {
		mix(b)
	}
	mix(byte(k.sport >> 8))
	mix(byte(k.sport))
	return int(h % tcpShards)
}

// server returns the nameserver the flow's client connected to.
func (k *flowKey) server() netip.AddrPort {
	var a netip.Addr
	if k.v6 {
		a = netip.AddrFrom16(k.dst)
	} else {
		a = netip.AddrFrom4([4]byte(k.dst[:4]))
	}
	return netip.AddrPortFrom(a, k.dport)
}

// client returns the flow's client address and port.
func (k *flowKey) client() netip.AddrPort {
	if k.v6 {
		return netip.AddrPortFrom(netip.AddrFrom16(k.src), k.sport)
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(k.src[:4])), k.sport)
}

// flowShard is one part of the flow table. Everything in it, and in its
// flows, is guarded by mu.
type flowShard struct {
	mu        sync.Mutex
	flows     map[flowKey]*flow
	scratch   []byte // an answer is built here, then appended to a flow's output
	lastSweep int64  // unix nanoseconds
	// broken holds the 4-tuples of flows forgotten in the middle of a
	// message (answer bytes unacknowledged, or part of a query read):
	// resuming them would garble the stream, so their next segment is
	// answered with an RST instead. Values: expiry, unix nanoseconds.
	broken map[flowKey]int64
}

// buf returns the shard's scratch buffer, charged to the budget once.
func (t *Stack) buf(sh *flowShard) []byte {
	if sh.scratch == nil {
		sh.scratch = make([]byte, maxTCPMsg)
		t.charge(maxTCPMsg)
	}
	return sh.scratch
}

// maxTCPMsg is the largest DNS message on a TCP stream.
const maxTCPMsg = 65535

type flowState uint8

const (
	stateSynRcvd flowState = iota // SYN answered, handshake ACK not seen
	stateEstablished
)

// flow is the state of one taken-over connection. Sequence numbers: the
// client's next byte is rcvNxt; our output stream from sndUna on is out,
// of which sent bytes were sent at least once; when finSent our FIN
// follows the last byte of out.
type flow struct {
	key   flowKey
	state flowState
	dead  bool // forgotten: late forwarded answers are dropped

	irs, iss uint32 // initial sequence numbers (0 when resumed)
	rcvNxt   uint32
	ackSent  uint32 // the last acknowledgment number sent
	sndUna   uint32
	sent     int
	finRcvd  bool
	finSent  bool
	resumed  bool // resumed from a cookie: the client may acknowledge bytes sent before

	wnd    uint32 // the client's window from its last acknowledgment
	wscale uint8  // the client's window shift, when negotiated
	ws     bool   // window scaling negotiated
	mss    uint16 // the MSS of our SYN-ACK

	ts       bool   // timestamps negotiated
	tsRecent uint32 // the client's last TSval, echoed
	tsLast   uint32 // our last TSval, never to go backwards

	out      []byte // length-prefixed answers from sndUna on
	in       []byte // bytes of an incomplete query
	held     []*heldSeg
	fwds     int   // forwarded queries outstanding
	fwdBytes int   // their copies, with fwdOverhead each
	charged  int   // bytes charged to the budget for the flow (budget.go)
	last     int64 // unix nanoseconds of the last progress: opened, a query read, an answer or bytes acknowledged

	tsSec    uint16 // the second of tsMAC, our last timestamp's (cookie.go)
	tsMAC    uint16
	tsTagged bool // tsSec and tsMAC are set
}

// sndNxt is the sequence number after the last byte (or FIN) sent.
func (f *flow) sndNxt() uint32 {
	n := f.sndUna + uint32(f.sent)
	if f.finSent {
		n++
	}
	return n
}

// ackBytes drops n acknowledged bytes from the front of out.
func (f *flow) ackBytes(n int) {
	n = min(n, f.sent)
	if n == 0 {
		return
	}
	f.sndUna += uint32(n)
	f.sent -= n
	rest := copy(f.out, f.out[n:])
	f.out = f.out[:rest]
	if rest == 0 && cap(f.out) > 2*maxTCPMsg {
		f.out = nil // let a burst's buffer go
	}
}

// appendMsg appends a DNS message with its length prefix to out, within
// the budget (budget.go). It returns false when it does not fit.
func (t *Stack) appendMsg(f *flow, m []byte) bool {
	if !t.growOut(f, 2+len(m), false) {
		return false
	}
	f.out = append(f.out, byte(len(m)>>8), byte(len(m)))
	f.out = append(f.out, m...)
	return true
}

// heldSeg is a client segment the queue holds (Verdict Hold) until the
// queries it carried that had to be forwarded are answered.
type heldSeg struct {
	held     Held    // the queue's handle (Holdable.Hold), set when Process returns Hold
	seg      segment // the client segment's headers (payload nil): the template of the reply
	since    time.Time
	waiting  int // forwards not yet answered
	fwds     []*fwd
	released bool
}

// fwd is one forwarded query.
type fwd struct {
	query []byte
	held  *heldSeg
	done  bool // answered, failed or timed out: a later answer is ignored
}

// deferredEffects collects the side effects of a segment or an answer that
// must happen once the shard's mutex is released: starting forwards (whose
// callback may run at once and take the mutex) and releasing held segments.
type deferredEffects struct {
	forwards []fwdJob
	releases []release
}

type fwdJob struct {
	sh *flowShard
	f  *flow
	fw *fwd
}

type release struct {
	held Held
	res  verdict.Result
}

// finish performs the effects a collected; call it without any shard mutex
// held.
func (t *Stack) finish(a *deferredEffects) {
	for _, r := range a.releases {
		r.held.Release(r.res)
	}
	for _, j := range a.forwards {
		t.cfg.Forwarder.Forward(j.fw.query, j.f.key.server(), func(resp []byte, err error) {
			t.answered(j.sh, j.f, j.fw, resp, err)
		})
	}
}

// forget removes f from its shard. Its held segments are dropped (the
// client resends their data if the connection lives on).
func (t *Stack) forget(sh *flowShard, f *flow, a *deferredEffects) {
	if f.dead {
		return
	}
	f.dead = true
	delete(sh.flows, f.key)
	t.flows.Add(-1)
	t.charge(-f.charged)
	f.charged = 0
	for _, h := range f.held {
		if !h.released {
			h.released = true
			a.releases = append(a.releases, release{h.held, verdict.Result{Verdict: verdict.Drop, Reason: verdict.ReasonTCPClose}})
		}
	}
	f.held = nil
}

// sweepEvery is how often a shard is swept as segments arrive.
func (t *Stack) sweepEvery() time.Duration {
	return max(min(t.cfg.IdleTimeout, t.cfg.HoldTimeout)/4, 100*time.Millisecond)
}

// sweep releases segments held past the hold timeout (their outstanding
// queries are answered SERVFAIL) and forgets idle flows.
func (t *Stack) sweep(sh *flowShard, now time.Time, a *deferredEffects) {
	sh.lastSweep = now.UnixNano()
	for _, f := range sh.flows {
		for i := 0; i < len(f.held); {
			h := f.held[i]
			if now.Sub(h.since) >= t.cfg.HoldTimeout {
				for _, fw := range h.fwds {
					if !fw.done {
						fw.done = true
						t.complete(f, fw, nil, now, a) // releases h with the last
					}
				}
			}
			if i < len(f.held) && f.held[i] == h {
				i++
			}
		}
		if f.fwds == 0 && now.UnixNano()-f.last >= int64(t.cfg.IdleTimeout) {
			if len(f.out) > 0 || len(f.in) > 0 {
				t.markBroken(sh, f.key, now)
			}
			t.forget(sh, f, a)
		}
	}
	for k, until := range sh.broken {
		if now.UnixNano() >= until {
			t.unbreak(sh, k)
		}
	}
}

// unbreak forgets that k was broken; it reports whether it was.
func (t *Stack) unbreak(sh *flowShard, k flowKey) bool {
	if _, ok := sh.broken[k]; !ok {
		return false
	}
	delete(sh.broken, k)
	t.charge(-brokenOverhead)
	return true
}

// brokenFor is how long a broken flow's 4-tuple is remembered.
const brokenFor = 10

// maxBroken bounds the broken 4-tuples a shard remembers.
const maxBroken = 256

func (t *Stack) markBroken(sh *flowShard, k flowKey, now time.Time) {
	if sh.broken == nil {
		sh.broken = make(map[flowKey]int64)
	}
	if len(sh.broken) >= maxBroken {
		for old := range sh.broken { // forget any one
			t.unbreak(sh, old)
			break
		}
	}
	if _, ok := sh.broken[k]; !ok {
		t.charge(brokenOverhead)
	}
	sh.broken[k] = now.UnixNano() + brokenFor*int64(t.cfg.IdleTimeout)
}
