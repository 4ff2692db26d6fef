package nfq

import (
	"sync"
	"time"
)

// Held verdicts (DNS over TCP, README.md "DNS over TCP").
//
// A Handler that implements HoldHandler may give a packet's verdict later:
// it returns Hold from HandleHold and parks the packet under a token of
// its choosing (HeldPacket.Park); Consumer.Release with that token, from
// any goroutine, gives the verdict. Release may come first (the answer
// was quicker than the Handler's return): whichever of the two comes
// second sends the verdict. Meanwhile the kernel keeps the packet queued
// (a held TCP segment delays the client's own retransmission of it).
//
// Late verdicts are written from the releasing goroutine, each at once
// (Source.LateVerdict): a BatchSource's in a write of its own, outside its
// batch. When the consumer stops, it waits (up to Config.DrainMax) after
// the drain for the packets still held, and then takes no more releases:
// the kernel drops what is still held when the queues are unbound.

// Hold is the verdict of a packet whose verdict comes later (HoldHandler).
const Hold Verdict = Drop + 1

// HoldHandler is a Handler that may hold packets. The consumer calls
// HandleHold instead of Handle. Returning Hold promises a call to p.Park
// (during HandleHold) and one to Consumer.Release with the same token.
type HoldHandler interface {
	Handler
	HandleHold(pkt []byte, p HeldPacket) (Verdict, []byte)
}

// HeldPacket is a queued packet whose verdict may come later.
type HeldPacket struct {
	c   *Consumer
	src Source
	id  uint32
}

// Park registers the packet under token, or gives it the verdict
// released under token already.
func (p HeldPacket) Park(token uint64) {
	h := &p.c.holds
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		h.lost++
		return
	}
	h.held++
	if l, ok := h.early[token]; ok {
		delete(h.early, token)
		p.c.lateVerdict(p, l.v, l.out)
		return
	}
	if h.parked == nil {
		h.parked = make(map[uint64]HeldPacket)
	}
	h.parked[token] = p
}

// Release gives the verdict of the packet held under token: Accept,
// AcceptModified or RepeatModified with the new packet out (which the
// consumer keeps), or Drop. Call it once per token, from any goroutine.
func (c *Consumer) Release(token uint64, v Verdict, out []byte) {
	h := &c.holds
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		h.lost++
		return
	}
	p, ok := h.parked[token]
	if !ok {
		if h.early == nil {
			h.early = make(map[uint64]lateRelease)
		}
		h.early[token] = lateRelease{v, out}
		return
	}
	delete(h.parked, token)
	c.lateVerdict(p, v, out)
}

// HeldCounts counts held packets.
type HeldCounts struct {
	Held     uint64 // packets parked
	Released uint64 // verdicts given after a hold
	Lost     uint64 // parks or releases after the consumer stopped
	Waiting  int    // parked now, waiting for their verdict
}

// Held returns the counts of held packets.
func (c *Consumer) Held() HeldCounts {
	h := &c.holds
	h.mu.Lock()
	defer h.mu.Unlock()
	return HeldCounts{Held: h.held, Released: h.released, Lost: h.lost, Waiting: len(h.parked)}
}

// holds is the consumer's table of held packets. Verdicts are written
// under mu, so none is written once closed is set (the sources are closed
// after that).
type holds struct {
	mu       sync.Mutex
	parked   map[uint64]HeldPacket
	early    map[uint64]lateRelease
	closed   bool
	held     uint64
	released uint64
	lost     uint64
}

type lateRelease struct {
	v   Verdict
	out []byte
}

// callHandler asks the Handler about a packet of w's queue.
func (c *Consumer) callHandler(w *worker, id uint32, pkt []byte) (Verdict, []byte) {
	if hh, ok := c.h.(HoldHandler); ok {
		return hh.HandleHold(pkt, HeldPacket{c: c, src: w.src, id: id})
	}
	v, out := c.h.Handle(pkt)
	if v == Hold { // only a HoldHandler can hold
		v = Accept
	}
	return v, out
}

// lateVerdict writes the verdict of a held packet; c.holds.mu is held.
func (c *Consumer) lateVerdict(p HeldPacket, v Verdict, out []byte) {
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
		n := len(c.holds.parked)
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
