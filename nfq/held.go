package nfq

import (
	"sync"
	"time"
)

// Held verdicts (DNS over TCP, README.md "DNS over TCP").
//
// A Handler that implements HoldHandler may give a packet's verdict later:
// during HandleHold it calls Holdable.Hold, which takes the packet out of
// its batch (the consumer gives it no verdict now, whatever HandleHold
// returns) and returns the packet's handle, a *HeldPacket; its Release,
// from any goroutine, gives the verdict. The handle travels with whatever
// waits for the verdict: there is no table of held packets. A Release
// before HandleHold has returned is just a verdict written early (the
// kernel takes the verdicts of a queue's packets in any order).
// Meanwhile the kernel keeps the packet queued (a held TCP segment delays
// the client's own retransmission of it).
//
// Late verdicts are written from the releasing goroutine, each at once
// (Source.LateVerdict): a BatchSource's in a write of its own, outside its
// batch. When the consumer stops, it waits (up to Config.DrainMax) after
// the drain for the packets still held, and then takes no more releases:
// the kernel drops what is still held when the queues are unbound.

// Hold is the verdict HandleHold returns for a packet it held
// (Holdable.Hold). The consumer goes by the call to Hold, not by the
// verdict: a packet returned with Hold but never held is accepted.
const Hold Verdict = Drop + 1

// HoldHandler is a Handler that may hold packets. The consumer calls
// HandleHold instead of Handle, with p, the packet being handled, which
// the handler may hold (Holdable.Hold).
type HoldHandler interface {
	Handler
	HandleHold(pkt []byte, p *Holdable) (Verdict, []byte)
}

// Holdable is the packet a HoldHandler is handling. It is its queue's, and
// valid only until HandleHold returns: keep the *HeldPacket Hold returns,
// never p.
type Holdable struct {
	w    *worker
	id   uint32
	held bool
}

// Hold takes the packet out of its batch and returns its handle, whose
// Release gives the verdict; call it at most once. From then on the
// consumer gives the packet no verdict of its own, whatever HandleHold
// returns or if it panics. Hold allocates the handle (one small object
// per held packet).
func (p *Holdable) Hold() *HeldPacket {
	p.held = true
	c := p.w.c
	hp := &HeldPacket{c: c, src: p.w.src, id: p.id}
	h := &c.holds
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		h.lost++
		return hp
	}
	h.held++
	h.waiting++
	return hp
}

// HeldPacket is a queued packet whose verdict comes later (Holdable.Hold).
type HeldPacket struct {
	c        *Consumer
	src      Source
	id       uint32
	released bool // guarded by c.holds.mu
}

// Release gives the held packet its verdict: Accept, AcceptModified or
// RepeatModified with the new packet out (which the consumer keeps), or
// Drop. It may be called from any goroutine, also before HandleHold has
// returned; a second call does nothing.
func (p *HeldPacket) Release(v Verdict, out []byte) {
	h := &p.c.holds
	h.mu.Lock()
	defer h.mu.Unlock()
	if p.released {
		return
	}
	p.released = true
	if h.closed {
		h.lost++
		return
	}
	h.waiting--
	p.c.lateVerdict(p, v, out)
}

// HeldCounts counts held packets.
type HeldCounts struct {
	Held     uint64 // packets held
	Released uint64 // verdicts given after a hold
	Lost     uint64 // holds or releases after the consumer stopped
	Waiting  int    // held now, waiting for their verdict
}

// Held returns the counts of held packets.
func (c *Consumer) Held() HeldCounts {
	h := &c.holds
	h.mu.Lock()
	defer h.mu.Unlock()
	return HeldCounts{Held: h.held, Released: h.released, Lost: h.lost, Waiting: h.waiting}
}

// holds counts the consumer's held packets. Verdicts are written under
// mu, so none is written once closed is set (the sources are closed
// after that).
type holds struct {
	mu       sync.Mutex
	closed   bool
	waiting  int
	held     uint64
	released uint64
	lost     uint64
}

// callHandler asks the Handler about a packet of w's queue: a HoldHandler
// with w.hold, the packet as it may hold it.
func (c *Consumer) callHandler(w *worker, id uint32, pkt []byte) (Verdict, []byte) {
	if c.hh != nil {
		w.hold = Holdable{w: w, id: id}
		return c.hh.HandleHold(pkt, &w.hold)
	}
	return c.h.Handle(pkt)
}

// lateVerdict writes the verdict of a held packet; c.holds.mu is held.
func (c *Consumer) lateVerdict(p *HeldPacket, v Verdict, out []byte) {
	c.holds.released++
	switch {
	case v.modified() && (len(out) == 0 || len(out) > MaxVerdictPayload):
		c.counters.Unhandled.Add(1)
		v, out = Accept, nil
		c.counters.Accepted.Add(1)
	case v.modified():
		c.counters.Modified.Add(1)
	case v == Drop:
		c.counters.Dropped.Add(1)
	default:
		v, out = Accept, nil
		c.counters.Accepted.Add(1)
	}
	if err := p.src.LateVerdict(p.id, v, out); err != nil {
		if n := c.counters.VerdictErrors.Add(1); n&(n-1) == 0 {
			c.log.Warn("held verdict not taken", "verdict", v.String(), "err", err, "count", n)
		}
	}
}

// drainHeld waits, after the drain, for the packets still held (up to
// DrainMax), then stops taking releases.
func (c *Consumer) drainHeld() {
	w := c.cfg.DrainMax
	for step := c.cfg.DrainQuiet; ; w -= step {
		c.holds.mu.Lock()
		n := c.holds.waiting
		if n == 0 || w <= 0 {
			c.holds.closed = true
			c.holds.mu.Unlock()
			if n > 0 {
				c.log.Warn("packets still held at stop: the kernel drops them", "count", n)
			}
			return
		}
		c.holds.mu.Unlock()
		time.Sleep(min(step, w))
	}
}
