package dnsengine

import "github.com/meshdns/meshdns/dnsengine/verdict"

// The engine's verdict vocabulary is package verdict's, shared with the
// TCP stack (package tcpstack); these aliases keep it under dnsengine's
// name for callers.
type (
	Verdict     = verdict.Verdict
	Reason      = verdict.Reason
	ReasonClass = verdict.ReasonClass
	Result      = verdict.Result
)

// Verdicts.
const (
	Accept  = verdict.Accept
	Rewrite = verdict.Rewrite
	Drop    = verdict.Drop
	Hold    = verdict.Hold
)

// Reasons.
const (
	ReasonAnswered       = verdict.ReasonAnswered
	ReasonNXDomain       = verdict.ReasonNXDomain
	ReasonNoData         = verdict.ReasonNoData
	ReasonNotOwned       = verdict.ReasonNotOwned
	ReasonNotReady       = verdict.ReasonNotReady
	ReasonMalformed      = verdict.ReasonMalformed
	ReasonNotIP          = verdict.ReasonNotIP
	ReasonNotDNSQuery    = verdict.ReasonNotDNSQuery
	ReasonTCP            = verdict.ReasonTCP
	ReasonBadChecksum    = verdict.ReasonBadChecksum
	ReasonUnsupported    = verdict.ReasonUnsupported
	ReasonNoRoom         = verdict.ReasonNoRoom
	ReasonTCPHandshake   = verdict.ReasonTCPHandshake
	ReasonTCPAck         = verdict.ReasonTCPAck
	ReasonTCPCarrier     = verdict.ReasonTCPCarrier
	ReasonTCPRetransmit  = verdict.ReasonTCPRetransmit
	ReasonTCPClose       = verdict.ReasonTCPClose
	ReasonTCPHeld        = verdict.ReasonTCPHeld
	ReasonTCPForwarded   = verdict.ReasonTCPForwarded
	ReasonTCPFlowLimit   = verdict.ReasonTCPFlowLimit
	ReasonTCPForeign     = verdict.ReasonTCPForeign
	ReasonTCPMemory      = verdict.ReasonTCPMemory
	ReasonTCPServerReset = verdict.ReasonTCPServerReset
	ReasonCacheHit       = verdict.ReasonCacheHit
	ReasonCacheStale     = verdict.ReasonCacheStale
	ReasonCacheLearned   = verdict.ReasonCacheLearned
	ReasonResponse       = verdict.ReasonResponse
)

// Reason classes.
const (
	ClassPassed   = verdict.ClassPassed
	ClassAnswered = verdict.ClassAnswered
	ClassNXDomain = verdict.ClassNXDomain
	ClassNoData   = verdict.ClassNoData
	ClassTCP      = verdict.ClassTCP
)

// NumReasons is the number of distinct reasons, for array-indexed counters.
const NumReasons = verdict.NumReasons
