// Package dnsengine turns a queued packet into a verdict: accept it untouched,
// or accept it rewritten in place into the DNS response that answers it.
//
// The package is pure. It knows nothing of netlink, NFQUEUE, client-go or
// files: a caller hands it the bytes of an IPv4 or IPv6 packet in a buffer the
// caller owns, and gets back a Result. The name data comes from a Registry,
// which returns the current immutable *Table snapshot (built with a
// TableBuilder and swapped atomically by whoever syncs names).
//
// Anything the engine cannot parse, does not own, or is not sure about is
// passed through unmodified: the pod's normal DNS path always remains.
//
// The packet path allocates nothing: names are compared in lowercase DNS
// wire format against map keys (string(b) map lookups do not allocate),
// records are stored pre-encoded, and the response is written over the query
// in the caller's buffer.
package dnsengine
