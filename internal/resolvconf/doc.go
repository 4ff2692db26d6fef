// Package resolvconf reads the resolver configuration of a pod
// (/etc/resolv.conf): its nameservers, search domains and options.
//
// Parsing follows glibc's rules where they matter to meshdns: lines starting
// with '#' or ';' are comments, unknown keywords are ignored, a later
// "search" or "domain" line replaces an earlier one, and "options" lines
// accumulate. A malformed line is skipped (glibc skips it too, so the pod's
// own resolver does not use it) and described in Config.Ignored, so a caller
// can log it; only a read error fails the parse.
package resolvconf
