package tcpstack

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/meshdns/meshdns/dnsengine/verdict"
)

// maxIPPacket is the largest IPv4 packet: MaxPacket when zero.
const maxIPPacket = 65535

// TCP defaults.
const (
	DefaultIdleTimeout = 30 * time.Second
	DefaultMaxFlows    = 4096
	DefaultHoldTimeout = 10 * time.Second
	DefaultMaxBuffered = 128 << 10
	DefaultMaxPending  = 128
)

// Config configures DNS over TCP. Zero fields take the defaults above;
// Forwarder and Key are required.
type Config struct {
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
	// other half being the garbage collector's headroom (budget.go
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

// Answerer answers queries from the names the engine holds.
// dnsengine.Engine's is the real one (Engine.EnableTCP); FakeAnswerer is
// its fake.
type Answerer interface {
	// Ready reports whether there are names to answer from: a SYN before
	// is passed to the real server.
	Ready() bool
	// Answer writes the response to the DNS message msg (without the TCP
	// length prefix) into dst, which does not overlap msg, in at most
	// len(dst) bytes, and returns its length and reason. Length 0 means
	// the query is not answered here: it is forwarded, unless the reason
	// is ReasonNoRoom, which asks for a larger dst (the stack passes nil
	// until it has made its buffer, 65535 bytes). Answer must not keep
	// msg or dst, and must not allocate.
	Answer(msg, dst []byte) (int, verdict.Reason)
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

// Holdable is the caller's packet as Process sees it: a segment the
// stack may hold. Process calls Hold at most once, and only when it
// returns Verdict Hold: the segment then waits in its queue, its verdict
// given later through the Held that Hold returned, which the stack keeps
// with the segment's forwarded queries. Hold must not allocate for a
// packet that is not held, nor block.
type Holdable interface {
	Hold() Held
}

// Held is a segment the stack holds (Holdable.Hold).
type Held interface {
	// Release gives the segment its final verdict. The stack calls it
	// exactly once per Held, from any goroutine (the Forwarder's, a
	// sweep's, or a later segment's), and possibly before the Process
	// call that held the segment has returned. res.Verdict is Rewrite,
	// with res.Packet a new buffer the callee owns, or Drop.
	Release(res verdict.Result)
}

// Clock is the stack's time source (cache.FakeClock is a fake).
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (c Config) withDefaults() Config {
	c.IdleTimeout = cmp.Or(c.IdleTimeout, DefaultIdleTimeout)
	c.MaxFlows = cmp.Or(c.MaxFlows, DefaultMaxFlows)
	c.HoldTimeout = cmp.Or(c.HoldTimeout, DefaultHoldTimeout)
	c.MaxBuffered = cmp.Or(c.MaxBuffered, DefaultMaxBuffered)
	c.MaxPending = cmp.Or(c.MaxPending, DefaultMaxPending)
	c.MaxPacket = cmp.Or(c.MaxPacket, maxIPPacket)
	c.MaxMemory = cmp.Or(c.MaxMemory, DefaultMaxMemory)
	if c.Clock == nil {
		c.Clock = systemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Forwarder == nil:
		return errors.New("tcpstack: TCP needs a Forwarder")
	case c.IdleTimeout < 0 || c.HoldTimeout < 0:
		return errors.New("tcpstack: negative TCP timeout")
	case c.MaxFlows < 0 || c.MaxBuffered < 0 || c.MaxPending < 0:
		return errors.New("tcpstack: negative TCP bound")
	case c.MaxMemory != 0 && c.MaxMemory < minTCPMemory:
		return fmt.Errorf("tcpstack: TCP max memory %d below the minimum %d", c.MaxMemory, minTCPMemory)
	case c.MaxPacket != 0 && (c.MaxPacket < 576 || c.MaxPacket > 65535):
		return fmt.Errorf("tcpstack: TCP max packet %d out of range (576..65535)", c.MaxPacket)
	}
	return nil
}

// New returns a stack answering through ans, configured by cfg.
func New(cfg Config, ans Answerer) (*Stack, error) {
	if ans == nil {
		return nil, errors.New("tcpstack: no Answerer")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	key := cfg.Key
	if key == nil {
		return nil, errors.New("tcpstack: TCP needs a Key")
	}
	if len(key) < minTCPKeyLen {
		return nil, fmt.Errorf("tcpstack: TCP cookie key of %d bytes, want at least %d", len(key), minTCPKeyLen)
	}
	t := &Stack{ans: ans, cfg: cfg, log: cfg.Logger, cookie: newCookie(key)}
	for i := range t.shards {
		t.shards[i].flows = make(map[flowKey]*flow)
	}
	return t, nil
}

// Flows returns the number of flows the stack holds, for a gauge.
func (t *Stack) Flows() int {
	return int(t.flows.Load())
}

// Sweep forgets idle flows and releases segments held past the hold
// timeout. Segments trigger sweeps of their own shard as they arrive;
// calling Sweep every few seconds also covers quiet periods.
func (t *Stack) Sweep() {
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

// Stack is the state of DNS over TCP: the flows, in shards, and the
// memory budget. Its methods are safe for concurrent use.
type Stack struct {
	ans    Answerer
	cfg    Config
	log    *slog.Logger
	cookie cookie
	shards [tcpShards]flowShard
	flows  atomic.Int64 // flows in all shards
	used   atomic.Int64 // bytes charged to the memory budget (budget.go)
	fwding atomic.Int64 // of which forwarded queries the Forwarder has not called back for
}
