// Package nfq is meshdns's side of NFQUEUE: the consumer that reads the
// queues the rules of package nfq/rules fill, hands each packet to a
// Handler and returns its verdict.
//
// A Consumer binds one Source per queue, opened by Config.Open: OpenBatch
// (BatchSource: a raw netlink socket, recvmmsg, the verdicts of a batch in
// one write, no allocation per packet; what the meshdns binary uses unless
// --queue-impl says go-nfqueue), OpenNfqueue (NfqueueSource, over
// go-nfqueue: one read and one verdict syscall per packet; Config.Open's
// default when nil), or FakeSource in tests. Each queue has one goroutine
// with its own 64 KiB buffer (the batch reader's buffers are mapped
// outside the Go heap): a packet is copied into it and given to the
// Handler, which may rewrite it in place, and the verdict goes back to the
// kernel. The batch reader parks in the runtime's netpoller while its
// queue is empty (no receive timeout, no thread blocked in a system call)
// and its reads and verdict writes never block, so an idle queue costs no
// wake-up and a packet costs one (see BatchSource).
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
