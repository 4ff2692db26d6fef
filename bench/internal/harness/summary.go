package harness

import (
	"math"
	"sort"

	"github.com/meshdns/meshdns/internal/loadgen/stats"
)

// metric extracts one figure from a run; NaN when the run has none.
type metric struct {
	name string
	get  func(*Run) float64
}

func latencyOf(f func(*stats.Latency) float64) func(*Run) float64 {
	return func(r *Run) float64 {
		if r.Latency == nil || r.Latency.N == 0 {
			return math.NaN()
		}
		return f(r.Latency)
	}
}

var metrics = []metric{
	{"qps", func(r *Run) float64 { return r.QPS }},
	{"p50_us", latencyOf(func(l *stats.Latency) float64 { return l.P50 })},
	{"p90_us", latencyOf(func(l *stats.Latency) float64 { return l.P90 })},
	{"p99_us", latencyOf(func(l *stats.Latency) float64 { return l.P99 })},
	{"p99_9_us", latencyOf(func(l *stats.Latency) float64 { return l.P999 })},
	{"cpu_us_per_query", func(r *Run) float64 { return float64(r.CPUPerQueryUS) }},
	{"cpu_contender_us_per_query", func(r *Run) float64 { return float64(r.CPUContenderPerQueryUS) }},
	{"upstream_per_lookup", func(r *Run) float64 { return float64(r.UpstreamPerLookup) }},
	{"idle_cpu_ms_per_minute", func(r *Run) float64 {
		if r.Tool != ToolIdle {
			return math.NaN()
		}
		return float64(r.IdleCPUMsPerMinute)
	}},
	{"loss_ratio", func(r *Run) float64 {
		if r.Queries == 0 {
			return math.NaN()
		}
		return float64(r.Lost) / float64(r.Queries)
	}},
}

func metricByName(name string) metric {
	for _, m := range metrics {
		if m.name == name {
			return m
		}
	}
	panic("harness: unknown metric " + name)
}

// keysInOrder returns the distinct keys of runs in a stable order:
// workload as first seen, then dnsperf before fixed/lookups, then rate.
func keysInOrder(runs []Run) []Key {
	wOrder := map[string]int{}
	seen := map[Key]bool{}
	var keys []Key
	for i := range runs {
		k := runs[i].key()
		if _, ok := wOrder[k.Workload]; !ok {
			wOrder[k.Workload] = len(wOrder)
		}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	toolRank := map[string]int{ToolIdle: 0, ToolDNSPerf: 0, ToolFixed: 1, ToolLookups: 1}
	sort.SliceStable(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if wOrder[a.Workload] != wOrder[b.Workload] {
			return wOrder[a.Workload] < wOrder[b.Workload]
		}
		if toolRank[a.Tool] != toolRank[b.Tool] {
			return toolRank[a.Tool] < toolRank[b.Tool]
		}
		return a.Rate < b.Rate
	})
	return keys
}

// Summarize returns each contender's figures per key across rounds, in the
// order of contenders and keysInOrder. Runs with an error count in Errors
// and contribute no figures.
func Summarize(runs []Run, contenders []string) []Summary {
	var out []Summary
	for _, k := range keysInOrder(runs) {
		for _, c := range contenders {
			var sel []*Run
			errs := 0
			for i := range runs {
				r := &runs[i]
				if r.Contender != c || r.key() != k {
					continue
				}
				if r.Error != "" {
					errs++
					continue
				}
				sel = append(sel, r)
			}
			if len(sel) == 0 && errs == 0 {
				continue
			}
			spread := func(get func(*Run) float64) stats.Spread {
				vs := make([]float64, len(sel))
				for i, r := range sel {
					vs[i] = get(r)
				}
				return stats.SpreadOf(vs)
			}
			out = append(out, Summary{
				Contender: c,
				Key:       k,
				Rounds:    len(sel),
				QPS:       spread(metricByName("qps").get),
				Lost:      spread(func(r *Run) float64 { return float64(r.Lost) }),
				LossRatio: spread(metricByName("loss_ratio").get),
				P50:       spread(metricByName("p50_us").get),
				P90:       spread(metricByName("p90_us").get),
				P99:       spread(metricByName("p99_us").get),
				P999:      spread(metricByName("p99_9_us").get),
				ServiceP50: spread(func(r *Run) float64 {
					if r.ServiceLatency == nil || r.ServiceLatency.N == 0 {
						return math.NaN()
					}
					return r.ServiceLatency.P50
				}),
				ServiceP99: spread(func(r *Run) float64 {
					if r.ServiceLatency == nil || r.ServiceLatency.N == 0 {
						return math.NaN()
					}
					return r.ServiceLatency.P99
				}),
				SendLagP99:        spread(func(r *Run) float64 { return float64(r.SendLagP99US) }),
				OtherCPUShare:     spread(func(r *Run) float64 { return float64(r.OtherCPUShare) }),
				CPUPerQuery:       spread(metricByName("cpu_us_per_query").get),
				CPUContender:      spread(metricByName("cpu_contender_us_per_query").get),
				CPUUpstream:       spread(func(r *Run) float64 { return float64(r.CPUUpstreamPerQueryUS) }),
				UpstreamPerLookup: spread(metricByName("upstream_per_lookup").get),
				QueriesPerLookup: spread(func(r *Run) float64 {
					if r.Lookups == 0 {
						return math.NaN()
					}
					return float64(r.Queries) / float64(r.Lookups)
				}),
				TCPConnectP50: spread(func(r *Run) float64 {
					if r.Fixed == nil || r.Fixed.ConnectLatency == nil || r.Fixed.ConnectLatency.N == 0 {
						return math.NaN()
					}
					return r.Fixed.ConnectLatency.P50
				}),
				ConnErrors: spread(func(r *Run) float64 {
					if r.Fixed == nil || !IsTCP(r.Workload) {
						return math.NaN()
					}
					return float64(r.Fixed.ConnErrors)
				}),
				Reconnects: spread(func(r *Run) float64 {
					if r.Fixed == nil || r.Workload != WorkloadTCPPipe {
						return math.NaN()
					}
					return float64(r.Fixed.Reconnects)
				}),
				SlicesPerQuery: spread(func(r *Run) float64 { return float64(r.SlicesPerQuery) }),
				IdleCPU: spread(func(r *Run) float64 {
					if r.Tool != ToolIdle {
						return math.NaN()
					}
					return float64(r.IdleCPUMsPerMinute)
				}),
				IdleSlices: spread(func(r *Run) float64 {
					if r.Tool != ToolIdle || r.IdleSeconds <= 0 {
						return math.NaN()
					}
					return float64(r.IdleSlices) / r.IdleSeconds * 60
				}),
				Errors: errs,
			})
		}
	}
	return out
}

// RatioPairs are the comparisons the issue asks for.
var RatioPairs = [][2]string{{"meshdns", "istio"}, {"meshdns", "direct"}, {"meshdns", "dnsmasq-local"},
	{"meshdns-nocache", "direct"}, {"meshdns-nocache-queue-all", "direct"}, {"meshdns-go-nfqueue", "meshdns"}}

// ratioMetrics are the metrics compared per key kind. Over TCP the
// answered q/s is compared too: a contender that loses or drops
// connections answers fewer than the offered rate.
func ratioMetrics(k Key) []string {
	switch {
	case k.Tool == ToolIdle:
		return []string{"idle_cpu_ms_per_minute"}
	case k.Tool == ToolDNSPerf:
		return []string{"qps", "cpu_us_per_query", "cpu_contender_us_per_query", "upstream_per_lookup"}
	case IsTCP(k.Workload):
		return []string{"qps", "p50_us", "p99_us", "p99_9_us", "cpu_us_per_query", "cpu_contender_us_per_query", "upstream_per_lookup"}
	default:
		return []string{"p50_us", "p99_us", "p99_9_us", "cpu_us_per_query", "cpu_contender_us_per_query", "upstream_per_lookup"}
	}
}

// Ratios computes num/den per round for every key and metric where both
// contenders have a run in the same round, and summarises them. A ratio
// with a zero or missing denominator is left out.
func Ratios(runs []Run, pairs [][2]string) []Ratio {
	var out []Ratio
	type rk struct {
		c     string
		k     Key
		round int
	}
	idx := map[rk]*Run{}
	rounds := map[int]bool{}
	for i := range runs {
		r := &runs[i]
		if r.Error != "" {
			continue
		}
		idx[rk{r.Contender, r.key(), r.Round}] = r
		rounds[r.Round] = true
	}
	var roundList []int
	for r := range rounds {
		roundList = append(roundList, r)
	}
	sort.Ints(roundList)
	for _, p := range pairs {
		for _, k := range keysInOrder(runs) {
			for _, mname := range ratioMetrics(k) {
				m := metricByName(mname)
				var per []float64
				for _, round := range roundList {
					a, b := idx[rk{p[0], k, round}], idx[rk{p[1], k, round}]
					if a == nil || b == nil {
						continue
					}
					x, y := m.get(a), m.get(b)
					if math.IsNaN(x) || math.IsNaN(y) || y == 0 {
						continue
					}
					per = append(per, x/y)
				}
				if len(per) == 0 {
					continue
				}
				out = append(out, Ratio{Numerator: p[0], Denominator: p[1], Key: k, Metric: mname, PerRound: per, Spread: stats.SpreadOf(per)})
			}
		}
	}
	return out
}
