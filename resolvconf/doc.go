// Package resolvconf reads the resolver configuration of a pod
// (/etc/resolv.conf): its nameservers, search domains and options.
//
// Parsing follows glibc's rules where they matter to meshdns: lines starting
// with '#' or ';' are comments, unknown keywords are ignored, a later
// "search" or "domain" line replaces an earlier one, and "options" lines
// accumulate. A malformed line is skipped (glibc skips it too, so the pod's
// own resolver does not use it) and described in Config.Ignored, so a caller
// can log it; only a read error fails the parse.
//
// miekg/dns's ClientConfigFromReader reads the same file but not what
// meshdns needs of it: it keeps nameservers as written (IPv6 zones, mapped
// IPv4 addresses and duplicates included) where meshdns matches them
// against packet headers; it keeps only ndots, timeout, attempts and rotate
// of the options, where node mode writes a pod's options back in file
// order as the kubelet does (edns0, trust-ad, single-request...); it does
// not lowercase or clean the search list, and it drops malformed lines
// without saying so.
package resolvconf
