// Package loadgen is the reliability suite's DNS load generator: a steady,
// open-loop stream of lookups from inside a pod network namespace, in which
// every query is accounted for.
//
// Lookups are scheduled at a fixed rate from the start of the run whatever
// happens to earlier ones (open loop), so a stalled or killed interceptor
// shows up as lost or late queries instead of a silently lower offered load.
// Each lookup opens its own connected UDP socket, as glibc, musl and Go's
// resolver do, and sends its queries together: a Lookup of an A and an AAAA
// query is sent with one sendmmsg(2) from one socket, like glibc's
// getaddrinfo(AF_UNSPEC), which is what races in conntrack. Nothing is
// retried, so a loss is visible.
//
// Every query ends in exactly one class:
//   - Local: the answer meshdns gives for that name (Query.Local);
//   - Upstream: the upstream's answer (Query.Upstream), i.e. the query went
//     past meshdns (bypass, fail-open, or not a mesh name);
//   - Wrong: an answer that is neither;
//   - Lost: no answer within Config.Timeout;
//   - NotSent: the generator itself could not send it (socket error or its
//     in-flight cap), which a healthy run never shows.
//
// Latency runs from just before a lookup's queries are sent to the kernel's
// arrival timestamp of the answer (SO_TIMESTAMPNS), and a query is lost when
// no answer arrived within Timeout: neither depends on when the generator's
// goroutines get to run. How late the generator sent queries after their
// scheduled time is reported apart (Summary.SendLag), so a busy machine
// shows as lag rather than being blamed on the interceptor. Result keeps one
// Record per query, from which Summary, Timeline (per second), Window and
// Converge (how long until every query of a kind was answered in the wanted
// way: recovery times) are computed, all by the time queries were sent.
//
// Sockets come from a Dialer: NamespaceDialer makes them on OS threads kept
// inside a network namespace (internal/netns), so the test process itself is
// the client in the pod; LocalDialer uses the caller's namespace (the fake
// for tests without root). A run is bounded in time (Duration, plus Timeout
// and a second's slack for the last answers) and in size (Config.MaxQueries).
package loadgen
