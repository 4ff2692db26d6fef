// Package loadgen is the benchmark's own DNS load generator.
//
// It is open-loop: queries (or lookups) are scheduled at fixed intervals
// from the start of the run, and a query's latency is measured from the
// time it was scheduled to be sent, not from when the sender got round to
// it, so a stalled server or a late sender shows up in the latency instead
// of silently lowering the offered load (no coordinated omission). The
// pacer runs on a locked OS thread and sleeps with nanosleep(2) and a 1 ns
// timer slack, because the Go timer rounds short sleeps up to about a
// millisecond.
//
// Four engines share the pacer:
//   - FixedRate sends single queries from a few connected UDP sockets and
//     takes each reply's arrival time from the kernel (SO_TIMESTAMPNS), so
//     the receiving goroutine's scheduling does not count;
//   - Lookups runs glibc-style getaddrinfo lookups (Resolve): A and AAAA in
//     parallel from one socket per lookup, over the search list with
//     ndots, as a pod's libc does; latency is per lookup;
//   - TCPConn sends each query over a new TCP connection (non-blocking
//     connect on schedule, one epoll thread writes the query and reads the
//     answer, the client closes); latency includes the handshake;
//   - TCPPipe pipelines queries over a few long-lived TCP connections,
//     answers matched by ID in any order; a connection the server closes
//     is replaced and its unanswered queries sent again.
//
// DNS over TCP answers are timestamped by the kernel too (SO_TIMESTAMPNS
// on a TCP socket gives the last segment read).
//
// Every query and lookup is recorded: the percentiles are exact, not
// estimated from a histogram.
package loadgen
