// Package harness runs the benchmark: it builds the pod and upstream
// namespaces, generates the name set, starts the upstream, then for each
// round starts every contender in turn (the order rotates each round),
// runs the workloads against it with dnsperf at full load and the
// project's generator at fixed rates, measures CPU time and upstream
// queries around each run, and finally writes the JSON results, a Markdown
// table and (through the plot program) a PNG.
//
// Everything it starts lives in the namespaces it made; it tears them down
// at the end, also when the context is cancelled (SIGINT).
package harness
