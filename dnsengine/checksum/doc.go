// Package checksum computes the Internet checksum (RFC 1071) of IPv4
// headers and of UDP and TCP segments under their pseudo-header, for
// packets rewritten in place.
//
// Contract: the functions are pure, safe for concurrent use, and allocate
// nothing (TestAllocs). A running sum is a uint64 of 16-bit big-endian
// words added without folding, so that sums of pieces can be chained
// (Sum(Sum(s, a), b)) as long as every piece but the last has even length;
// Fold reduces it to 16 bits. Nothing here knows packet layouts beyond the
// pseudo-header: callers locate the header and the segment.
package checksum
