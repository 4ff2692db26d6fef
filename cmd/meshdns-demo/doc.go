// Command meshdns-demo shows meshdns answering mesh names inside a pod's
// network namespace while every other name still goes to the real upstream.
//
// Run as root (make demo):
//
//	meshdns-demo [--meshdns PATH] [--objects examples/objects.yaml] [--no-meshdns] [--verbose]
//
// It removes namespaces left by an interrupted run (mdt-demo-*), builds a
// pod namespace and an upstream namespace joined by a veth pair
// (internal/netns), serves upstream.ExampleZone from the upstream namespace
// (internal/clusterdns; it answers the external names, and the mesh names with
// decoy addresses 198.19.x.x / fd53:19::x and TTL 7), writes the pod's
// resolv.conf (nameserver 198.18.0.1, the default namespace's search list,
// ndots:5), then runs the same lookups three times inside the pod namespace:
//
//  1. without meshdns: everything is answered by the upstream;
//  2. with `meshdns run --objects ...` running in the pod namespace: mesh
//     names are answered by meshdns without reaching the upstream, external
//     names still by the upstream;
//  3. after meshdns got SIGTERM: its queue rules are gone and the upstream
//     answers everything again.
//
// Each lookup (getent hosts, dig, or an in-process miekg/dns query) is
// printed with its answer, who answered it — decided from the upstream's
// query counters (did the name reach it?) and from the answer (is it the
// upstream's decoy?) — and how long it took. The demo exits non-zero if any
// expectation fails, and tears everything down on exit, SIGINT or SIGTERM.
//
// With --no-meshdns (or when no meshdns binary is found and --no-meshdns is
// given) only step 1 runs: useful before meshdns is built.
package main
