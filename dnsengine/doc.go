// Package dnsengine turns a queued packet into a verdict: accept it untouched,
// or accept it rewritten in place into the DNS response that answers it.
//
// The package is pure. It knows nothing of netlink, NFQUEUE, client-go or
// files: a caller hands it the bytes of an IPv4 or IPv6 packet in a buffer the
// caller owns, and gets back a verdict.Result. The name data comes from a
// Registry, which returns the current immutable *Table snapshot (built with a
// TableBuilder and swapped atomically by whoever syncs names). A table is
// a base segment plus one segment per Kubernetes Service, its group
// (table_groups.go): Table.Update derives a new table that replaces the
// groups that changed and shares everything else, so a change costs the
// Services it touches, not the cluster.
//
// Anything the engine cannot parse, does not own, or is not sure about is
// passed through unmodified: the pod's normal DNS path always remains.
//
// The packet path allocates nothing: the question name, lowercased in DNS
// wire format, is hashed into the table's index; records are held compactly
// (table.go: a node per name as label and parent, 12 bytes per record, no
// pointers; a group's endpoints as rows whose names and records are
// derived when asked, table_rows.go) and their rdata is written, with the
// rest of the response, over the query in the caller's buffer.
//
// Beside the answering core, the engine is made of packages of their own:
// wire (the packet layer: Process decodes each packet once into a
// wire.Packet and dispatches by its Kind; wire also parses the question,
// writes records and finishes the response), cache (the cache of upstream
// answers: handed the UDP queries the table does not own and the UDP
// responses; Config.Cache is its cache.Config), verdict (Verdict, Reason,
// Result: what Process returns, imported from there by callers), checksum
// (RFC 1071 sums) and tcpstack (DNS over TCP: Process hands it TCP segments
// once EnableTCP is called, and it answers through the engine's table only,
// tcp.go).
package dnsengine
