package harness

import (
	"github.com/meshdns/meshdns/bench/internal/dnsperf"
	"github.com/meshdns/meshdns/internal/loadgen"
	"github.com/meshdns/meshdns/internal/loadgen/stats"
)

// Tools that produce a Run.
const (
	ToolDNSPerf = "dnsperf" // full load
	ToolFixed   = "fixed"   // the project's generator, fixed q/s
	ToolLookups = "lookups" // the project's generator, glibc lookups/s
	ToolIdle    = "idle"    // no client at all
)

// Run is one measured run: one contender, one workload, one tool and rate,
// in one round.
type Run struct {
	Round     int     `json:"round"`
	Position  int     `json:"position"` // the contender's place in this round's order
	Contender string  `json:"contender"`
	Workload  string  `json:"workload"`
	Tool      string  `json:"tool"`
	Rate      float64 `json:"rate,omitempty"` // target q/s or lookups/s; 0 at full load

	// Client side. Lookups equals Queries except in the ndots workload.
	Lookups  int `json:"lookups"`
	Queries  int `json:"queries"`
	Answered int `json:"answered"`
	Lost     int `json:"lost"`
	// QPS is answered queries per second (dnsperf's figure at full load).
	QPS float64 `json:"qps"`
	// Latency: exact percentiles from the fixed-rate generator (per
	// lookup in ndots); dnsperf gives only a mean and deviation.
	Latency *stats.Latency `json:"latency,omitempty"`
	// ServiceLatency is measured from the actual send instead (the
	// generator's lateness left out); SendLagP99US is the generator's
	// 99th-percentile lateness: when it is large, the machine (or the
	// contender) starved the generator and Latency carries that.
	ServiceLatency *stats.Latency `json:"service_latency,omitempty"`
	SendLagP99US   stats.Float    `json:"send_lag_p99_us"`

	// CPU time used during the run, microseconds: the contender's
	// processes in the pod namespace, the upstream server, the client.
	CPUContenderUS float64 `json:"cpu_contender_us"`
	CPUUpstreamUS  float64 `json:"cpu_upstream_us"`
	CPUClientUS    float64 `json:"cpu_client_us"`
	// CPUPrecise is true when both CPU figures come from schedstat
	// (nanoseconds) rather than utime+stime (10 ms ticks).
	CPUPrecise bool `json:"cpu_precise"`
	// MachineBusyShare is the share of all CPUs' time that was busy during
	// the run (/proc/stat); OtherCPUShare the part of it not used by the
	// contender, the upstream or the client: other work on the machine
	// disturbing the run (it includes softirq work on the benchmark's own
	// packets that ran outside its processes).
	MachineBusyShare stats.Float `json:"machine_busy_share"`
	OtherCPUShare    stats.Float `json:"other_cpu_share"`
	// CPUPerQueryUS = (contender + upstream) / answered client queries;
	// the split is in the two fields after it.
	CPUPerQueryUS          stats.Float `json:"cpu_us_per_query"`
	CPUContenderPerQueryUS stats.Float `json:"cpu_contender_us_per_query"`
	CPUUpstreamPerQueryUS  stats.Float `json:"cpu_upstream_us_per_query"`
	// SlicesPerQuery is how many times the contender's threads were put on
	// a CPU (schedstat run counts: wake-ups and preemptions) per answered
	// query; NaN when a thread exited during the run.
	SlicesPerQuery stats.Float `json:"slices_per_query"`
	// IdleSeconds and IdleCPUMsPerMinute: the idle run's length and the
	// contender's CPU time in it, milliseconds per minute; IdleSlices its
	// threads' run slices in it.
	IdleSeconds        float64     `json:"idle_seconds,omitempty"`
	IdleCPUMsPerMinute stats.Float `json:"idle_cpu_ms_per_minute,omitempty"`
	IdleSlices         uint64      `json:"idle_slices,omitempty"`

	// UpstreamQueries reached the upstream during the run (its UDP
	// counter, plus TCP query segments); UpstreamPerLookup divides by the
	// client's lookups.
	UpstreamQueries  uint64 `json:"upstream_queries"`
	UpstreamTCPConns uint64 `json:"upstream_tcp_conns,omitempty"`
	// UpstreamTCPQueries are the TCP segments with PSH the upstream
	// received (about one per query; part of UpstreamQueries).
	UpstreamTCPQueries uint64      `json:"upstream_tcp_queries,omitempty"`
	UpstreamPerLookup  stats.Float `json:"upstream_per_lookup"`

	DNSPerf *dnsperf.Result       `json:"dnsperf,omitempty"`
	Fixed   *loadgen.FixedResult  `json:"fixed,omitempty"`
	Ndots   *loadgen.LookupResult `json:"ndots,omitempty"`
	Error   string                `json:"error,omitempty"`
}

// Key identifies the same measurement across rounds and contenders.
type Key struct {
	Workload string  `json:"workload"`
	Tool     string  `json:"tool"`
	Rate     float64 `json:"rate,omitempty"`
}

func (r *Run) key() Key { return Key{r.Workload, r.Tool, r.Rate} }

// Summary is one contender's figures for one Key, across rounds.
type Summary struct {
	Contender string `json:"contender"`
	Key
	Rounds            int          `json:"rounds"`
	QPS               stats.Spread `json:"qps"`
	Lost              stats.Spread `json:"lost"`
	LossRatio         stats.Spread `json:"loss_ratio"`
	P50               stats.Spread `json:"p50_us"`
	P90               stats.Spread `json:"p90_us"`
	P99               stats.Spread `json:"p99_us"`
	P999              stats.Spread `json:"p99_9_us"`
	ServiceP50        stats.Spread `json:"service_p50_us"`
	ServiceP99        stats.Spread `json:"service_p99_us"`
	SendLagP99        stats.Spread `json:"send_lag_p99_us"`
	OtherCPUShare     stats.Spread `json:"other_cpu_share"`
	CPUPerQuery       stats.Spread `json:"cpu_us_per_query"`
	CPUContender      stats.Spread `json:"cpu_contender_us_per_query"`
	CPUUpstream       stats.Spread `json:"cpu_upstream_us_per_query"`
	UpstreamPerLookup stats.Spread `json:"upstream_per_lookup"`
	QueriesPerLookup  stats.Spread `json:"queries_per_lookup"`
	SlicesPerQuery    stats.Spread `json:"slices_per_query"`
	IdleCPU           stats.Spread `json:"idle_cpu_ms_per_minute"`
	IdleSlices        stats.Spread `json:"idle_slices_per_minute"`
	// DNS over TCP: the handshake's p50 as the client saw it (tcp-conn,
	// tcp-external), connections that failed or closed before their
	// answer, and connections the server closed that the generator
	// replaced (tcp-pipe).
	TCPConnectP50 stats.Spread `json:"tcp_connect_p50_us"`
	ConnErrors    stats.Spread `json:"tcp_conn_errors"`
	Reconnects    stats.Spread `json:"tcp_reconnects"`
	Errors        int          `json:"errors,omitempty"`
}

// Ratio is Numerator/Denominator for one metric and Key, computed per
// round and summarised.
type Ratio struct {
	Numerator   string `json:"numerator"`
	Denominator string `json:"denominator"`
	Key
	Metric   string       `json:"metric"`
	PerRound []float64    `json:"per_round"`
	Spread   stats.Spread `json:"spread"`
}

// Meta describes the session and the machine.
type Meta struct {
	Date      string                       `json:"date"`
	Host      string                       `json:"host"`
	Kernel    string                       `json:"kernel"`
	CPUs      int                          `json:"cpus"`
	CPUModel  string                       `json:"cpu_model,omitempty"`
	Go        string                       `json:"go"`
	Label     string                       `json:"label"`
	Upstream  string                       `json:"upstream"`
	Rounds    int                          `json:"rounds"`
	Orders    [][]string                   `json:"orders"`
	Versions  map[string]string            `json:"versions"`
	Config    ConfigRecord                 `json:"config"`
	Contender map[string]map[string]string `json:"contender_meta,omitempty"`
	Seconds   float64                      `json:"seconds"`
	// LoadAvgStart and LoadAvgEnd are /proc/loadavg around the session:
	// other work on the machine shows there.
	LoadAvgStart string   `json:"loadavg_start"`
	LoadAvgEnd   string   `json:"loadavg_end"`
	Complete     bool     `json:"complete"`
	Notes        []string `json:"notes,omitempty"`
}

// ConfigRecord is the part of Config worth recording.
type ConfigRecord struct {
	Services           int       `json:"services"`
	HeadlessEvery      int       `json:"headless_every"`
	ServiceEntries     int       `json:"service_entries"`
	External           int       `json:"external"`
	Namespaces         int       `json:"namespaces"`
	Mix                any       `json:"ndots_mix"`
	Search             []string  `json:"search"`
	DNSPerfSeconds     float64   `json:"dnsperf_seconds"`
	DNSPerfOutstanding int       `json:"dnsperf_outstanding"`
	FixedSeconds       float64   `json:"fixed_seconds"`
	Rates              []float64 `json:"rates"`
	LookupRates        []float64 `json:"lookup_rates"`
	TCPConnRates       []float64 `json:"tcp_conn_rates,omitempty"`
	TCPPipeRates       []float64 `json:"tcp_pipe_rates,omitempty"`
	TCPConns           int       `json:"tcp_conns,omitempty"`
	TimeoutSeconds     float64   `json:"timeout_seconds"`
	MeshdnsArgs        []string  `json:"meshdns_args,omitempty"`
}

// Profile records the meshdns CPU profile attempt.
type Profile struct {
	File   string `json:"file,omitempty"`
	Status string `json:"status"`
}

// Document is the results file.
type Document struct {
	Meta      Meta      `json:"meta"`
	Runs      []Run     `json:"runs"`
	Summaries []Summary `json:"summaries"`
	Ratios    []Ratio   `json:"ratios"`
	Profile   *Profile  `json:"profile,omitempty"`
}
