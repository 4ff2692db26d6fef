// Package exchange makes meshdns's own queries to nameservers: the DNS
// over TCP queries the engine does not answer itself (Client.Forward, the
// tcpstack.Forwarder) and the refreshes of cache entries for serve-stale
// and prefetch (Client.Refresh, the cache.Refresher, whose answers go
// to a Learner: the engine's LearnRefresh).
//
// Every exchange is as hard to spoof as a good stub resolver's:
//
//   - each UDP attempt leaves from a fresh socket connected to the
//     nameserver, so its source port is one the kernel picks at random
//     from the ephemeral range, and the kernel delivers to it only
//     datagrams from the nameserver's address and port;
//   - each query carries a fresh ID from crypto/rand (the client's ID is
//     restored in a forwarded answer);
//   - an answer is taken only when its ID and question (name without
//     regard to ASCII case, type and class exactly) are the query's; any
//     other datagram (a spoof, a late duplicate) is counted in
//     Stats.Mismatched and the attempt goes on waiting, so a spoof never
//     drops the real answer. ICMP errors do not end an attempt either.
//   - over TCP (truncated answers, zone transfers) the same ID and
//     question check applies on a pooled connection.
//
// Every socket carries Config.Mark (SO_MARK). meshdns's rules let marked
// packets out uncaptured and tracked, and exempt the replies by the mark
// of the socket they are delivered to (nfq/rules.Config: `-m socket
// --restore-skmark`), not by port: no port is fixed or known in advance.
//
// Memory is a budget: at most Config.MaxInFlight forwarded queries and
// Config.MaxRefreshes refreshes at once, and together at most
// Config.MaxBytes bytes of queries, receive buffers and TCP answers held
// (forwarded queries advertise at most Config.UDPSize, so a UDP receive
// buffer is that size). Past either a query fails at once with ErrBusy and
// a refresh is dropped. Forward and Refresh never block.
//
// FakeForwarder and FakeLearner stand in for the Client and the engine in
// tests.
package exchange
