package main

import (
	"context"
	"log/slog"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/meshdns/meshdns/nfq"
	"github.com/meshdns/meshdns/observe"
)

// engineHandler adapts the engine to the queue consumer.
type engineHandler struct {
	e     *dnsengine.Engine
	shard *observe.Shard // counts results, times a sample
	debug *slog.Logger   // nil unless --log-level debug
}

// HandleHold lets the engine hold TCP segments (nfq.HoldHandler).
func (h *engineHandler) HandleHold(pkt []byte, p nfq.HeldPacket) (nfq.Verdict, []byte) {
	v, out, res := h.process(pkt)
	if v == nfq.Hold {
		p.Park(res.Token)
	}
	return v, out
}

func (h *engineHandler) Handle(pkt []byte) (nfq.Verdict, []byte) {
	v, out, _ := h.process(pkt)
	return v, out
}

func (h *engineHandler) process(pkt []byte) (nfq.Verdict, []byte, verdict.Result) {
	res := h.shard.Process(h.e, pkt)
	if h.debug != nil {
		h.debug.LogAttrs(context.Background(), slog.LevelDebug, "packet",
			slog.String("verdict", res.Verdict.String()), slog.String("reason", res.Reason.String()),
			slog.Bool("tc", res.Truncated))
	}
	v, out := queueVerdict(res)
	return v, out, res
}
