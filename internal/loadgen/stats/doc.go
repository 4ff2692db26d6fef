// Package stats holds the statistics the load generator and the benchmark
// report: exact (nearest-rank) percentiles of latency samples, summarised
// in microseconds (Latency, the one latency type of internal/loadgen and of
// the benchmark's results), and the median and range of a figure across
// rounds (Spread). Float and Spread encode figures that could not be
// measured (NaN) as JSON null.
package stats
