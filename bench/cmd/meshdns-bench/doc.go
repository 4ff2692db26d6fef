// Command meshdns-bench is the benchmark harness (see bench/README.md).
//
//	meshdns-bench run [--quick] [--contenders direct,meshdns,istio,...] [flags]
//	meshdns-bench load --spec FILE     (the load generator; the harness runs it in the pod namespace)
//	meshdns-bench runas UID GID -- PROGRAM [ARGS...]
//	meshdns-bench objects --dir DIR    (write the generated name set's files)
//
// run needs root: it builds network namespaces.
package main
