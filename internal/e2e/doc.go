// Package e2e holds the end-to-end kernel tests of the meshdns binary (its
// tests only; nothing here is imported).
//
// Each test builds its own pod and upstream network namespaces with
// internal/podtest, starts `meshdns run` in the pod namespace with
// testdata/objects.yaml, and queries it from inside the pod with dig, glibc
// (getent) and Go's own resolver, checking the answers and, through the
// upstream's query counters, what left the pod:
//
//   - pod_test.go: the packet path: mesh names answered in the pod,
//     AAAA NODATA without a glibc timeout, an IPv6 nameserver, external and
//     TCP queries, rules removed on SIGTERM/SIGINT and kept (with DNS
//     bypassing meshdns) after SIGKILL, no DNS conntrack entries beside a
//     sidecar's nat rules, both iptables backends.
//   - names_test.go: the name semantics (README.md), against the expected
//     answers of testdata/names.zone, plus the Go resolver, truncation and
//     the TCP retry, message details and pass-through.
//
// testdata/upstream.zone is what the pod's nameserver answers.
//
// Run as root (the tests fail otherwise; MESHDNS_SKIP_KERNEL=1 skips them):
//
//	go test -count=1 ./internal/e2e/
//
// MESHDNS_BIN=/path/to/meshdns tests a prebuilt binary instead of building
// cmd/meshdns.
package e2e
