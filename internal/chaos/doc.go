// Package chaos is meshdns's reliability and security suite: kernel tests
// (package chaos_test, in this directory) that run the real meshdns binary in
// a pod network namespace under steady load from internal/loadgen, inject a
// fault, and account for every query.
//
// Scenarios (one test each):
//
//	TestKill9UnderLoad        kill -9: losses bounded by the queue at the kill, bypass after, local again on restart
//	TestOOMKillUnderLoad      the same for a kernel OOM kill in a memory cgroup
//	TestGracefulRestart       SIGTERM, restart and upgrade under load: nothing lost
//	TestQueueOverflow         meshdns stalled (SIGSTOP) beyond --queue-len: fail-open, nothing dropped
//	TestStallBurst            a 1 s stall at 2,500 q/s: the released backlog costs no query at a default-buffer nameserver
//	TestHostilePackets        malformed and hostile packets through the kernel path
//	TestBrokenObjectsFile     the objects file replaced by broken ones under load
//	TestConntrack             no DNS conntrack entries, no 5 s stalls with A+AAAA from one socket
//	TestLeastPrivilege        non-root with only CAP_NET_ADMIN on a read-only root
//	TestOwnTraffic            marked packets are never captured (capture-all mode)
//	TestForgedAnswersCache    forged upstream answers (other server, port, ID, question, late) never reach the cache
//	TestSpoofFloodOwnSockets  a spoof flood over every port never replaces the answer to a forwarded query
//	TestSpoofFloodRefresh     nor the answer to a cache refresh
//	TestTCPMemoryAttacks      TCP attacks from inside the pod: RSS within the TCP budget, no loss for other clients
//	TestTCPInjection          injected RST, SYN and out-of-window segments do not end a TCP flow
//
// `go test ./internal/chaos` runs the short form (a few seconds of load
// each). The long form (-chaos.long, or MESHDNS_CHAOS_LONG=1) runs more load
// for longer with repeated faults; `make chaos` runs it. When
// MESHDNS_CHAOS_OUT names a directory each scenario writes its figures there
// as JSON (a Scenario); Render turns such a directory into the Markdown of
// docs/reliability.md (TestWriteReport with MESHDNS_CHAOS_REPORT set).
//
// This package (non-test) holds only the result format and the renderer.
package chaos
