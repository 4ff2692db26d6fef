package main

import (
	"context"
	"log/slog"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/tcpstack"
	"github.com/meshdns/meshdns/nfq"
	"github.com/meshdns/meshdns/observe"
)

// engineHandler adapts the engine to the queue consumer.
type engineHandler struct {
	e     *dnsengine.Engine
	shard *observe.Shard // counts results, times a sample
	debug *slog.Logger   // nil unless --log-level debug
}

// HandleHold hands the engine the packet with the means to hold it
// (nfq.HoldHandler): the TCP stack holds a segment whose queries it
// forwards (tcp.go's queuedPacket).
func (h *engineHandler) HandleHold(pkt []byte, p *nfq.Holdable) (nfq.Verdict, []byte) {
	return h.process(pkt, queuedPacket{p})
}

func (h *engineHandler) Handle(pkt []byte) (nfq.Verdict, []byte) {
	return h.process(pkt, nil)
}

func (h *engineHandler) process(pkt []byte, q tcpstack.Holdable) (nfq.Verdict, []byte) {
	res := h.shard.Process(h.e, pkt, q)
	if h.debug != nil {
		h.debug.LogAttrs(context.Background(), slog.LevelDebug, "packet",
			slog.String("verdict", res.Verdict.String()), slog.String("reason", res.Reason.String()),
			slog.Bool("tc", res.Truncated))
	}
	return queueVerdict(res)
}
