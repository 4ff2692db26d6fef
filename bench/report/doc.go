// Command meshdns-bench-plot draws the benchmark's PNG from its results
// JSON: throughput at full load and CPU per query by contender and
// workload, and the latency percentiles of every fixed-rate run, one panel
// per workload and rate, one line per contender.
//
//	meshdns-bench-plot -in bench/results/X.json -out bench/results/X.png
//
// It is a module of its own so that the meshdns module does not depend on
// gonum.org/v1/plot; it reads only the JSON.
package main
