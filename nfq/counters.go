package nfq

import "sync/atomic"

// Counters count what the consumer saw, for metrics. All queues add to the
// same Counters; read them with Load at any time.
type Counters struct {
	// Packets received from the queues.
	Packets atomic.Uint64
	// Verdicts given: accepted as queued, accepted rewritten, dropped.
	Accepted atomic.Uint64
	Modified atomic.Uint64
	Dropped  atomic.Uint64
	// VerdictErrors counts verdicts the netlink socket did not take (the
	// kernel then holds the packet until the queue is unbound).
	VerdictErrors atomic.Uint64
	// ReceiveErrors counts failed reads from the queue socket, NoBuffers
	// included.
	ReceiveErrors atomic.Uint64
	// NoBuffers counts ENOBUFS: the socket's receive buffer overflowed.
	// The NoENOBUFS socket option normally suppresses this report; with
	// fail-open the kernel then lets the packets pass unanswered.
	NoBuffers atomic.Uint64
	// HandlerPanics counts recovered panics of the Handler.
	HandlerPanics atomic.Uint64
	// RateLimited counts the pauses of Config.MaxRate: windows in which a
	// queue's new packets passed on to the nameserver.
	RateLimited atomic.Uint64
	// Unhandled counts packets accepted without asking the Handler: the
	// kernel copied only part of them, or the Handler returned
	// AcceptModified with an empty or over-long packet.
	Unhandled atomic.Uint64
}
