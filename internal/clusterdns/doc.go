// Package clusterdns is a small DNS server that stands in for the cluster
// DNS (CoreDNS, the pod's nameserver, which meshdns calls its upstream) in
// meshdns's tests, demo and benchmarks. It is a fake: the real nameserver
// meshdns forwards to is "the upstream" everywhere else in the code.
//
// It answers a fixed zone, given as zone-file text and/or a map of records,
// returns NXDOMAIN for names outside it (NOERROR with no answers for a name
// that exists with other types), follows CNAMEs inside the zone, and expands
// "*." wildcards. It serves UDP and TCP on sockets the caller hands it (made
// inside a network namespace with internal/netns, for instance) or opens
// itself with ListenAndServe, counts every query it receives by name and
// type, can delay its answers, drop them or fail them, and can be stopped and
// started again to play an upstream that goes down.
//
// Telling its answers from meshdns's: records without a TTL of their own get
// DefaultTTL (7 seconds), which meshdns never uses (its default is 30); with
// Config.Marker every response also carries a TXT record named MarkerName in
// its additional section; and the zones the demo and tests load answer mesh
// names (web.default.svc.cluster.local and the like) with addresses meshdns
// would never give (198.19.x.x, fd53:19::x), so an answer shows who gave it.
// The counters say whether a query reached the upstream at all.
package clusterdns
