// Package tcpstack speaks DNS over TCP (RFC 7766) for the engine, in place
// (README.md, "DNS over TCP").
//
// Contract: the engine (package dnsengine) hands Stack.Process every TCP
// segment to port 53 it decoded (and Stack.ServerReset every segment from
// port 53), with a Layout saying where the segment lies and the caller's
// Holdable, through which the segment may be held. The stack answers
// queries through an Answerer (the engine's table: the only thing it
// knows of the engine), sends the others through a Forwarder, and keeps
// the Held handle of a segment it holds with the segment's forwarded
// queries, releasing it with the final verdict. It speaks the engine's
// vocabulary (package verdict) and touches no files, sockets or globals.
//
// With Engine.EnableTCP the engine takes over every TCP flow to port 53 at its SYN
// and speaks DNS over TCP (RFC 7766) with the client by rewriting the
// client's own segments: each queued client segment becomes the segment
// that answers it. A SYN becomes the SYN-ACK, a data segment the PSH-ACK
// carrying the answers, a pure ACK is dropped unless answer bytes wait for
// room in the client's window, a FIN becomes the FIN-ACK once every answer
// has been sent. Queries the engine does not answer are sent to the
// nameserver the client chose through a Forwarder; the segment that carried
// them is held (Holdable.Hold, Verdict Hold) until the answers are back,
// and then released (Held.Release) with the answers written into it. A
// caller that cannot hold (a nil Holdable, Engine.Process) gets SERVFAIL
// for those queries.
//
// Restart and idle flows: our initial sequence number and our TCP
// timestamps carry keyed tags of the 4-tuple (cookie.go, 24 bits
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
// RST, which the engine drops (server_reset.go). An RST or SYN of a flow it holds
// must carry the flow's numbers (RFC 5961, stream.go).
//
// Memory: one budget, MaxMemory, bounds everything the TCP path holds
// (budget.go).
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
// TestTCPAllocs; Holdable.Hold is only called for a segment held). A new
// flow allocates its state; a forwarded query allocates its copy, its hold
// and the released packet, and the queue's handle is the caller's (nfq's
// is one small object per held packet).
package tcpstack
