// Package nfq is meshdns's side of NFQUEUE: the iptables rules that send a
// pod's DNS queries to a queue, and the consumer that reads the queue,
// hands each packet to a Handler and returns its verdict.
//
// # Rules
//
// Install writes meshdns's rules into chains of its own, entered by one
// jump each from a built-in chain, for each family (iptables, ip6tables),
// with the rules of that family's nameservers only (or, with CaptureAll,
// port 53 to any address):
//
//	mangle MESHDNS-OUTPUT (from OUTPUT)
//	  -m mark --mark M/M -j RETURN                       meshdns's own packets
//	  -d NS -p udp|tcp --dport 53 -j NFQUEUE --queue-num N --queue-bypass
//	raw MESHDNS-NOTRACK-OUT (from OUTPUT)
//	  -m mark --mark M/M -j RETURN
//	  -d NS -p udp|tcp --dport 53 -j CT --notrack
//	raw MESHDNS-NOTRACK-PRE (from PREROUTING)
//	  -s NS -p udp --sport 53 -j CT --notrack
//	  -s NS -i lo -p tcp --sport 53 -j CT --notrack
//	  -s NS ! -i lo -p tcp --sport 53 --tcp-flags RST RST                 TCPResets only
//	        -j NFQUEUE --queue-num N+Queues --queue-bypass
//
// (The TCP queries are queued in raw OUTPUT, before conntrack; render.go
// says why.) --queue-bypass keeps DNS working whenever no consumer is
// bound. NOTRACK keeps answered queries from leaving conntrack entries
// behind. The queues fail open: past their length the kernel passes
// packets on unanswered. The reset queue (TCPResets, Config.ResetQueue)
// is the exception: it takes the nameservers' TCP RSTs, one for each
// segment of a flow meshdns answers that got past a full queue, and fails
// closed, so that none reaches the client unjudged.
// Everything is applied with iptables-restore --noflush, so each table
// changes atomically, and nothing outside meshdns's chains but their jumps
// is touched. RenderInstall and RenderRemove return the restore text for
// tests and dry runs; a Runner runs the tools (FakeRunner records them).
//
// # Consumer
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
