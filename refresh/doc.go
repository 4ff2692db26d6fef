// Package refresh sends meshdns's own queries to refresh entries of the
// engine's cache of upstream answers: serve-stale (RFC 8767) and prefetch.
//
// The engine asks for a refresh through the dnsengine.Refresher interface
// (Refresher.Refresh never blocks: a full queue refuses the request). The
// Refresher sends a query for the entry's key (name, type, class, DO and
// CD bits) to the upstream that gave the entry, from one UDP socket marked
// with SO_MARK: meshdns's rules skip marked packets, so the query is never
// queued back to meshdns nor untracked. An answer counts only if it comes
// from that upstream's port 53 with the query's random ID; it is handed to
// the engine's LearnRefresh (the Learner interface), which checks the
// question and applies the cache's rules as for any response.
//
// The socket is bound when the Refresher is made, so that its port is
// known before the rules are installed: the rules should exempt answers
// to that port from the NOTRACK rule for DNS answers, or a stateful INPUT
// policy drops them (see the package's README notes in Config.Port).
package refresh
