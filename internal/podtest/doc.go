// Package podtest runs the meshdns binary end to end on the real kernel, for
// the kernel test suites (internal/e2e, the reliability suite).
//
// Start builds a "pod" network namespace and an "upstream" namespace joined
// by a veth pair (internal/netns), serves a counting DNS server
// (internal/clusterdns) on the upstream side's port 53, writes the pod's
// resolv.conf, and starts `meshdns run` inside the pod namespace with the
// given objects file (or none, for --kubeconfig) and flags, waiting for its `msg=serving` log line. The
// returned Pod queries from inside the pod namespace with dig (Dig: status,
// flags, sections, responder, parsed by internal/lookupout), glibc (Getent)
// and the pure-Go resolver
// (GoLookup), and reports what reached the upstream (UpstreamCount,
// Upstream.Counts). Pod.Meshdns is the process: Pid, Signal, Stop, Kill,
// Wait, Logs, WaitLog; StartMeshdns starts another after it has exited.
//
// Everything is removed when the test ends, even when it fails: meshdns is
// stopped (SIGTERM, SIGKILL after a short grace) and its log printed if the
// test failed, the upstream stopped and both namespaces deleted. If the test
// process itself dies, meshdns dies with it (parent-death signal), and the
// next test process that calls Start removes the namespaces it left.
//
// The meshdns binary is built once per test binary (Binary), into a
// temporary directory that Main removes; MESHDNS_BIN names a prebuilt binary
// instead. GoLookup re-executes the test binary itself inside the pod
// namespace, so a test package using it must call Main from its TestMain:
//
//	func TestMain(m *testing.M) { podtest.Main(m) }
//
// Kernel tests need root: Start fails the test when not root unless
// MESHDNS_SKIP_KERNEL=1 is set, in which case it skips it.
package podtest
