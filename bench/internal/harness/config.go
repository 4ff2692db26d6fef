package harness

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/meshdns/meshdns/bench/internal/contender"
	"github.com/meshdns/meshdns/bench/internal/names"
)

// Workloads.
const (
	WorkloadMesh     = "mesh"
	WorkloadExternal = "external"
	WorkloadNdots    = "ndots"
	// DNS over TCP, the project's generator at fixed rates: mesh names
	// with a new connection per query (what a stub resolver does after a
	// truncated answer or with use-vc), mesh names pipelined over a few
	// long-lived connections, and external names with a connection per
	// query (the forwarding path).
	WorkloadTCPConn     = "tcp-conn"
	WorkloadTCPPipe     = "tcp-pipe"
	WorkloadTCPExternal = "tcp-external"
	// WorkloadIdle sends nothing: the contender's CPU time with no DNS
	// traffic at all, over IdleDuration, from IdleSettle after it started
	// (before the warm-up).
	WorkloadIdle = "idle"
)

// IsTCP tells the DNS-over-TCP workloads.
func IsTCP(workload string) bool {
	switch workload {
	case WorkloadTCPConn, WorkloadTCPPipe, WorkloadTCPExternal:
		return true
	}
	return false
}

// isMesh tells the workloads whose every answer must carry an address.
func isMesh(workload string) bool {
	switch workload {
	case WorkloadMesh, WorkloadTCPConn, WorkloadTCPPipe:
		return true
	}
	return false
}

// Config is one benchmark session.
type Config struct {
	// Label names the session kind in the results ("full", "quick").
	Label string
	// Contenders in their first-round order; each round rotates it by one.
	Contenders []string
	// Upstream is the upstream variant ("dnsmasq" or "coredns").
	Upstream string
	// Rounds is the number of rounds (every contender once per round).
	Rounds int
	// Workloads to run, of mesh, external, ndots, tcp-conn, tcp-pipe,
	// tcp-external.
	Workloads []string
	// Names sizes the name set; Mix and NdotsNames shape the ndots
	// workload.
	Names      names.Config
	Mix        names.Mix
	NdotsNames int
	// DNSPerfDuration is each full-load run; 0 skips dnsperf.
	DNSPerfDuration time.Duration
	// DNSPerfOutstanding is dnsperf's -q.
	DNSPerfOutstanding int
	// Rates (queries/s) for the mesh and external fixed-rate runs.
	Rates []float64
	// LookupRates (lookups/s) for the ndots runs.
	LookupRates []float64
	// TCPConnRates (queries/s, one connection each) for tcp-conn and
	// tcp-external; TCPPipeRates (queries/s) for tcp-pipe, spread over
	// TCPConns connections.
	TCPConnRates []float64
	TCPPipeRates []float64
	TCPConns     int
	// FixedDuration is each fixed-rate run.
	FixedDuration time.Duration
	// IdleDuration is the idle run; 0 skips it.
	IdleDuration time.Duration
	// Timeout is when a query counts as lost.
	Timeout time.Duration
	// WarmUp runs before the measured runs of each contender (mesh and
	// external at the lowest rate), unrecorded.
	WarmUp time.Duration
	// Pause is the idle time between runs.
	Pause time.Duration
	// Profile, when > 0, takes a CPU profile of meshdns under full mesh
	// load for this long after the rounds (needs meshdns's pprof).
	Profile time.Duration
	// Bins are the programs; MeshdnsArgs extend `meshdns run`.
	Bins        contender.Bins
	MeshdnsArgs []string
	// ResultsDir receives <date>-<host>[-label].json/.md/.png.
	ResultsDir string
	// PlotBin, when set, is run as `PlotBin -in JSON -out PNG`.
	PlotBin string
	// KeepWorkDir keeps the generated files and process logs.
	KeepWorkDir bool
	Logger      *slog.Logger
}

// Full is the full session: 3 rounds, a 60 s idle run, 10 s dnsperf runs,
// 5 s fixed-rate runs at 200, 2,000 and 10,000 q/s, ndots at 400 and 2,000 lookups/s (about
// 2,000 and 11,000 q/s with the default mix), TCP with a connection per
// query at 500 and 2,000 q/s, pipelined over 4 connections at 2,000 and
// 10,000 q/s.
func Full() Config {
	return Config{
		Label:              "full",
		Contenders:         []string{"direct", "meshdns", "meshdns-nocache", "meshdns-go-nfqueue", "istio", "coredns-nodelocal", "dnsmasq-local"},
		Upstream:           "dnsmasq",
		Rounds:             3,
		Workloads:          []string{WorkloadIdle, WorkloadMesh, WorkloadExternal, WorkloadNdots, WorkloadTCPConn, WorkloadTCPPipe, WorkloadTCPExternal},
		Names:              names.DefaultConfig(),
		Mix:                names.DefaultMix(),
		NdotsNames:         10000,
		DNSPerfDuration:    10 * time.Second,
		DNSPerfOutstanding: 100,
		Rates:              []float64{200, 2000, 10000},
		LookupRates:        []float64{400, 2000},
		TCPConnRates:       []float64{500, 2000},
		TCPPipeRates:       []float64{2000, 10000},
		TCPConns:           4,
		FixedDuration:      5 * time.Second,
		IdleDuration:       time.Minute,
		Timeout:            time.Second,
		WarmUp:             time.Second,
		Pause:              200 * time.Millisecond,
		Profile:            10 * time.Second,
		ResultsDir:         "bench/results",
	}
}

// Quick is a smoke session of two to three minutes: one round, 1 s runs,
// the five main contenders, 2,000 and 10,000 q/s.
func Quick() Config {
	c := Full()
	c.Label = "quick"
	c.Rounds = 1
	c.DNSPerfDuration = time.Second
	c.Contenders = []string{"direct", "meshdns", "istio", "coredns-nodelocal", "dnsmasq-local"}
	c.Rates = []float64{2000, 10000}
	c.FixedDuration = time.Second
	c.IdleDuration = 0 // the idle run takes a minute: --idle-duration to include it
	c.WarmUp = 300 * time.Millisecond
	c.Pause = 100 * time.Millisecond
	c.Profile = 0
	return c
}

// Validate reports a Config that cannot run.
func (c *Config) Validate() error {
	if c.Rounds < 1 || c.Rounds > 50 {
		return fmt.Errorf("rounds %d: want 1..50", c.Rounds)
	}
	if len(c.Contenders) == 0 {
		return fmt.Errorf("no contenders")
	}
	if _, err := contender.Lookup(c.Contenders); err != nil {
		return err
	}
	if _, err := contender.LookupUpstream(c.Upstream); err != nil {
		return err
	}
	if len(c.Workloads) == 0 {
		return fmt.Errorf("no workloads")
	}
	for _, w := range c.Workloads {
		switch w {
		case WorkloadMesh, WorkloadExternal, WorkloadNdots, WorkloadIdle:
		case WorkloadTCPConn, WorkloadTCPExternal:
			if len(c.TCPConnRates) == 0 {
				return fmt.Errorf("workload %q needs TCP connection rates", w)
			}
		case WorkloadTCPPipe:
			if len(c.TCPPipeRates) == 0 {
				return fmt.Errorf("workload %q needs TCP pipelined rates", w)
			}
			if c.TCPConns < 1 || c.TCPConns > 64 {
				return fmt.Errorf("%d TCP connections: want 1..64", c.TCPConns)
			}
		default:
			return fmt.Errorf("unknown workload %q", w)
		}
	}
	for _, d := range []time.Duration{c.DNSPerfDuration, c.FixedDuration, c.IdleDuration, c.WarmUp, c.Profile} {
		if d < 0 || d > 10*time.Minute {
			return fmt.Errorf("duration %v out of range", d)
		}
	}
	if c.FixedDuration == 0 && c.DNSPerfDuration == 0 {
		return fmt.Errorf("nothing to run: both durations are 0")
	}
	if c.Timeout <= 0 || c.Timeout > 10*time.Second {
		return fmt.Errorf("timeout %v: want 0 < t <= 10s", c.Timeout)
	}
	for _, r := range slices.Concat(c.Rates, c.LookupRates, c.TCPPipeRates) {
		if r <= 0 || r > 200000 {
			return fmt.Errorf("rate %v: want 0 < r <= 200000", r)
		}
	}
	// A connection per query: the pod's ports in TIME_WAIT are reused
	// after a second (tcp_tw_reuse), out of about 28,000.
	for _, r := range c.TCPConnRates {
		if r <= 0 || r > 20000 {
			return fmt.Errorf("TCP connection rate %v: want 0 < r <= 20000", r)
		}
	}
	if c.NdotsNames < 1 || c.NdotsNames > 1_000_000 {
		return fmt.Errorf("ndots names %d: want 1..1e6", c.NdotsNames)
	}
	return c.Names.Validate()
}

// hasTCP tells whether a DNS-over-TCP workload is planned.
func (c *Config) hasTCP() bool {
	return slices.ContainsFunc(c.Workloads, IsTCP)
}

// Estimate is roughly how long the session takes.
func (c *Config) Estimate() time.Duration {
	per := c.WarmUp + time.Second // start and stop
	if c.hasTCP() {
		per += c.WarmUp / 2
	}
	for _, w := range c.Workloads {
		switch w {
		case WorkloadIdle:
			if c.IdleDuration > 0 {
				per += IdleSettle + c.IdleDuration + c.Pause
			}
		case WorkloadNdots:
			per += time.Duration(len(c.LookupRates)) * (c.FixedDuration + c.Timeout + c.Pause)
		case WorkloadTCPConn, WorkloadTCPExternal:
			per += time.Duration(len(c.TCPConnRates)) * (c.FixedDuration + c.Timeout + c.Pause)
		case WorkloadTCPPipe:
			per += time.Duration(len(c.TCPPipeRates)) * (c.FixedDuration + c.Timeout + c.Pause)
		default:
			per += c.DNSPerfDuration + time.Duration(len(c.Rates))*(c.FixedDuration+c.Timeout+c.Pause)
		}
	}
	return time.Duration(c.Rounds*len(c.Contenders))*per + c.Profile
}
