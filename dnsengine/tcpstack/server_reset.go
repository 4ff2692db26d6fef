package tcpstack

import "github.com/meshdns/meshdns/dnsengine/verdict"

// The nameserver's RST of a flow the engine holds.
//
// A segment of a flow the engine took over can reach the real nameserver:
// the queues fail open, so when one is full the kernel passes the
// segment on unanswered, and any process in the pod can fill it (a burst
// of thousands of FINs is enough). The nameserver holds no connection of
// that 4-tuple (the engine answered its SYN) and answers with an RST,
// which would end the client's connection and lose its queries. The rules
// queue the nameservers' RSTs arriving from outside on a queue of their
// own (nfq/rules: Config.TCPResets), which the pod's outbound packets
// cannot fill; serverReset drops the RST of a flow the engine holds, and the
// client's TCP resends the segment that leaked (a pure ACK needs nothing
// more), which the engine then answers. Every other RST passes untouched:
// a flow the engine forgot (idle) or never held is the nameserver's to end.

// ServerReset handles a TCP segment from port 53 of pkt, laid out as l:
// the nameserver's RST of a flow the stack holds is dropped, anything else
// passed.
func (t *Stack) ServerReset(pkt []byte, l Layout) verdict.Result {
	var s segment
	if r := decodeSegment(pkt, l, &s); r != 0 && r != verdict.ReasonBadChecksum {
		return verdict.Result{Reason: r}
	}
	if s.flags&tcpRST == 0 {
		return verdict.Result{Reason: verdict.ReasonNotDNSQuery}
	}
	// The flow's key is the client's view: client to nameserver.
	k := flowKey{src: s.dst, dst: s.src, sport: s.dport, dport: s.sport, v6: s.v6}
	sh := &t.shards[k.shard()]
	sh.mu.Lock()
	held := sh.flows[k] != nil
	sh.mu.Unlock()
	if !held {
		return verdict.Result{Reason: verdict.ReasonNotDNSQuery}
	}
	return verdict.Result{Verdict: verdict.Drop, Reason: verdict.ReasonTCPServerReset}
}
