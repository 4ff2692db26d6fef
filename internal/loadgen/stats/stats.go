package stats

import (
	"math"
	"slices"
)

// Percentile returns the p-th percentile (0 <= p <= 100) of sorted samples
// by the nearest-rank method: the smallest sample such that at least p% of
// the samples are less than or equal to it. It returns 0 for no samples.
func Percentile(sorted []int64, p float64) int64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if p <= 0 {
		return sorted[0]
	}
	if p >= 100 {
		return sorted[n-1]
	}
	// p/100*n can land a hair above a whole rank (99.9/100*1000 is
	// 999.0000000000001): the epsilon keeps such a rank whole.
	rank := int(math.Ceil(p/100*float64(n) - 1e-9))
	return sorted[min(max(rank, 1), n)-1]
}

// Latency summarises latency samples in microseconds.
type Latency struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50_us"`
	P90  float64 `json:"p90_us"`
	P99  float64 `json:"p99_us"`
	P999 float64 `json:"p99_9_us"`
	Max  float64 `json:"max_us"`
	Mean float64 `json:"mean_us"`
}

// Summarize sorts samples (nanoseconds) in place and summarises them.
func Summarize(samples []int64) Latency {
	slices.Sort(samples)
	l := Latency{N: len(samples)}
	if l.N == 0 {
		return l
	}
	var sum float64
	for _, s := range samples {
		sum += float64(s)
	}
	l.P50 = Micros(Percentile(samples, 50))
	l.P90 = Micros(Percentile(samples, 90))
	l.P99 = Micros(Percentile(samples, 99))
	l.P999 = Micros(Percentile(samples, 99.9))
	l.Max = Micros(samples[l.N-1])
	l.Mean = math.Round(sum/float64(l.N)/100) / 10
	return l
}

// Micros converts nanoseconds to microseconds, rounded to 0.1 µs, as
// Latency holds them.
func Micros(ns int64) float64 { return math.Round(float64(ns)/100) / 10 }

// Spread is the median and range of one figure across rounds.
type Spread struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// SpreadOf returns the median, minimum and maximum of vs, ignoring NaNs
// (figures that a run could not produce). The median of an even count is
// the mean of the middle two.
func SpreadOf(vs []float64) Spread {
	var xs []float64
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			xs = append(xs, v)
		}
	}
	if len(xs) == 0 {
		return Spread{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	slices.Sort(xs)
	n := len(xs)
	med := xs[n/2]
	if n%2 == 0 {
		med = (xs[n/2-1] + xs[n/2]) / 2
	}
	return Spread{N: n, Median: med, Min: xs[0], Max: xs[n-1]}
}
