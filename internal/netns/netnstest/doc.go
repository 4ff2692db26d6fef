// Package netnstest holds what kernel tests need from netns and what must not
// be linked into the binaries: RequireRoot, which fails a test when the
// process is not root unless MESHDNS_SKIP_KERNEL=1 is set (then it skips the
// test), ForTest, which builds a netns.Topology for a test and removes it
// when the test ends, Run, which runs a command on the host or fails the
// test, and StatefulFirewall, the rules of a pod with a stateful firewall.
//
// Only tests and test harness packages import it; package netns itself has no
// dependency on package testing.
package netnstest
