// Package lookupout parses what the lookup tools print: dig's default output
// (ParseDig: status, id, flags, question, the three record sections, the OPT
// pseudo-section, query time, responder and transport, a TCP retry after a
// truncated answer) and `getent hosts|ahosts|ahostsv4|ahostsv6` output
// (ParseGetent: the addresses, and the names, line by line and as a whole).
// Records and RecordString render records in a stable form to compare with
// expected ones.
//
// It only reads text: running the tools is the caller's (the kernel-test
// harness internal/podtest, the demo). It imports neither testing nor
// anything of meshdns, so binaries may use it.
package lookupout
