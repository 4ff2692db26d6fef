package dnsengine

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"
)

// DNS over TCP, answered in place (README.md, "DNS over TCP").
//
// With EnableTCP the engine takes over every TCP flow to port 53 at its SYN
// and speaks DNS over TCP (RFC 7766) with the client by rewriting the
// client's own segments: each queued client segment becomes the segment
// that answers it. A SYN becomes the SYN-ACK, a data segment the PSH-ACK
// carrying the answers, a pure ACK is dropped unless answer bytes wait for
// room in the client's window, a FIN becomes the FIN-ACK once every answer
// has been sent. Queries the engine does not answer are sent to the
// nameserver the client chose through a Forwarder; the segment that carried
// them is held (Verdict Hold) until the answers are back, and then released
// through the Releaser with the answers written into it.
//
// Restart and idle flows: our initial sequence number and our TCP
// timestamps carry keyed tags of the 4-tuple (tcp_cookie.go, 24 bits
// together), so a segment of a flow the engine no longer holds (forgotten
// when idle, or opened before a restart with the same key) is recognised
// and the flow resumed from it: its sequence and acknowledgment numbers
// give both sides' next bytes. A flow is idle when it makes no progress
// (no query read, no answer acknowledged), however often it sends. Only a segment with
// data or a FIN resumes a flow (a pure ACK needs no answer, and a
// keepalive probe looks the same); a flow forgotten in the middle of a
// message is reset instead, since its stream cannot be framed again.
// Segments of flows the engine did not open pass through untouched, as
// does an RST of a flow it does not hold. A segment of a flow it holds
// that got past a full queue to the nameserver draws the nameserver's
// RST, which the engine drops (tcp_server_reset.go). An RST or SYN of a flow it holds
// must carry the flow's numbers (RFC 5961, tcp_stream.go).
//
// Memory: one budget, MaxMemory, bounds everything the TCP path holds
// (tcp_budget.go).
//
// Limits: the cache of upstream answers is not consulted for TCP queries
// (they are forwarded); the engine never sends on its own, only in place
// of a client segment, so a rewritten segment lost on lo is not resent
// until the client sends again; a zone transfer gets its first message
// only; a restart while answer bytes are in flight to the client (the
// microseconds between reinjection and delivery) can garble that one
// connection.
//
// Concurrency: Process is called from several queue goroutines, and a
// flow's segments reach the same goroutine only when the rules use one
// queue or --queue-balance (which hashes per flow). The flow table is
// therefore split into shards, each behind its own mutex; a segment holds
// the mutex of its flow's shard while it is handled (parsing, answering,
// writing the reply: microseconds), as does a forwarded answer coming
// back. The UDP path takes no lock and is unchanged.
//
// Allocation: answering a mesh query on an established flow and dropping a
// pure ACK allocate nothing once the flow's buffers have grown (see
// TestTCPAllocs). A new flow allocates its state; a forwarded query
// allocates its copy, its hold and the released packet.

// maxIPPacket is the largest IPv4 packet: MaxPacket when zero.
const maxIPPacket = 65535

// TCP defaults.
const (
	DefaultTCPIdleTimeout = 30 * time.Second
	DefaultTCPMaxFlows    = 4096
	DefaultTCPHoldTimeout = 10 * time.Second
	DefaultTCPMaxBuffered = 128 << 10
	DefaultTCPMaxPending  = 128
)

// TCPConfig configures DNS over TCP. Zero fields take the defaults above;
// Forwarder, Releaser and Key are required.
type TCPConfig struct {
	// IdleTimeout: a flow with no segment and no forwarded query for this
	// long is forgotten. Forgetting is soft: a later segment of the flow is
	// recognised by its ISN cookie and the flow resumed.
	IdleTimeout time.Duration
	// MaxFlows bounds the flow table. A SYN past it passes through to the
	// real server, which then serves that connection.
	MaxFlows int
	// Key keys the ISN cookie (at least 16 bytes). The same key must be
	// used across restarts for flows to be resumed; keeping it (meshdns
	// run keeps it in a file) is the caller's concern.
	Key []byte
	// Forwarder sends the queries the engine does not answer.
	Forwarder Forwarder
	// Releaser receives the final verdicts of held segments.
	Releaser Releaser
	// HoldTimeout: forwarded queries not answered after this long are
	// answered SERVFAIL and their held segment released. It is a safety
	// net: it should exceed the Forwarder's own total timeout.
	HoldTimeout time.Duration
	// MaxBuffered caps the answer bytes a flow holds for its client (sent
	// but unacknowledged, or waiting for window); past it the flow stops
	// reading queries (they are not acknowledged; the client resends).
	MaxBuffered int
	// MaxPending caps the forwarded queries a flow waits for at once;
	// past it the flow stops reading queries likewise.
	MaxPending int
	// MaxMemory caps, in bytes of the process's memory, everything the
	// TCP path holds together: flows, partial queries, answers and
	// forwarded queries. Their live bytes are held to half of it, the
	// other half being the garbage collector's headroom (tcp_budget.go
	// says what is charged and what happens at the limit). At least
	// 6 MiB.
	MaxMemory int64
	// MaxPacket caps a rewritten segment, IP header included, below the
	// capacity of the caller's buffer: the largest packet the caller's
	// queue can carry back (meshdns run passes nfq.MaxVerdictPayload).
	// Zero means 65535, the largest IPv4 packet.
	MaxPacket int
	// Clock is the time source; nil means the system clock.
	Clock Clock
	// Logger receives debug lines about flows; nil discards them.
	Logger *slog.Logger
}

// Forwarder sends a DNS query the engine does not answer to a nameserver.
// exchange.Client (package exchange) is the real one;
// exchange.FakeForwarder is its fake.
type Forwarder interface {
	// Forward sends query, a whole DNS message without the TCP length
	// prefix, to server and calls done exactly once, from any goroutine
	// (also from within Forward), with the response, whose ID must be the
	// query's, or with an error. Forward must not block on I/O and must
	// not modify query; it may keep query until it calls done. done must
	// be called within a bounded time.
	Forward(query []byte, server netip.AddrPort, done func(resp []byte, err error))
}

// Releaser receives the final verdict of a held packet.
type Releaser interface {
	// Release is called exactly once for each token Process returned with
	// Verdict Hold, from any goroutine, and possibly before that Process
	// call has returned. res.Verdict is Rewrite, with res.Packet a new
	// buffer the callee owns, or Drop.
	Release(token uint64, res Result)
}

// ReleaseFunc adapts a function to a Releaser.
type ReleaseFunc func(token uint64, res Result)

// Release calls f.
func (f ReleaseFunc) Release(token uint64, res Result) { f(token, res) }

func (c TCPConfig) withDefaults() TCPConfig {
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultTCPIdleTimeout
	}
	if c.MaxFlows == 0 {
		c.MaxFlows = DefaultTCPMaxFlows
	}
	if c.HoldTimeout == 0 {
		c.HoldTimeout = DefaultTCPHoldTimeout
	}
	if c.MaxBuffered == 0 {
		c.MaxBuffered = DefaultTCPMaxBuffered
	}
	if c.MaxPending == 0 {
		c.MaxPending = DefaultTCPMaxPending
	}
	if c.MaxPacket == 0 {
		c.MaxPacket = maxIPPacket
	}
	if c.MaxMemory == 0 {
		c.MaxMemory = DefaultTCPMaxMemory
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c TCPConfig) validate() error {
	switch {
	case c.Forwarder == nil:
		return errors.New("dnsengine: TCP needs a Forwarder")
	case c.Releaser == nil:
		return errors.New("dnsengine: TCP needs a Releaser")
	case c.IdleTimeout < 0 || c.HoldTimeout < 0:
		return errors.New("dnsengine: negative TCP timeout")
	case c.MaxFlows < 0 || c.MaxBuffered < 0 || c.MaxPending < 0:
		return errors.New("dnsengine: negative TCP bound")
	case c.MaxMemory != 0 && c.MaxMemory < minTCPMemory:
		return fmt.Errorf("dnsengine: TCP max memory %d below the minimum %d", c.MaxMemory, minTCPMemory)
	case c.MaxPacket != 0 && (c.MaxPacket < 576 || c.MaxPacket > 65535):
		return fmt.Errorf("dnsengine: TCP max packet %d out of range (576..65535)", c.MaxPacket)
	}
	return nil
}

// EnableTCP turns on DNS over TCP. Call it once, before the first Process;
// it is not safe to call concurrently with Process.
func (e *Engine) EnableTCP(cfg TCPConfig) error {
	if e.tcp != nil {
		return errors.New("dnsengine: TCP already enabled")
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	key := cfg.Key
	if key == nil {
		return errors.New("dnsengine: TCP needs a Key")
	}
	if len(key) < minTCPKeyLen {
		return fmt.Errorf("dnsengine: TCP cookie key of %d bytes, want at least %d", len(key), minTCPKeyLen)
	}
	t := &tcpEngine{e: e, cfg: cfg, log: cfg.Logger, cookie: newCookie(key)}
	for i := range t.shards {
		t.shards[i].flows = make(map[flowKey]*flow)
	}
	e.tcp = t
	return nil
}

// TCPFlows returns the number of TCP flows the engine holds (0 when TCP
// is off), for a gauge.
func (e *Engine) TCPFlows() int {
	if e.tcp == nil {
		return 0
	}
	return int(e.tcp.flows.Load())
}

// SweepTCP forgets idle flows and releases segments held past the hold
// timeout. Segments trigger sweeps of their own shard as they arrive;
// calling SweepTCP every few seconds also covers quiet periods.
func (e *Engine) SweepTCP() {
	t := e.tcp
	if t == nil {
		return
	}
	now := t.cfg.Clock.Now()
	for i := range t.shards {
		sh := &t.shards[i]
		var a deferredEffects
		sh.mu.Lock()
		t.sweep(sh, now, &a)
		sh.mu.Unlock()
		t.finish(&a)
	}
}

// tcpEngine is the TCP state of an Engine.
type tcpEngine struct {
	e      *Engine
	cfg    TCPConfig
	log    *slog.Logger
	cookie cookie
	shards [tcpShards]flowShard
	flows  atomic.Int64  // flows in all shards
	used   atomic.Int64  // bytes charged to the memory budget (tcp_budget.go)
	fwding atomic.Int64  // of which forwarded queries the Forwarder has not called back for
	tokens atomic.Uint64 // last hold token given out
}
