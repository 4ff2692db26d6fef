package enginetest

import (
	"fmt"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/miekg/dns"
)

// Ask sends m from ep through e. It returns the engine's result and, when
// the packet was rewritten, the checked response; it verifies the response
// goes back to the client from the server it asked.
func Ask(e *dnsengine.Engine, ep Endpoints, m *dns.Msg) (verdict.Result, *Response, error) {
	pkt, err := QueryPacket(ep, m)
	if err != nil {
		return verdict.Result{}, nil, err
	}
	orig := append([]byte(nil), pkt...)
	res := e.Process(pkt)
	if res.Verdict != verdict.Rewrite {
		if string(pkt) != string(orig) {
			return res, nil, fmt.Errorf("verdict %v but the packet was modified", res.Verdict)
		}
		return res, nil, nil
	}
	r, err := DecodeResponse(res.Packet)
	if err != nil {
		return res, nil, err
	}
	if r.Src != ep.Dst || r.Dst != ep.Src || r.SrcPort != ep.DstPort || r.DstPort != ep.SrcPort {
		return res, r, fmt.Errorf("response %v:%d -> %v:%d does not answer %v:%d -> %v:%d",
			r.Src, r.SrcPort, r.Dst, r.DstPort, ep.Src, ep.SrcPort, ep.Dst, ep.DstPort)
	}
	if r.Msg.Id != m.Id || !r.Msg.Response {
		return res, r, fmt.Errorf("response id %#x qr %v", r.Msg.Id, r.Msg.Response)
	}
	return res, r, nil
}
