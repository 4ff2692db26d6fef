// Command meshdns-upstream is a small DNS server for the meshdns demo and
// benchmarks: it serves a zone file (or the built-in example zone) on UDP
// and TCP, counts the queries it receives, and prints those counts as JSON
// on exit when asked.
//
//	meshdns-upstream --listen 198.18.0.1:53 --listen [fd53::1]:53 [--zone FILE]
//	                 [--origin .] [--ttl 7] [--delay 0] [--marker]
//	                 [--stats] [--log-level info]
//
// It logs "msg=serving" once it answers, and stops on SIGINT or SIGTERM.
// Run it inside a namespace with `ip netns exec <ns> meshdns-upstream ...`.
// The server is internal/clusterdns, the fake cluster DNS; the command keeps
// its name, that of the upstream it plays for meshdns.
package main
