package harness

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/meshdns/meshdns/internal/loadgen/stats"
)

func num(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

// med formats a spread's median with its range: "123 [110–130]"; a
// single-round spread is just the value.
func med(s stats.Spread, prec int) string {
	if s.N == 0 {
		return "–"
	}
	if s.N == 1 || s.Min == s.Max {
		return num(s.Median, prec)
	}
	return fmt.Sprintf("%s [%s–%s]", num(s.Median, prec), num(s.Min, prec), num(s.Max, prec))
}

func rateLabel(k Key) string {
	switch k.Tool {
	case ToolIdle:
		return "idle"
	case ToolDNSPerf:
		return "full load"
	case ToolLookups:
		return fmt.Sprintf("%g lookups/s", k.Rate)
	}
	return fmt.Sprintf("%g q/s", k.Rate)
}

// WriteMarkdown renders the document's tables.
func WriteMarkdown(w io.Writer, d *Document) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	m := d.Meta
	p("# meshdns benchmark: %s, %s (%s)\n\n", m.Date, m.Host, m.Label)
	if !m.Complete {
		p("**Partial run: not every planned run finished.**\n\n")
	}
	p("Kernel %s, %d CPUs%s, %s. Load average %s at the start, %s at the end. Upstream: %s. Rounds: %d (order rotates each round). ",
		m.Kernel, m.CPUs, ifNotEmpty(", "+m.CPUModel, m.CPUModel), m.Go, m.LoadAvgStart, m.LoadAvgEnd, m.Upstream, m.Rounds)
	p("%d Services (every %dth headless), %d ServiceEntries, %d external names; %.0f s dnsperf runs (-q %d), %.0f s fixed-rate runs, timeout %.1f s.\n\n",
		m.Config.Services, m.Config.HeadlessEvery, m.Config.ServiceEntries, m.Config.External,
		m.Config.DNSPerfSeconds, m.Config.DNSPerfOutstanding, m.Config.FixedSeconds, m.Config.TimeoutSeconds)
	p("Figures are medians across rounds with [min–max]. CPU µs/query is the answering processes' utime+stime (contender in the pod namespace + upstream) per answered client query; \"contender\" is the pod-side part alone. Upstream/lookup counts queries that reached the upstream per client lookup.\n\n")

	var idle, dp, fx, tcp []Summary
	for _, s := range d.Summaries {
		switch {
		case s.Tool == ToolIdle:
			idle = append(idle, s)
		case s.Tool == ToolDNSPerf:
			dp = append(dp, s)
		case IsTCP(s.Workload):
			tcp = append(tcp, s)
		default:
			fx = append(fx, s)
		}
	}
	if len(idle) > 0 {
		p("## Idle (no DNS traffic, from 10 s after start)\n\n")
		p("| contender | CPU ms per minute | run slices per minute |\n")
		p("|---|---:|---:|\n")
		for _, s := range idle {
			p("| %s | %s | %s |\n", s.Contender, med(s.IdleCPU, 2), med(s.IdleSlices, 0))
		}
		p("\nCPU time of the contender's processes (schedstat) over the idle run; run slices are how many times its threads were put on a CPU (wake-ups).\n\n")
	}
	if len(dp) > 0 {
		p("## Full load (dnsperf)\n\n")
		p("| workload | contender | q/s | lost | CPU µs/query | contender µs/query | upstream/lookup | other CPU |\n")
		p("|---|---|---:|---:|---:|---:|---:|---:|\n")
		for _, s := range dp {
			p("| %s | %s | %s | %s | %s | %s | %s | %s |\n", s.Workload, s.Contender, med(s.QPS, 0), med(s.Lost, 0),
				med(s.CPUPerQuery, 2), med(s.CPUContender, 2), med(s.UpstreamPerLookup, 2), share(s.OtherCPUShare))
		}
		p("\n")
	}
	if len(fx) > 0 {
		p("## Fixed rate (project generator; latency from scheduled send, µs)\n\n")
		p("| workload | rate | contender | p50 | p90 | p99 | p99.9 | service p99 | gen. lag p99 | loss | CPU µs/query | contender µs/query | slices/query | upstream/lookup | queries/lookup | other CPU |\n")
		p("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, s := range fx {
			p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s.Workload, rateLabel(s.Key), s.Contender,
				med(s.P50, 0), med(s.P90, 0), med(s.P99, 0), med(s.P999, 0), med(s.ServiceP99, 0), med(s.SendLagP99, 0), pct(s.LossRatio),
				med(s.CPUPerQuery, 2), med(s.CPUContender, 2), med(s.SlicesPerQuery, 2), med(s.UpstreamPerLookup, 2), med(s.QueriesPerLookup, 2), share(s.OtherCPUShare))
		}
		p("\n\"slices/query\" is how many times the contender's threads were put on a CPU (schedstat run counts: wake-ups and preemptions) per answered query.\n")
		p("\nLatency is from each query's scheduled send time (no coordinated omission); \"service p99\" is from its actual send, and \"gen. lag p99\" is how late the generator sent: when it is large, the CPUs were busy elsewhere (the contender, or other work on the machine) and the scheduled-time latency carries it.\n")
		p("\n\"other CPU\" is the share of the machine's CPU time during the run used by anything but the contender, the upstream and the client (other work on the machine, plus softirq time on the benchmark's packets outside its processes): runs with a large share were disturbed.\n")
		p("\n")
	}
	if len(tcp) > 0 {
		p("## DNS over TCP (project generator; latency from scheduled send, µs)\n\n")
		p("| workload | rate | contender | q/s answered | p50 | p90 | p99 | p99.9 | service p99 | connect p50 | gen. lag p99 | loss | conn. errors | reconnects | CPU µs/query | upstream/lookup | other CPU |\n")
		p("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, s := range tcp {
			p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s.Workload, rateLabel(s.Key), s.Contender,
				med(s.QPS, 0), med(s.P50, 0), med(s.P90, 0), med(s.P99, 0), med(s.P999, 0), med(s.ServiceP99, 0), med(s.TCPConnectP50, 0),
				med(s.SendLagP99, 0), pct(s.LossRatio), med(s.ConnErrors, 0), med(s.Reconnects, 0),
				med(s.CPUPerQuery, 2), med(s.UpstreamPerLookup, 2), share(s.OtherCPUShare))
		}
		p("\ntcp-conn and tcp-external open a connection per query (latency includes the handshake; \"connect p50\" is the handshake alone as the client saw it); tcp-pipe pipelines over %d long-lived connections. Loss is no answer within the timeout (refused, reset or closed connections included); \"conn. errors\" counts connections that failed or closed before their answer; \"reconnects\" counts pipelined connections the server closed (the generator reconnects and sends the unanswered queries again).\n\n", m.Config.TCPConns)
	}
	if len(d.Ratios) > 0 {
		p("## Ratios (computed per round, median [min–max])\n\n")
		p("| ratio | workload | run | metric | median [range] | rounds |\n")
		p("|---|---|---|---|---:|---:|\n")
		for _, r := range d.Ratios {
			p("| %s/%s | %s | %s | %s | %s | %d |\n", r.Numerator, r.Denominator, r.Workload, rateLabel(r.Key), r.Metric, med(r.Spread, 2), r.Spread.N)
		}
		p("\n")
	}
	var errs []string
	for _, r := range d.Runs {
		if r.Error != "" {
			errs = append(errs, fmt.Sprintf("- round %d %s %s %s: %s", r.Round, r.Contender, r.Workload, rateLabel(r.key()), r.Error))
		}
	}
	if len(errs) > 0 {
		p("## Errors\n\n%s\n\n", strings.Join(errs, "\n"))
	}
	if d.Profile != nil {
		p("## meshdns CPU profile\n\n%s", d.Profile.Status)
		if d.Profile.File != "" {
			p(" (`%s`; `go tool pprof -top %s`)", d.Profile.File, d.Profile.File)
		}
		p("\n\n")
	}
	if len(m.Notes) > 0 {
		p("## Notes\n\n")
		for _, n := range m.Notes {
			p("- %s\n", n)
		}
		p("\n")
	}
	if len(m.Versions) > 0 {
		p("## Versions\n\n")
		for _, k := range sortedKeys(m.Versions) {
			p("- %s: %s\n", k, m.Versions[k])
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func pct(s stats.Spread) string {
	if s.N == 0 || math.IsNaN(s.Median) {
		return "–"
	}
	if s.Max == 0 {
		return "0"
	}
	return fmt.Sprintf("%.2g%% [%.2g–%.2g]", s.Median*100, s.Min*100, s.Max*100)
}

// share formats a 0..1 spread's median as a percentage.
func share(s stats.Spread) string {
	if s.N == 0 || math.IsNaN(s.Median) {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", s.Median*100)
}

func ifNotEmpty(s, cond string) string {
	if cond == "" {
		return ""
	}
	return s
}
