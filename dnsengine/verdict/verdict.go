package verdict

// Verdict is what the caller should tell the kernel about a packet.
type Verdict uint8

const (
	// Accept: let the packet continue unmodified.
	Accept Verdict = iota
	// Rewrite: let the packet continue, replaced by Result.Packet.
	Rewrite
	// Drop: the packet was consumed (reserved for stream protocols).
	Drop
	// Hold (TCP, package tcpstack): give no verdict yet. The packet waits
	// in the queue until the TCP stack releases the handle it took from
	// the caller's tcpstack.Holdable, possibly before Process has returned.
	Hold
)

func (v Verdict) String() string {
	switch v {
	case Accept:
		return "accept"
	case Rewrite:
		return "rewrite"
	case Drop:
		return "drop"
	case Hold:
		return "hold"
	}
	return "unknown"
}

// Reason says why the engine reached its verdict. Reasons are stable
// identifiers used in metrics and replay summaries.
type Reason uint8

const (
	ReasonAnswered    Reason = iota // rewritten: records in the answer section
	ReasonNXDomain                  // rewritten: NXDOMAIN for a name under an authoritative zone
	ReasonNoData                    // rewritten: NOERROR, no records of the asked type
	ReasonNotOwned                  // passed: the name is not the mesh's
	ReasonNotReady                  // passed: no name table loaded yet
	ReasonMalformed                 // passed: the IP, UDP or DNS bytes do not parse
	ReasonNotIP                     // passed: not an IPv4/IPv6 packet we understand (fragments, extension headers)
	ReasonNotDNSQuery               // passed: not UDP to port 53 (or a DNS response)
	ReasonTCP                       // passed: DNS over TCP
	ReasonBadChecksum               // passed: IP or UDP checksum does not verify
	ReasonUnsupported               // passed: opcode, class, qdcount, EDNS version or extra records we do not answer
	ReasonNoRoom                    // passed: the caller's buffer is too small for the smallest answer
	// DNS over TCP (package tcpstack), when enabled with Engine.EnableTCP. Data segments
	// answered in place report the reason of their first answer.
	ReasonTCPHandshake   // rewritten: a SYN into the SYN-ACK
	ReasonTCPAck         // rewritten into a pure ACK (partial query, gap), or dropped (nothing to carry)
	ReasonTCPCarrier     // rewritten: a pure ACK carrying answer bytes the client's window now admits
	ReasonTCPRetransmit  // rewritten: a retransmission answered with the unacknowledged bytes
	ReasonTCPClose       // FIN answered, last ACK or RST dropped
	ReasonTCPHeld        // held: the segment waits for forwarded answers
	ReasonTCPForwarded   // released: a held segment carrying forwarded answers (tcpstack.Held only)
	ReasonTCPFlowLimit   // passed: a new flow past tcpstack.Config.MaxFlows
	ReasonTCPForeign     // passed: a segment of a flow meshdns did not open
	ReasonTCPMemory      // passed (a new flow), reset (a partial query) or SERVFAIL (an answer): the TCP memory budget is spent
	ReasonTCPServerReset // dropped: the nameserver's RST of a flow meshdns holds (a segment of it reached the nameserver past a full queue)
	// Cache of upstream answers (package cache), when cache.Config.Size > 0.
	ReasonCacheHit     // rewritten: answered from the cache
	ReasonCacheStale   // rewritten: answered from an expired entry (serve-stale) while it is refreshed
	ReasonCacheLearned // passed: an upstream response, learned into the cache
	ReasonResponse     // passed: an upstream response not learned (CacheMetrics says why)
	numReasons
)

var reasonNames = [numReasons]string{
	ReasonAnswered:    "answered",
	ReasonNXDomain:    "nxdomain",
	ReasonNoData:      "nodata",
	ReasonNotOwned:    "not_owned",
	ReasonNotReady:    "not_ready",
	ReasonMalformed:   "malformed",
	ReasonNotIP:       "not_ip",
	ReasonNotDNSQuery: "not_dns_query",
	ReasonTCP:         "tcp",
	ReasonBadChecksum: "bad_checksum",
	ReasonUnsupported: "unsupported",
	ReasonNoRoom:      "no_room",

	ReasonTCPHandshake:   "tcp_handshake",
	ReasonTCPAck:         "tcp_ack",
	ReasonTCPCarrier:     "tcp_carrier",
	ReasonTCPRetransmit:  "tcp_retransmit",
	ReasonTCPClose:       "tcp_close",
	ReasonTCPHeld:        "tcp_held",
	ReasonTCPForwarded:   "tcp_forwarded",
	ReasonTCPFlowLimit:   "tcp_flow_limit",
	ReasonTCPForeign:     "tcp_foreign",
	ReasonTCPMemory:      "tcp_memory",
	ReasonTCPServerReset: "tcp_server_reset",

	ReasonCacheHit:     "cache_hit",
	ReasonCacheStale:   "cache_stale",
	ReasonCacheLearned: "cache_learned",
	ReasonResponse:     "response",
}

// NumReasons is the number of distinct reasons, for array-indexed counters.
const NumReasons = int(numReasons)

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// ReasonClass groups reasons by what happened to the packet, for metrics
// (observe's result label is a class's String) and summaries.
type ReasonClass uint8

const (
	// ClassPassed: the packet was accepted untouched (not the mesh's, not
	// a query, a flow meshdns did not open, a response delivered as is).
	ClassPassed ReasonClass = iota
	// ClassAnswered: rewritten into an answer with records (from the
	// table or the cache).
	ClassAnswered
	// ClassNXDomain: rewritten into NXDOMAIN.
	ClassNXDomain
	// ClassNoData: rewritten into NOERROR without records.
	ClassNoData
	// ClassTCP: a segment of a DNS-over-TCP flow meshdns holds, handled
	// in place (rewritten, held, released or dropped; the reason says how).
	ClassTCP
)

func (c ReasonClass) String() string {
	switch c {
	case ClassPassed:
		return "passed"
	case ClassAnswered:
		return "answered"
	case ClassNXDomain:
		return "nxdomain"
	case ClassNoData:
		return "nodata"
	case ClassTCP:
		return "tcp"
	}
	return "unknown"
}

// Class returns the reason's class. Reasons not listed are passed.
func (r Reason) Class() ReasonClass {
	switch r {
	case ReasonNXDomain:
		return ClassNXDomain
	case ReasonNoData:
		return ClassNoData
	case ReasonAnswered, ReasonCacheHit, ReasonCacheStale:
		return ClassAnswered
	case ReasonTCPHandshake, ReasonTCPAck, ReasonTCPCarrier, ReasonTCPRetransmit,
		ReasonTCPClose, ReasonTCPHeld, ReasonTCPForwarded, ReasonTCPMemory, ReasonTCPServerReset:
		// Not ReasonTCP (TCP off: passed), ReasonTCPFlowLimit nor
		// ReasonTCPForeign (accepted untouched).
		return ClassTCP
	}
	return ClassPassed
}

// Answered reports whether the reason is one where the engine rewrote the
// packet into a response.
func (r Reason) Answered() bool {
	c := r.Class()
	return c == ClassAnswered || c == ClassNXDomain || c == ClassNoData
}

// Result is the outcome of dnsengine.Engine.Process.
type Result struct {
	Verdict Verdict
	Reason  Reason
	// Packet is the rewritten packet when Verdict is Rewrite. It aliases the
	// buffer passed to Process.
	Packet []byte
	// Truncated is set when the response did not fit the client's UDP size
	// and was sent with TC set.
	Truncated bool
}
