package nfq

import "context"

// Packet is one queued packet as a Source delivers it.
type Packet struct {
	// ID is the kernel's packet id, to give the verdict for.
	ID uint32
	// Payload is the packet from its IP header on. It is only valid until
	// the delivery call returns.
	Payload []byte
	// Truncated is set when the kernel copied only part of the packet.
	Truncated bool
}

// Source is one queue: where the consumer reads packets from and writes
// verdicts to. BatchSource and NfqueueSource are the kernel's; FakeSource
// is for tests.
//
// Packets come in batches, as many as one read returned (BatchSource: up
// to one recvmmsg, 32 datagrams; NfqueueSource: one), and their memory is
// the source's, reused for the next batch: nothing is allocated per
// packet on either side. A verdict given during the delivery of its batch
// may be held back and sent with the rest of the batch when deliver
// returns; a verdict given later (a held packet) goes out at once.
type Source interface {
	// Start binds the queue and returns once it is bound. From then on
	// the source calls deliver for each batch of packets (one or more, in
	// the order the kernel queued them), one batch at a time from one
	// goroutine, until ctx is done. The slice and the payloads are the
	// source's and valid only until deliver returns. If reading fails for
	// good the source stops delivering and calls failed once, from that
	// goroutine.
	Start(ctx context.Context, deliver func(batch []Packet), failed func(error)) error
	// Verdict gives the verdict for packet id of the batch being
	// delivered; payload is the new packet for AcceptModified and
	// RepeatModified and ignored otherwise, and it is copied before
	// Verdict returns. It is called from within deliver; the source may
	// send the verdict when deliver returns.
	Verdict(id uint32, v Verdict, payload []byte) error
	// LateVerdict gives the verdict of a packet whose deliver call has
	// returned without one (a held packet, HoldHandler), as Verdict does,
	// but sent before it returns. It may be called from any goroutine,
	// while deliver runs.
	LateVerdict(id uint32, v Verdict, payload []byte) error
	// SetQueueLen sets how many packets the kernel holds for the queue.
	// At 0 it queues nothing more: a fail-open queue accepts every new
	// packet as it comes (a fail-closed one would drop it: the consumer
	// never asks one). Packets already queued are still delivered. It may
	// be called while Start's goroutine runs; the kernel's acknowledgement
	// is not awaited (it applies the message before the write returns).
	SetQueueLen(n uint32) error
	// Close unbinds the queue and releases it. It is called after the ctx
	// given to Start is done, and returns after the last deliver call has
	// returned. Packets still queued are dropped by the kernel.
	Close() error
}

// OpenFunc opens the Source for queue number queue; cfg is the consumer's
// Config with its defaults filled in.
type OpenFunc func(queue uint16, cfg Config) (Source, error)

// MaxVerdictPayload is the largest packet a verdict can carry: a netlink
// attribute's 16-bit length includes its 4-byte header. A handler's longer
// rewrite is not sent; the original packet is accepted instead.
const MaxVerdictPayload = 0xffff - 4
