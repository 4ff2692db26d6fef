// Package stats holds the small statistics the benchmark reports:
// percentiles of latency samples and the median and range of a figure
// across rounds.
package stats
