// Package nfq is meshdns's side of NFQUEUE: the consumer that reads the
// queues the rules of package nfq/rules fill, hands each packet to a
// Handler and returns its verdict.
//
// A Consumer binds one Source per queue, opened by Config.Open. Two
// readers speak to the kernel:
//
//   - OpenBatch (BatchSource), the default: a raw netlink socket, one
//     recvmmsg for up to 32 packets, the verdicts of a batch in one write,
//     no allocation per packet; about 5x go-nfqueue's throughput at full
//     load.
//   - OpenNfqueue (NfqueueSource), over go-nfqueue: one read and one
//     verdict syscall per packet. It is kept as the alternative reader
//     (meshdns --queue-impl go-nfqueue) and as the differential oracle of
//     the kernel tests, which run the same cases against both readers.
//
// FakeSource stands in for both in tests. A Source delivers packets in
// batches, in memory of its own that it reuses (Source.Start), and takes
// the verdict of each packet of a batch while the batch is delivered
// (Source.Verdict, sent with the batch's) or, for a packet a HoldHandler
// held, later from any goroutine (Source.LateVerdict, sent at once): the
// handler holds the packet during HandleHold (Holdable.Hold) and keeps
// the handle it gets, whose Release gives the verdict (held.go).
//
// Each queue has one goroutine with its own 64 KiB buffer (the batch
// reader's buffers are mapped outside the Go heap): a packet is copied
// into it and given to the Handler, which may rewrite it in place, and
// its verdict is given before the next packet is handled. The batch
// reader parks in the runtime's netpoller while its queue is empty (no
// receive timeout, no thread blocked in a system call) and its reads and
// verdict writes never block, so an idle queue costs no wake-up and a
// packet costs one (see BatchSource).
//
// Stopping without losing queries: cancel the context given to Start or
// Run, with the rules in place (node mode: they belong to the pods) or
// removed first (the sidecar). The consumer first sets its fail-open
// queues' length to 0 (Source.SetQueueLen), so the kernel passes every new
// packet on at once, as it will once the queues are unbound; it keeps
// answering the packets already queued until none has arrived for
// Config.DrainQuiet (50 ms) and the kernel holds none, or Config.DrainMax
// (1 s) has passed, and only then unbinds its queues: packets still queued
// at unbind time would be dropped by the kernel.
package nfq
