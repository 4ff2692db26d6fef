// Package loadgen is the project's one DNS load generator: the reliability
// suite (internal/chaos) and the benchmark (bench/) both drive it, and its
// statistics are in internal/loadgen/stats. It links no `testing`: the
// suites wrap it in their own helpers.
//
// It is open-loop: lookups or queries are scheduled at fixed intervals from
// the start of the run whatever happened to earlier ones, so a stalled or
// killed server shows up as lost or late queries instead of a silently
// lower offered load (no coordinated omission). One pacer serves every
// engine: it runs on a locked OS thread and sleeps with nanosleep(2) and a
// 1 ns timer slack, because the Go timer rounds short sleeps up to about a
// millisecond, and when it falls behind it fires every due event at once.
// Answers are timed by the kernel's receive timestamp (SO_TIMESTAMPNS), so
// neither a latency nor a loss depends on when a receiving goroutine got to
// run. Every query is recorded: percentiles are exact, not estimated from a
// histogram. How late the generator sent is reported apart (SendLag), so a
// busy machine shows as lag rather than being blamed on the server.
//
// The engines, all configured by Config:
//   - Run (the reliability suite): Lookups of one to 16 queries, each from
//     its own new connected UDP socket as glibc, musl and Go's resolver do,
//     sent together (an A and an AAAA query in one sendmmsg(2), like
//     glibc's getaddrinfo(AF_UNSPEC), which is what races in conntrack).
//     Nothing is retried, so a loss is visible. Every query ends in exactly
//     one Class: Local (meshdns's answer for the name, Query.Local),
//     Upstream (the upstream's, Query.Upstream: the query went past meshdns),
//     Wrong (neither), Lost (no answer within Timeout) or NotSent (the
//     generator could not send it: a socket error or its in-flight cap,
//     which a healthy run never shows). Latency runs from just before the
//     send to the answer's arrival. Result keeps one Record per query, from
//     which Summary, Timeline (per second), Window and Converge (how long
//     until every query of a kind was answered in the wanted way: recovery
//     times) are computed, all by the time queries were sent.
//   - FixedRate (bench): single queries from a few connected UDP sockets,
//     latency from the scheduled send time, answers tallied by rcode.
//   - Lookups (bench): glibc-style getaddrinfo lookups (Resolve): A and
//     AAAA in parallel from one socket per lookup, over the search list
//     with ndots, as a pod's libc does; latency is per lookup.
//   - TCPConn (bench): each query over a new TCP connection (non-blocking
//     connect on schedule, one epoll thread writes the query and reads the
//     answer, the client closes); latency includes the handshake.
//   - TCPPipe (bench): queries pipelined over a few long-lived TCP
//     connections, answers matched by ID in any order; a connection the
//     server closes is replaced and its unanswered queries sent again.
//
// DNS over TCP answers are timestamped by the kernel too (SO_TIMESTAMPNS on
// a TCP socket gives the last segment read). Queries are built by one
// hand-written encoder (AppendQuery) and the rate engines read replies with
// a hand-written parser (ParseReply), neither allocating per query; Run
// parses answers with miekg/dns, since it compares their records.
//
// The lookups' UDP sockets come from a Dialer: NamespaceDialer makes them on
// OS threads kept inside a network namespace (internal/netns), so the test
// process itself is the client in the pod; LocalDialer uses the caller's
// namespace (the bench's generator process runs inside the pod namespace).
// A run is bounded in time (Duration, plus Timeout and, for Run, a second's
// slack for the last answers) and in size (MaxEvents, Config.MaxQueries).
package loadgen
