package main

import (
	"context"
	"log/slog"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/nfq"
)

// reasonCounter counts packets by engine reason; the observe package reads it.
type reasonCounter interface {
	Inc(r dnsengine.Reason)
}

// engineHandler adapts the engine to the queue consumer.
type engineHandler struct {
	e     *dnsengine.Engine
	count reasonCounter
	debug *slog.Logger // nil unless --log-level debug
}

func (h *engineHandler) Handle(pkt []byte) (nfq.Verdict, []byte) {
	res := h.e.Process(pkt)
	if h.count != nil {
		h.count.Inc(res.Reason)
	}
	if h.debug != nil {
		h.debug.LogAttrs(context.Background(), slog.LevelDebug, "packet",
			slog.String("verdict", res.Verdict.String()), slog.String("reason", res.Reason.String()),
			slog.Bool("tc", res.Truncated))
	}
	switch res.Verdict {
	case dnsengine.Rewrite:
		return nfq.AcceptModified, res.Packet
	case dnsengine.Drop:
		return nfq.Drop, nil
	}
	return nfq.Accept, nil
}
