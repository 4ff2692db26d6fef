// Package forward sends the DNS queries meshdns does not answer itself to
// the nameserver the client chose, over meshdns's own sockets, and hands
// the answers back. It serves DNS over TCP flows that meshdns took over
// (dnsengine.Forwarder): the client's connection ends in the engine, so a
// query for a name that is not the mesh's must be asked anew.
//
// A query goes over UDP first, as a stub resolver's would: from one of a
// few UDP sockets bound when the Forwarder is made (LocalPorts: the
// capture rules must let answers to them through untouched), under a
// fresh random ID (the client's is restored in the answer), with
// Config.Timeout per attempt and Config.Attempts attempts. A truncated answer is asked again over TCP, on
// a pooled connection to that nameserver. Zone transfers go over TCP
// directly. Every socket carries Config.Mark (SO_MARK), which meshdns's
// iptables rules return early on, so its own queries are never captured.
//
// Forward never blocks: each query runs in its own goroutine, at most
// Config.MaxInFlight at once (past it the query fails at once with
// ErrBusy), and its callback is called exactly once. Fake is a Forwarder
// for tests that answers from a function or leaves the answering to the
// test.
package forward
