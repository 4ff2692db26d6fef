package dnsperf

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Config is one dnsperf run at full load.
type Config struct {
	// Server is the address queried (the pod's nameserver).
	Server netip.AddrPort
	// DataFile holds the queries ("name TYPE" lines).
	DataFile string
	// Duration is dnsperf's -l.
	Duration time.Duration
	// Timeout is dnsperf's -t: a query unanswered after it is lost.
	Timeout time.Duration
	// Outstanding is -q, the most queries in flight (default 100).
	Outstanding int
	// Clients is -c, the number of sockets (default 1).
	Clients int
	// Threads is -T (default 1).
	Threads int
}

// Args returns dnsperf's arguments for c.
func (c Config) Args() ([]string, error) {
	if !c.Server.IsValid() || c.DataFile == "" {
		return nil, fmt.Errorf("dnsperf: server and data file are required")
	}
	if c.Duration <= 0 {
		return nil, fmt.Errorf("dnsperf: duration %v", c.Duration)
	}
	secs := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = time.Second
	}
	out := c.Outstanding
	if out <= 0 {
		out = 100
	}
	args := []string{
		"-s", c.Server.Addr().String(),
		"-p", strconv.Itoa(int(c.Server.Port())),
		"-d", c.DataFile,
		"-l", secs(c.Duration),
		"-t", secs(timeout),
		"-q", strconv.Itoa(out),
	}
	if c.Clients > 0 {
		args = append(args, "-c", strconv.Itoa(c.Clients))
	}
	if c.Threads > 0 {
		args = append(args, "-T", strconv.Itoa(c.Threads))
	}
	return args, nil
}

// Result is dnsperf's statistics report.
type Result struct {
	Sent      int `json:"sent"`
	Completed int `json:"completed"`
	Lost      int `json:"lost"`
	// Rcodes counts responses by code name ("NOERROR", "NXDOMAIN", ...).
	Rcodes     map[string]int `json:"rcodes,omitempty"`
	RunSeconds float64        `json:"run_seconds"`
	QPS        float64        `json:"qps"`
	// AvgLatencyUS and StdDevUS are dnsperf's mean and standard deviation
	// of completed queries' latency, in microseconds.
	AvgLatencyUS float64 `json:"avg_latency_us"`
	MinLatencyUS float64 `json:"min_latency_us"`
	MaxLatencyUS float64 `json:"max_latency_us"`
	StdDevUS     float64 `json:"stddev_us"`
}

// Parse reads dnsperf's output (stdout). It needs at least the sent,
// completed and queries-per-second lines.
func Parse(out []byte) (Result, error) {
	var r Result
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		first := val
		if i := strings.IndexByte(val, ' '); i >= 0 {
			first = val[:i]
		}
		var err error
		switch key {
		case "Queries sent":
			r.Sent, err = strconv.Atoi(first)
		case "Queries completed":
			r.Completed, err = strconv.Atoi(first)
		case "Queries lost":
			r.Lost, err = strconv.Atoi(first)
		case "Run time (s)":
			r.RunSeconds, err = strconv.ParseFloat(first, 64)
		case "Queries per second":
			r.QPS, err = strconv.ParseFloat(first, 64)
		case "Average Latency (s)":
			r.AvgLatencyUS, err = seconds(first)
			if err == nil {
				r.MinLatencyUS, r.MaxLatencyUS = minMax(val)
			}
		case "Latency StdDev (s)":
			r.StdDevUS, err = seconds(first)
		case "Response codes":
			r.Rcodes = parseRcodes(val)
		default:
			continue
		}
		if err != nil {
			return Result{}, fmt.Errorf("dnsperf: %s: %w", key, err)
		}
		seen[key] = true
	}
	for _, k := range []string{"Queries sent", "Queries completed", "Queries per second"} {
		if !seen[k] {
			return Result{}, fmt.Errorf("dnsperf: no %q in the output", k)
		}
	}
	return r, nil
}

func seconds(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	// dnsperf prints microsecond resolution; round away float noise.
	return math.Round(v*1e7) / 10, err
}

// minMax reads "(min 0.000012, max 0.003456)".
func minMax(s string) (lo, hi float64) {
	_, rest, ok := strings.Cut(s, "(min ")
	if !ok {
		return 0, 0
	}
	a, b, ok := strings.Cut(rest, ", max ")
	if !ok {
		return 0, 0
	}
	lo, _ = seconds(strings.TrimSpace(a))
	hi, _ = seconds(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(b), ")")))
	return lo, hi
}

// parseRcodes reads "NOERROR 1000 (50.00%), NXDOMAIN 1000 (50.00%)".
func parseRcodes(s string) map[string]int {
	m := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		f := strings.Fields(part)
		if len(f) < 2 {
			continue
		}
		if n, err := strconv.Atoi(f[1]); err == nil {
			m[f[0]] = n
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}
