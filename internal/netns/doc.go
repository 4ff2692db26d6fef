// Package netns builds and tears down the network namespaces that meshdns's
// kernel tests, demo and benchmarks run in.
//
// A Topology is two namespaces joined by a veth pair: a "pod" namespace (the
// client side, where meshdns and its iptables rules live) and an "upstream"
// namespace (where a real DNS server answers). By default the pod side is
// 198.18.0.2/24 and fd53::2/64 on eth0 and the upstream side 198.18.0.1/24
// and fd53::1/64 on eth0; lo is up in both, and IPv6 duplicate address
// detection is off so IPv6 works at once. Namespace names are
// "mdt-<prefix>-pod" and "mdt-<prefix>-up", with a prefix unique to a test.
//
// The pod's resolv.conf is written to /etc/netns/<pod>/resolv.conf, which
// `ip netns exec` bind-mounts over /etc/resolv.conf for the command it runs.
//
// Do runs a Go function on an OS thread switched into a namespace; sockets
// made inside it stay in that namespace after Do returns, which is how a test
// hands a listener in the upstream namespace to a server running in the test
// process (see ListenUDP, ListenTCP and Dial). Command runs a program inside a
// namespace through `ip netns exec`.
//
// Everything here needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN). Tests call
// netnstest.RequireRoot, which fails the test when not root unless
// MESHDNS_SKIP_KERNEL=1 is set, and netnstest.ForTest, which removes the
// topology when the test ends; this package does not import testing, so the
// demo and bench binaries that use it do not link it.
package netns
