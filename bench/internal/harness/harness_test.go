package harness

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/loadgen"
	"github.com/meshdns/meshdns/internal/loadgen/stats"
)

func TestRotate(t *testing.T) {
	xs := []string{"a", "b", "c"}
	for n, want := range [][]string{{"a", "b", "c"}, {"b", "c", "a"}, {"c", "a", "b"}, {"a", "b", "c"}} {
		if got := rotate(xs, n); !slices.Equal(got, want) {
			t.Errorf("rotate(%d) = %v, want %v", n, got, want)
		}
	}
	if rotate(nil, 2) != nil {
		t.Error("rotate(nil) not nil")
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []Config{Full(), Quick()} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", c.Label, err)
		}
	}
	for name, mut := range map[string]func(*Config){
		"no rounds":          func(c *Config) { c.Rounds = 0 },
		"unknown contender":  func(c *Config) { c.Contenders = []string{"bind9"} },
		"unknown upstream":   func(c *Config) { c.Upstream = "unbound" },
		"tcp is no workload": func(c *Config) { c.Workloads = []string{"tcp"} },
		"tcp-conn no rates":  func(c *Config) { c.TCPConnRates = nil },
		"tcp-pipe no rates":  func(c *Config) { c.TCPPipeRates = nil },
		"no tcp conns":       func(c *Config) { c.TCPConns = 0 },
		"tcp conn rate high": func(c *Config) { c.TCPConnRates = []float64{50000} },
		"tcp pipe rate zero": func(c *Config) { c.TCPPipeRates = []float64{0} },
		"bad workload":       func(c *Config) { c.Workloads = []string{"x"} },
		"zero rate":          func(c *Config) { c.Rates = []float64{0} },
		"nothing to run":     func(c *Config) { c.DNSPerfDuration, c.FixedDuration = 0, 0 },
		"bad timeout":        func(c *Config) { c.Timeout = 0 },
	} {
		c := Quick()
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestEstimate(t *testing.T) {
	q, f := Quick(), Full()
	if e := q.Estimate(); e < 30*time.Second || e > 3*time.Minute {
		t.Errorf("quick estimate %v, want about a minute", e)
	}
	if f.Estimate() < 5*q.Estimate() {
		t.Errorf("full estimate %v not much longer than quick %v", f.Estimate(), q.Estimate())
	}
}

func TestPlan(t *testing.T) {
	h := &harness{cfg: Quick()}
	h.cfg.IdleDuration = time.Second
	plan := h.plan()
	// idle; mesh and external: dnsperf + 2 rates each; ndots: 2 lookup
	// rates; tcp-conn, tcp-pipe, tcp-external: 2 rates each.
	if len(plan) != 15 {
		t.Fatalf("plan has %d runs: %+v", len(plan), plan)
	}
	if plan[0].Tool != ToolIdle || plan[1].Tool != ToolDNSPerf || plan[1].Workload != WorkloadMesh || plan[8].Tool != ToolLookups {
		t.Errorf("plan order %+v", plan)
	}
	plan = plan[1:]
	want := []Run{
		{Workload: WorkloadTCPConn, Tool: ToolFixed, Rate: 500}, {Workload: WorkloadTCPConn, Tool: ToolFixed, Rate: 2000},
		{Workload: WorkloadTCPPipe, Tool: ToolFixed, Rate: 2000}, {Workload: WorkloadTCPPipe, Tool: ToolFixed, Rate: 10000},
		{Workload: WorkloadTCPExternal, Tool: ToolFixed, Rate: 500}, {Workload: WorkloadTCPExternal, Tool: ToolFixed, Rate: 2000},
	}
	for i, w := range want {
		if got := plan[8+i]; got.key() != w.key() {
			t.Errorf("run %d: %+v, want %+v", 8+i, got.key(), w.key())
		}
	}
	h.cfg.Workloads = []string{WorkloadMesh, WorkloadExternal}
	if h.cfg.hasTCP() {
		t.Error("hasTCP without a TCP workload")
	}
	h.cfg.DNSPerfDuration = 0
	for _, r := range h.plan() {
		if r.Tool == ToolDNSPerf {
			t.Error("dnsperf planned with duration 0")
		}
	}
}

func lat(p50, p99 float64) *stats.Latency {
	return &stats.Latency{N: 100, P50: p50, P90: p50, P99: p99, P999: p99}
}

// sampleRuns: two rounds of meshdns, istio and direct on mesh (dnsperf and
// 2000 q/s); istio fails once.
func sampleRuns() []Run {
	mk := func(round int, c, tool string, rate, qps float64, l *stats.Latency, cpu, up float64) Run {
		return Run{Round: round, Contender: c, Workload: WorkloadMesh, Tool: tool, Rate: rate, QPS: qps, Latency: l,
			Lookups: 1000, Queries: 1000, Answered: 1000,
			CPUPerQueryUS: stats.Float(cpu), CPUContenderPerQueryUS: stats.Float(cpu), UpstreamPerLookup: stats.Float(up),
			OtherCPUShare: 0.25}
	}
	return []Run{
		mk(1, "meshdns", ToolDNSPerf, 0, 80000, nil, 5, 0),
		mk(1, "istio", ToolDNSPerf, 0, 40000, nil, 20, 0),
		mk(1, "direct", ToolDNSPerf, 0, 100000, nil, 8, 1),
		mk(1, "meshdns", ToolFixed, 2000, 2000, lat(50, 100), 6, 0),
		mk(1, "istio", ToolFixed, 2000, 2000, lat(100, 400), 30, 0),
		mk(2, "meshdns", ToolDNSPerf, 0, 90000, nil, 4, 0),
		mk(2, "istio", ToolDNSPerf, 0, 30000, nil, 25, 0),
		mk(2, "direct", ToolDNSPerf, 0, 90000, nil, 8, 1),
		mk(2, "meshdns", ToolFixed, 2000, 2000, lat(60, 120), 6, 0),
		{Round: 2, Contender: "istio", Workload: WorkloadMesh, Tool: ToolFixed, Rate: 2000, Error: "start: boom"},
	}
}

func TestSummarize(t *testing.T) {
	sums := Summarize(sampleRuns(), []string{"direct", "meshdns", "istio"})
	if len(sums) != 5 {
		t.Fatalf("%d summaries: %+v", len(sums), sums)
	}
	// Keys: dnsperf first, contenders in the given order.
	if sums[0].Contender != "direct" || sums[0].Tool != ToolDNSPerf || sums[3].Tool != ToolFixed {
		t.Errorf("order: %s/%s, %s/%s", sums[0].Contender, sums[0].Tool, sums[3].Contender, sums[3].Tool)
	}
	m := sums[1]
	if m.Contender != "meshdns" || m.QPS.Median != 85000 || m.QPS.Min != 80000 || m.QPS.Max != 90000 || m.Rounds != 2 {
		t.Errorf("meshdns dnsperf summary %+v", m)
	}
	is := sums[4]
	if is.Contender != "istio" || is.Rounds != 1 || is.Errors != 1 || is.P99.Median != 400 {
		t.Errorf("istio fixed summary %+v", is)
	}
	if m.OtherCPUShare.N != 2 || m.OtherCPUShare.Median != 0.25 {
		t.Errorf("other CPU share %+v", m.OtherCPUShare)
	}
	if !math.IsNaN(m.P50.Median) {
		t.Errorf("dnsperf run has a p50: %+v", m.P50)
	}
}

func TestRatios(t *testing.T) {
	rs := Ratios(sampleRuns(), [][2]string{{"meshdns", "istio"}, {"meshdns", "direct"}})
	find := func(den, tool, metric string) *Ratio {
		for i := range rs {
			if rs[i].Denominator == den && rs[i].Tool == tool && rs[i].Metric == metric {
				return &rs[i]
			}
		}
		return nil
	}
	q := find("istio", ToolDNSPerf, "qps")
	if q == nil || !slices.Equal(q.PerRound, []float64{2, 3}) || q.Spread.Median != 2.5 {
		t.Errorf("meshdns/istio qps = %+v", q)
	}
	// Round 2 of istio at 2000 q/s failed: one round only.
	p := find("istio", ToolFixed, "p99_us")
	if p == nil || !slices.Equal(p.PerRound, []float64{0.25}) {
		t.Errorf("meshdns/istio p99 = %+v", p)
	}
	// direct has no fixed runs; istio's upstream/lookup is 0: no ratio.
	if find("direct", ToolFixed, "p50_us") != nil || find("istio", ToolDNSPerf, "upstream_per_lookup") != nil {
		t.Error("ratio without a usable denominator")
	}
	if u := find("direct", ToolDNSPerf, "upstream_per_lookup"); u == nil || u.Spread.Median != 0 {
		t.Errorf("meshdns/direct upstream = %+v", u)
	}
}

// tcpRuns: one round of meshdns, istio and direct on tcp-pipe at 2000
// q/s; istio lost queries and reconnected.
func tcpRuns() []Run {
	mk := func(c string, answered, reconnects int, p50 float64, connErrors int) Run {
		f := &loadgen.FixedResult{Sent: 2000, Answered: answered, Lost: 2000 - answered, OK: answered, Timing: loadgen.Timing{Seconds: 1},
			Reconnects: reconnects, ConnErrors: connErrors}
		return Run{Round: 1, Contender: c, Workload: WorkloadTCPPipe, Tool: ToolFixed, Rate: 2000,
			Lookups: 2000, Queries: 2000, Answered: answered, Lost: 2000 - answered, QPS: float64(answered),
			Latency: lat(p50, 4*p50), Fixed: f, CPUPerQueryUS: 3, CPUContenderPerQueryUS: 2, UpstreamPerLookup: 0}
	}
	return []Run{mk("meshdns", 2000, 0, 100, 0), mk("istio", 1600, 15, 400, 2), mk("direct", 2000, 0, 200, 0)}
}

func TestTCPSummaryAndRatios(t *testing.T) {
	runs := tcpRuns()
	sums := Summarize(runs, []string{"direct", "meshdns", "istio"})
	if len(sums) != 3 || sums[2].Contender != "istio" {
		t.Fatalf("summaries %+v", sums)
	}
	is := sums[2]
	if is.Reconnects.Median != 15 || is.ConnErrors.Median != 2 || is.QPS.Median != 1600 || is.LossRatio.Median != 0.2 {
		t.Errorf("istio tcp-pipe summary %+v", is)
	}
	if !math.IsNaN(is.TCPConnectP50.Median) {
		t.Errorf("pipelined run has a connect latency: %+v", is.TCPConnectP50)
	}
	rs := Ratios(runs, RatioPairs)
	var qps, p50 *Ratio
	for i := range rs {
		if rs[i].Denominator == "istio" && rs[i].Metric == "qps" {
			qps = &rs[i]
		}
		if rs[i].Denominator == "direct" && rs[i].Metric == "p50_us" {
			p50 = &rs[i]
		}
	}
	if qps == nil || qps.Spread.Median != 1.25 {
		t.Errorf("meshdns/istio tcp-pipe qps = %+v", qps)
	}
	if p50 == nil || p50.Spread.Median != 0.5 {
		t.Errorf("meshdns/direct tcp-pipe p50 = %+v", p50)
	}
}

func TestDocumentJSONAndMarkdown(t *testing.T) {
	runs := append(sampleRuns(), tcpRuns()...)
	cs := []string{"direct", "meshdns", "istio"}
	d := &Document{
		Meta:      Meta{Date: "2026-01-01T00:00:00Z", Host: "h", Label: "quick", Rounds: 2, Complete: false, Versions: map[string]string{"dnsperf": "Version 2.10.0"}},
		Runs:      runs,
		Summaries: Summarize(runs, cs),
		Ratios:    Ratios(runs, RatioPairs),
		Profile:   &Profile{Status: "not taken: HTTP 404"},
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back Document
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Runs) != len(runs) || len(back.Summaries) != len(d.Summaries) {
		t.Errorf("round trip lost runs or summaries")
	}
	var md strings.Builder
	if err := WriteMarkdown(&md, d); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"**Partial run",
		"| mesh | meshdns | 85000 [80000–90000] |",
		"| 0.00 | 25% |",
		"| meshdns/istio | mesh | full load | qps | 2.50 [2.00–3.00] | 2 |",
		"round 2 istio mesh 2000 q/s: start: boom",
		"not taken: HTTP 404",
		"- dnsperf: Version 2.10.0",
		"## DNS over TCP",
		"| tcp-pipe | 2000 q/s | istio | 1600 | 400 | 400 | 1600 | 1600 | – | – | 0 | 20% [20–20] | 2 | 15 |",
		"| meshdns/istio | tcp-pipe | 2000 q/s | qps | 1.25 | 1 |",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
}
