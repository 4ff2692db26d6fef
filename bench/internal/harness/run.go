package harness

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/meshdns/meshdns/bench/internal/contender"
	"github.com/meshdns/meshdns/bench/internal/names"
	"github.com/meshdns/meshdns/bench/internal/procstat"
	"github.com/meshdns/meshdns/internal/netns"
)

// harness is one session's state.
type harness struct {
	cfg      Config
	log      *slog.Logger
	cpu      procstat.Reader
	work     string
	set      *names.Set
	in       *inputs
	env      *contender.Env
	upstream *contender.Instance
	doc      *Document
	specs    int
}

// Result is what Session leaves behind.
type Result struct {
	Doc                 *Document
	JSON, Markdown, PNG string
}

// Session runs a benchmark session and writes its results. It returns the results
// written so far with an error if the session was interrupted or failed
// after it started measuring.
func Session(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("the benchmark builds network namespaces: run it as root")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &harness{cfg: cfg, log: log, cpu: procstat.ProcReader{}}
	start := time.Now()

	contenders, _ := contender.Lookup(cfg.Contenders)
	up, _ := contender.LookupUpstream(cfg.Upstream)

	work, err := os.MkdirTemp("", "meshdns-bench-")
	if err != nil {
		return nil, err
	}
	// Readable by the proxy uid (1337): the contenders read their
	// configuration from here.
	if err := os.Chmod(work, 0o755); err != nil {
		return nil, err
	}
	h.work = work
	defer func() {
		if cfg.KeepWorkDir {
			log.Info("work directory kept", "dir", work)
			return
		}
		os.RemoveAll(work)
	}()

	if h.set, err = names.Generate(cfg.Names); err != nil {
		return nil, err
	}
	if h.in, err = writeInputs(work, h.set, cfg.Mix, cfg.NdotsNames); err != nil {
		return nil, err
	}

	// Teardown must not depend on ctx: it runs after an interrupt too.
	topo, err := netns.New(ctx, netns.Config{Prefix: fmt.Sprintf("bench%d", os.Getpid()), Logger: log})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := topo.Close(); err != nil {
			log.Error("teardown", "err", err)
		}
	}()
	nameservers := []netip.Addr{topo.UpstreamV4, topo.UpstreamV6}
	if err := topo.WriteResolvConf(h.set.ResolvConf(nameservers...)); err != nil {
		return nil, err
	}
	if cfg.hasTCP() {
		if err := tuneTCP(topo.Pod); err != nil {
			return nil, err
		}
	}
	h.env = &contender.Env{
		Pod: topo.Pod, Upstream: topo.Upstream,
		Nameservers:   nameservers,
		PodNamespace:  cfg.Names.PodNamespace,
		ClusterDomain: cfg.Names.ClusterDomain,
		Files:         contender.Files{Objects: h.in.objects, MeshHosts: h.in.meshHosts, AllHosts: h.in.allHosts, AllZone: h.in.allZone},
		WorkDir:       work,
		Bins:          cfg.Bins,
		MeshdnsArgs:   cfg.MeshdnsArgs,
		ProxyUID:      contender.DefaultProxyUID,
		ProbeName:     h.in.probe,
		Logger:        log,
	}
	for _, c := range contenders {
		if err := c.Check(h.env); err != nil {
			return nil, fmt.Errorf("contender %s cannot run: %w", c.Name(), err)
		}
	}
	if err := up.Check(h.env); err != nil {
		return nil, fmt.Errorf("upstream %s cannot run: %w", up.Name(), err)
	}

	h.doc = &Document{Meta: h.meta()}
	log.Info("session", "label", cfg.Label, "contenders", cfg.Contenders, "rounds", cfg.Rounds,
		"estimate", cfg.Estimate().Round(time.Second), "pod", topo.Pod, "upstream", topo.Upstream)

	if h.upstream, err = up.Start(ctx, h.env); err != nil {
		return nil, err
	}
	defer func() {
		if err := h.upstream.Stop(); err != nil {
			log.Warn("upstream stop", "err", err)
		}
	}()

	runErr := h.rounds(ctx)
	if runErr == nil && cfg.Profile > 0 && contains(cfg.Contenders, "meshdns") {
		h.doc.Profile = h.profile(ctx)
	}
	h.doc.Meta.Seconds = time.Since(start).Seconds()
	h.doc.Meta.LoadAvgEnd = loadAvg()
	h.doc.Meta.Complete = runErr == nil
	h.doc.Summaries = Summarize(h.doc.Runs, cfg.Contenders)
	h.doc.Ratios = Ratios(h.doc.Runs, RatioPairs)
	res, werr := h.write()
	return res, errors.Join(runErr, werr)
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// rounds runs every contender once per round, rotating the order.
func (h *harness) rounds(ctx context.Context) error {
	byName := map[string]contender.Contender{}
	cs, _ := contender.Lookup(h.cfg.Contenders)
	for _, c := range cs {
		byName[c.Name()] = c
	}
	for round := 0; round < h.cfg.Rounds; round++ {
		order := rotate(h.cfg.Contenders, round)
		h.doc.Meta.Orders = append(h.doc.Meta.Orders, order)
		for pos, name := range order {
			if err := ctx.Err(); err != nil {
				return err
			}
			h.log.Info("contender", "round", round+1, "of", h.cfg.Rounds, "name", name)
			if err := h.session(ctx, round, pos, byName[name]); err != nil {
				return err
			}
		}
	}
	return nil
}

// plan lists the runs of one contender session.
func (h *harness) plan() []Run {
	var out []Run
	for _, w := range h.cfg.Workloads {
		switch w {
		case WorkloadIdle:
			if h.cfg.IdleDuration > 0 {
				out = append(out, Run{Workload: w, Tool: ToolIdle})
			}
		case WorkloadNdots:
			if h.cfg.FixedDuration > 0 {
				for _, r := range h.cfg.LookupRates {
					out = append(out, Run{Workload: w, Tool: ToolLookups, Rate: r})
				}
			}
		case WorkloadTCPConn, WorkloadTCPExternal, WorkloadTCPPipe:
			rates := h.cfg.TCPConnRates
			if w == WorkloadTCPPipe {
				rates = h.cfg.TCPPipeRates
			}
			if h.cfg.FixedDuration > 0 {
				for _, r := range rates {
					out = append(out, Run{Workload: w, Tool: ToolFixed, Rate: r})
				}
			}
		default:
			if h.cfg.DNSPerfDuration > 0 {
				out = append(out, Run{Workload: w, Tool: ToolDNSPerf})
			}
			if h.cfg.FixedDuration > 0 {
				for _, r := range h.cfg.Rates {
					out = append(out, Run{Workload: w, Tool: ToolFixed, Rate: r})
				}
			}
		}
	}
	return out
}

// session starts one contender, runs the plan against it and stops it. A
// contender that fails to start or dies records errors for its runs; only
// an interrupt stops the session.
func (h *harness) session(ctx context.Context, round, pos int, c contender.Contender) error {
	plan := h.plan()
	for i := range plan {
		plan[i].Round, plan[i].Position, plan[i].Contender = round+1, pos, c.Name()
	}
	fail := func(from int, err error) {
		for i := from; i < len(plan); i++ {
			plan[i].Error = err.Error()
			h.doc.Runs = append(h.doc.Runs, plan[i])
		}
	}
	inst, err := c.Start(ctx, h.env)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		h.log.Error("start", "contender", c.Name(), "err", err)
		fail(0, fmt.Errorf("start: %w", err))
		return nil
	}
	if h.doc.Meta.Contender == nil {
		h.doc.Meta.Contender = map[string]map[string]string{}
	}
	h.doc.Meta.Contender[c.Name()] = inst.Meta
	defer func() {
		if err := inst.Stop(); err != nil {
			h.log.Warn("stop", "contender", c.Name(), "err", err)
		}
	}()
	// Idle runs first, before any query has reached the contender.
	slices.SortStableFunc(plan, func(a, b Run) int {
		return cmp.Compare(boolRank(a.Tool != ToolIdle), boolRank(b.Tool != ToolIdle))
	})
	warm := false
	for i := range plan {
		if plan[i].Tool != ToolIdle && !warm {
			h.warmUp(ctx)
			warm = true
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := inst.Alive(); err != nil {
			fail(i, err)
			return nil
		}
		r := plan[i]
		h.measure(ctx, inst, &r)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if r.Error != "" {
			h.log.Warn("run", "contender", r.Contender, "workload", r.Workload, "tool", r.Tool, "rate", r.Rate, "err", r.Error)
		} else if r.Tool == ToolIdle {
			h.log.Info("run", "contender", r.Contender, "workload", r.Workload, "seconds", r.IdleSeconds,
				"cpu_ms_per_minute", fmt.Sprintf("%.2f", float64(r.IdleCPUMsPerMinute)))
		} else {
			h.log.Info("run", "contender", r.Contender, "workload", r.Workload, "tool", r.Tool, "rate", r.Rate,
				"qps", int(r.QPS), "lost", r.Lost, "p50_us", p50(&r), "cpu_us_per_q", fmt.Sprintf("%.2f", float64(r.CPUPerQueryUS)),
				"upstream_per_lookup", fmt.Sprintf("%.2f", float64(r.UpstreamPerLookup)),
				"other_cpu", fmt.Sprintf("%.0f%%", float64(r.OtherCPUShare)*100))
		}
		h.doc.Runs = append(h.doc.Runs, r)
		time.Sleep(h.cfg.Pause)
	}
	return nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

func p50(r *Run) any {
	if r.Latency == nil {
		return "-"
	}
	return r.Latency.P50
}

// meta describes the machine and the session.
func (h *harness) meta() Meta {
	host, _ := os.Hostname()
	m := Meta{
		Date:         time.Now().UTC().Format("2006-01-02T15:04:05Z"),
		Host:         host,
		Kernel:       kernelRelease(),
		CPUs:         runtime.NumCPU(),
		CPUModel:     cpuModel(),
		Go:           runtime.Version(),
		Label:        h.cfg.Label,
		Upstream:     h.cfg.Upstream,
		Rounds:       h.cfg.Rounds,
		Versions:     versions(h.cfg.Bins),
		LoadAvgStart: loadAvg(),
		Config: ConfigRecord{
			Services:           h.cfg.Names.Services,
			HeadlessEvery:      h.cfg.Names.HeadlessEvery,
			ServiceEntries:     h.cfg.Names.ServiceEntries,
			External:           h.cfg.Names.External,
			Namespaces:         h.cfg.Names.Namespaces,
			Mix:                h.cfg.Mix,
			Search:             h.set.SearchList(),
			DNSPerfSeconds:     h.cfg.DNSPerfDuration.Seconds(),
			DNSPerfOutstanding: h.cfg.DNSPerfOutstanding,
			FixedSeconds:       h.cfg.FixedDuration.Seconds(),
			Rates:              h.cfg.Rates,
			LookupRates:        h.cfg.LookupRates,
			TCPConnRates:       h.cfg.TCPConnRates,
			TCPPipeRates:       h.cfg.TCPPipeRates,
			TCPConns:           h.cfg.TCPConns,
			TimeoutSeconds:     h.cfg.Timeout.Seconds(),
			MeshdnsArgs:        h.cfg.MeshdnsArgs,
		},
	}
	m.Notes = append(m.Notes,
		"external repeats the same 200 external names: meshdns (cache on by default), coredns-nodelocal and the other caching contenders answer them from their caches after the first query of each name, so for them it measures cache hits; meshdns-nocache (--cache-size 0) measures meshdns's pure pass-through path, where the rules' query filter keeps those queries in the kernel; meshdns-nocache-queue-all (--queue-filter off too) takes them through the queue, as meshdns did before the filter.",
		"coredns-nodelocal forwards the cluster zone over UDP (node-local-dns uses force_tcp) so the upstream counter sees its queries.",
		"The istio contender is istio.io/istio pkg/dns/client at "+IstioVersion+", fed a NameTable built from the objects file as istiod would (bench/istio).",
	)
	if h.cfg.hasTCP() {
		m.Notes = append(m.Notes, tcpNotes...)
	}
	return m
}

// tcpNotes explain the DNS-over-TCP figures.
var tcpNotes = []string{
	"TCP: the client closes each tcp-conn connection first (FIN), as a stub resolver does; the pod namespace runs with net.ipv4.tcp_tw_reuse=1 so its ports in TIME_WAIT are reused after a second.",
	"TCP: Istio's proxy (miekg/dns server defaults) serves queries of one connection one after the other and closes it after 128; the tcp-pipe generator then reconnects and sends the unanswered queries again (reconnects column), their latency counted from the first schedule. CoreDNS serves a connection without limit; meshdns answers in place in the client's own segments.",
	"TCP: dnsmasq (the upstream, and dnsmasq-local) forks a process per TCP connection, at most 20 at once, and closes a connection after 100 queries; the CPU of the reaped children is counted (cutime+cstime, 10 ms ticks). Upstream queries over TCP are counted by segments with PSH (about one per query).",
	"TCP: meshdns forwards external names over its own UDP sockets; Istio's proxy and CoreDNS forward a TCP query over TCP, dnsmasq-local too.",
}

// tuneTCP lets the pod namespace reuse its ports in TIME_WAIT for new
// connections after a second (the default, 2, does so on loopback only):
// a connection per query at thousands a second would otherwise run out
// of the ~28,000 ephemeral ports within the 60 s of TIME_WAIT.
func tuneTCP(pod string) error {
	const path = "/proc/sys/net/ipv4/tcp_tw_reuse"
	return netns.Do(pod, func() error {
		// /proc/sys/net is the opening thread's namespace's.
		if err := os.WriteFile(path, []byte("1\n"), 0o644); err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.TrimSpace(string(b)) != "1" {
			return fmt.Errorf("%s in %s is %q after writing 1", path, pod, b)
		}
		return nil
	})
}

// IstioVersion is the pinned istio.io/istio module version of bench/istio.
const IstioVersion = "v0.0.0-20260827124520-eed52ebb66ad"

// write writes the JSON, the Markdown and (with PlotBin) the PNG.
func (h *harness) write() (*Result, error) {
	if err := os.MkdirAll(h.cfg.ResultsDir, 0o755); err != nil {
		return nil, err
	}
	stem := time.Now().UTC().Format("2006-01-02") + "-" + sanitize(h.doc.Meta.Host)
	if h.cfg.Label != "full" {
		stem += "-" + sanitize(h.cfg.Label)
	}
	if !h.doc.Meta.Complete {
		stem += "-partial"
	}
	res := &Result{Doc: h.doc,
		JSON:     filepath.Join(h.cfg.ResultsDir, stem+".json"),
		Markdown: filepath.Join(h.cfg.ResultsDir, stem+".md"),
		PNG:      filepath.Join(h.cfg.ResultsDir, stem+".png"),
	}
	if h.doc.Profile != nil && h.doc.Profile.File != "" {
		final := filepath.Join(h.cfg.ResultsDir, stem+"-meshdns.pprof")
		if err := os.Rename(h.doc.Profile.File, final); err != nil {
			if err := copyFile(h.doc.Profile.File, final); err != nil {
				h.doc.Profile.Status += "; saving failed: " + err.Error()
				final = ""
			}
		}
		h.doc.Profile.File = final
	}
	b, err := json.MarshalIndent(h.doc, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(res.JSON, append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	var md strings.Builder
	if err := WriteMarkdown(&md, h.doc); err != nil {
		return nil, err
	}
	if err := os.WriteFile(res.Markdown, []byte(md.String()), 0o644); err != nil {
		return nil, err
	}
	if h.cfg.PlotBin != "" {
		if out, err := runPlot(h.cfg.PlotBin, res.JSON, res.PNG); err != nil {
			h.log.Warn("plot", "err", err, "output", out)
			res.PNG = ""
		}
	} else {
		res.PNG = ""
	}
	return res, nil
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
