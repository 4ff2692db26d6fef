package dnsengine

import (
	"errors"

	"github.com/meshdns/meshdns/dnsengine/tcpstack"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/meshdns/meshdns/dnsengine/wire"
)

// DNS over TCP is package tcpstack's: the engine hands it the TCP segments
// it decodes (process.go) and answers its queries from the table
// (tcpAnswerer).

// EnableTCP turns on DNS over TCP. Call it once, before the first Process;
// it is not safe to call concurrently with Process.
func (e *Engine) EnableTCP(cfg tcpstack.Config) error {
	if e.tcp != nil {
		return errors.New("dnsengine: TCP already enabled")
	}
	st, err := tcpstack.New(cfg, tcpAnswerer{e})
	if err != nil {
		return err
	}
	e.tcp = st
	return nil
}

// TCPStack returns the engine's TCP stack, nil when TCP is off.
func (e *Engine) TCPStack() *tcpstack.Stack { return e.tcp }

// TCPFlows returns the number of TCP flows the engine holds (0 when TCP
// is off), for a gauge.
func (e *Engine) TCPFlows() int {
	if e.tcp == nil {
		return 0
	}
	return e.tcp.Flows()
}

// SweepTCP forgets idle TCP flows and releases segments held past the
// hold timeout (tcpstack.Stack.Sweep); nothing when TCP is off.
func (e *Engine) SweepTCP() {
	if e.tcp != nil {
		e.tcp.Sweep()
	}
}

// TCPMemory returns the bytes the TCP path holds, as charged to
// tcpstack.Config.MaxMemory (0 when TCP is off), for a gauge.
func (e *Engine) TCPMemory() int64 {
	if e.tcp == nil {
		return 0
	}
	return e.tcp.Memory()
}

// tcpAnswerer is the TCP stack's tcpstack.Answerer: the engine's table.
type tcpAnswerer struct{ e *Engine }

func (a tcpAnswerer) Ready() bool { return a.e.reg.Table() != nil }

// Answer answers msg from the current table as respond does for UDP, with
// no size limit but dst's (and a TCP message's, 65535 bytes).
func (a tcpAnswerer) Answer(msg, dst []byte) (int, verdict.Reason) {
	t := a.e.reg.Table()
	if t == nil {
		return 0, verdict.ReasonNotReady
	}
	var q wire.Query
	if r := wire.ParseQuery(msg, &q); r != 0 {
		return 0, r
	}
	n := copy(dst, msg)
	if n < len(msg) {
		return 0, verdict.ReasonNoRoom
	}
	n, r, _ := a.e.respond(t, dst, &q, min(len(dst), 65535))
	return n, r
}
