// Package wire is the engine's packet layer: it decodes an IPv4 or IPv6
// packet once into a Packet (its Kind, the offsets of its layers and its
// ports), parses a DNS query's question (Query), writes response records
// over the query (Writer) and finishes a UDP response in place
// (FinishUDPResponse: addresses and ports swapped, lengths and checksums set
// through dnsengine/checksum).
//
// Contract: everything works on offsets into the caller's buffer; nothing is
// copied or retained, nothing allocates, nothing is global. A decoded Packet
// says what the packet is, never what to do with it: the engine dispatches
// by Kind. Reasons are dnsengine/verdict's, so that a packet wire rejects is
// reported exactly as the engine reports it.
package wire
