package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"os/exec"
	"time"

	"github.com/meshdns/meshdns/bench/internal/contender"
	"github.com/meshdns/meshdns/bench/internal/dnsperf"
	"github.com/meshdns/meshdns/bench/internal/procstat"
	"github.com/meshdns/meshdns/internal/loadgen"
	"github.com/meshdns/meshdns/internal/loadgen/stats"
	"github.com/meshdns/meshdns/internal/netns"
)

// snapshot is the counters read around a run.
type snapshot struct {
	contender, upstream procstat.CPU
	counts              contender.Counts
	machine             procstat.Machine
}

func (h *harness) snap(ctx context.Context, inst *contender.Instance) (snapshot, error) {
	var s snapshot
	var err error
	if s.contender, err = procstat.Sum(h.cpu, inst.PIDs()); err != nil {
		return s, fmt.Errorf("contender CPU: %w", err)
	}
	if s.upstream, err = procstat.Sum(h.cpu, h.upstream.PIDs()); err != nil {
		return s, fmt.Errorf("upstream CPU: %w", err)
	}
	if s.counts, err = contender.ReadCounts(ctx, h.env.Upstream); err != nil {
		return s, fmt.Errorf("upstream counters: %w", err)
	}
	if s.machine, err = procstat.ReadMachine(); err != nil {
		return s, err
	}
	return s, nil
}

// IdleSettle passes unmeasured before an idle run: the contender's start
// (loading names, the garbage collection after it, the runtime returning
// memory) is a one-time cost, not what it spends idling.
const IdleSettle = 10 * time.Second

// measure runs r against the running contender and fills in its figures.
func (h *harness) measure(ctx context.Context, inst *contender.Instance, r *Run) {
	if r.Tool == ToolIdle {
		select {
		case <-ctx.Done():
			r.Error = ctx.Err().Error()
			return
		case <-time.After(IdleSettle):
		}
	}
	before, err := h.snap(ctx, inst)
	if err != nil {
		r.Error = err.Error()
		return
	}
	var client *exec.Cmd
	switch r.Tool {
	case ToolDNSPerf:
		client, err = h.runDNSPerf(ctx, r, h.cfg.DNSPerfDuration)
	case ToolFixed, ToolLookups:
		client, err = h.runLoad(ctx, r, h.cfg.FixedDuration)
	case ToolIdle:
		start := time.Now()
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(h.cfg.IdleDuration):
		}
		r.IdleSeconds = time.Since(start).Seconds()
	default:
		err = fmt.Errorf("unknown tool %q", r.Tool)
	}
	if err != nil {
		r.Error = err.Error()
		return
	}
	after, err := h.snap(ctx, inst)
	if err != nil {
		r.Error = err.Error()
		return
	}
	if err := inst.Alive(); err != nil {
		r.Error = err.Error()
		return
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	dc, pc := procstat.Delta(before.contender, after.contender)
	du, pu := procstat.Delta(before.upstream, after.upstream)
	r.CPUContenderUS, r.CPUUpstreamUS = us(dc), us(du)
	r.CPUPrecise = (pc || len(inst.Procs) == 0) && pu
	if client != nil && client.ProcessState != nil {
		r.CPUClientUS = us(client.ProcessState.UserTime() + client.ProcessState.SystemTime())
	}
	// The machine's busy time not spent by the contender, the upstream or
	// the client: other work competing for the CPUs (plus softirq work on
	// our packets that ran outside our processes).
	if total := after.machine.Total - before.machine.Total; total > 0 {
		busy := after.machine.Busy - before.machine.Busy
		ours := dc + du + time.Duration(r.CPUClientUS*float64(time.Microsecond))
		r.OtherCPUShare = stats.Float(max(0, float64(busy-ours)/float64(total)))
		r.MachineBusyShare = stats.Float(float64(busy) / float64(total))
	}
	d := after.counts.Sub(before.counts)
	r.UpstreamQueries = d.Queries()
	r.UpstreamTCPConns = d.TCPConns
	r.UpstreamTCPQueries = d.TCPQueries
	per := func(x float64, n int) stats.Float {
		if n <= 0 {
			return stats.Float(math.NaN())
		}
		return stats.Float(x / float64(n))
	}
	slices, sok := procstat.SlicesDelta(before.contender, after.contender)
	if r.Tool == ToolIdle && r.IdleSeconds > 0 {
		r.IdleCPUMsPerMinute = stats.Float(r.CPUContenderUS / 1000 / (r.IdleSeconds / 60))
		r.IdleSlices = slices
	}
	r.SlicesPerQuery = stats.Float(math.NaN())
	if sok && len(inst.Procs) > 0 {
		r.SlicesPerQuery = per(float64(slices), r.Answered)
	}
	r.CPUPerQueryUS = per(r.CPUContenderUS+r.CPUUpstreamUS, r.Answered)
	r.CPUContenderPerQueryUS = per(r.CPUContenderUS, r.Answered)
	r.CPUUpstreamPerQueryUS = per(r.CPUUpstreamUS, r.Answered)
	r.UpstreamPerLookup = per(float64(r.UpstreamQueries), r.Lookups)
}

// runDNSPerf runs dnsperf at full load in the pod namespace.
func (h *harness) runDNSPerf(ctx context.Context, r *Run, d time.Duration) (*exec.Cmd, error) {
	args, err := dnsperf.Config{
		Server:      netip4(h.env),
		DataFile:    h.in.dnsperf[r.Workload],
		Duration:    d,
		Timeout:     h.cfg.Timeout,
		Outstanding: h.cfg.DNSPerfOutstanding,
	}.Args()
	if err != nil {
		return nil, err
	}
	cmd := netns.Command(ctx, h.env.Pod, "dnsperf", args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("dnsperf: %w: %s", err, tail(errb.Bytes()))
	}
	res, err := dnsperf.Parse(out.Bytes())
	if err != nil {
		return nil, err
	}
	r.DNSPerf = &res
	r.SendLagP99US = stats.Float(math.NaN())
	r.Lookups, r.Queries, r.Answered, r.Lost = res.Sent, res.Sent, res.Completed, res.Lost
	r.QPS = res.QPS
	if r.Workload == WorkloadMesh {
		if bad := res.Completed - res.Rcodes["NOERROR"]; bad > 0 {
			r.Error = fmt.Sprintf("%d mesh answers were not NOERROR: %v", bad, res.Rcodes)
		}
	}
	return cmd, nil
}

// netip4 is the pod's first nameserver, port 53: where clients send.
func netip4(env *contender.Env) netip.AddrPort {
	return netip.AddrPortFrom(env.Nameservers[0], 53)
}

// runLoad runs the project's generator in the pod namespace.
func (h *harness) runLoad(ctx context.Context, r *Run, d time.Duration) (*exec.Cmd, error) {
	cfg := loadgen.Config{
		Server:   netip4(h.env),
		Rate:     r.Rate,
		Duration: d,
		Timeout:  h.cfg.Timeout,
	}
	spec := loadgen.Spec{Kind: loadgen.KindFixed, Config: cfg}
	switch {
	case r.Tool == ToolLookups:
		spec.Kind = loadgen.KindLookups
		spec.Config.Names = h.in.ndots
		spec.Config.Search = h.set.SearchList()
		spec.Config.Ndots = 5
	case r.Workload == WorkloadTCPConn:
		spec.Kind = loadgen.KindTCPConn
		spec.Config.Queries = h.in.queries[WorkloadMesh]
	case r.Workload == WorkloadTCPExternal:
		spec.Kind = loadgen.KindTCPConn
		spec.Config.Queries = h.in.queries[WorkloadExternal]
	case r.Workload == WorkloadTCPPipe:
		spec.Kind = loadgen.KindTCPPipe
		spec.Config.Queries = h.in.queries[WorkloadMesh]
		spec.Config.Sockets = h.cfg.TCPConns
	default:
		spec.Config.Queries = h.in.queries[r.Workload]
	}
	h.specs++
	path, err := writeSpec(h.work, h.specs, spec)
	if err != nil {
		return nil, err
	}
	cmd := netns.Command(ctx, h.env.Pod, h.cfg.Bins.Self, "load", "--spec", path)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("load generator: %w: %s", err, tail(errb.Bytes()))
	}
	var o loadgen.Output
	if err := json.Unmarshal(out.Bytes(), &o); err != nil {
		return nil, fmt.Errorf("load generator output: %w", err)
	}
	switch {
	case o.Fixed != nil:
		f := o.Fixed
		r.Fixed = f
		r.Lookups, r.Queries, r.Answered, r.Lost = f.Sent, f.Sent, f.Answered, f.Lost
		r.QPS = float64(f.Answered) / f.Seconds
		r.Latency, r.ServiceLatency = &f.Latency, &f.ServiceLatency
		r.SendLagP99US = stats.Float(f.SendLag.P99)
		if isMesh(r.Workload) && f.OK < f.Answered {
			r.Error = fmt.Sprintf("%d of %d mesh answers had no address (nodata %d, nxdomain %d, servfail %d, other %d)",
				f.Answered-f.OK, f.Answered, f.NoData, f.NXDomain, f.ServFail, f.Other)
		}
	case o.Lookups != nil:
		l := o.Lookups
		r.Ndots = l
		r.Lookups, r.Queries, r.Lost = l.Lookups, l.Queries, l.Lost
		r.Answered = l.Queries - l.Lost
		r.QPS = float64(r.Answered) / l.Seconds
		r.Latency, r.ServiceLatency = &l.Latency, &l.ServiceLatency
		r.SendLagP99US = stats.Float(l.SendLag.P99)
	default:
		return nil, fmt.Errorf("load generator printed no result")
	}
	return cmd, nil
}

// warmUp runs mesh and external queries briefly, unrecorded, so that
// every contender is measured warm (Go runtimes grown, caches filled);
// mesh queries over TCP too when a TCP workload follows.
func (h *harness) warmUp(ctx context.Context) {
	if h.cfg.WarmUp <= 0 {
		return
	}
	rate := 2000.0
	if len(h.cfg.Rates) > 0 {
		rate = h.cfg.Rates[0]
	}
	runs := []Run{{Workload: WorkloadMesh, Tool: ToolFixed, Rate: rate}, {Workload: WorkloadExternal, Tool: ToolFixed, Rate: rate}}
	if h.cfg.hasTCP() && len(h.cfg.TCPConnRates) > 0 {
		runs = append(runs, Run{Workload: WorkloadTCPConn, Tool: ToolFixed, Rate: h.cfg.TCPConnRates[0]})
	}
	for _, r := range runs {
		if _, err := h.runLoad(ctx, &r, h.cfg.WarmUp/2); err != nil {
			h.log.Warn("warm-up", "workload", r.Workload, "err", err)
		}
	}
}

func tail(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 600 {
		b = b[len(b)-600:]
	}
	return string(b)
}
