package nodetest

import (
	"context"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/meshdns/meshdns/internal/tcpattack"
)

// BenchmarkFloodIsolation: one pod floods its DNS while a neighbour pod of
// the same node runs a fixed-rate load of mesh lookups answered by the
// agent; the neighbour's latency percentiles and losses are reported
// without a flood and under each flood, interleaved (quiet, flood, quiet,
// ...), with the ratio of its p99 under flood to its p99 without. Floods:
// UDP queries at full rate (dnsperf, 4 sockets, in a CPU cgroup of half a
// core: a pod with a 500m CPU limit), and the hardening work's TCP attacks
// (package tcpattack): 60 KB partial queries, 2,000 connections each
// holding a partial query, pipelined query floods never read, a SYN flood. The neighbour's client is a process of its own in its pod, so
// that neither the flood nor the test process's cluster DNS shares its Go
// runtime; this process (the cluster DNS and the TCP attackers) is held to
// half a core, as the flooding pod and the cluster DNS, which runs on
// other nodes, would be. Last, the reference: the UDP flood with the agent killed (no
// meshdns on the node: every pod asks the cluster DNS). Run with
// -benchtime 1x:
//
//	go test -run '^$' -bench FloodIsolation -benchtime 1x ./internal/nodetest/
func BenchmarkFloodIsolation(b *testing.B) {
	n := New(b, Config{Zone: testZone, Cache: true})
	agent := n.StartAgent(b, "--objects", "testdata/objects.yaml")
	flooder := n.AddPod(b, NewPodObject("shop", "flooder"))
	neighbour := n.AddPod(b, NewPodObject("billing", "neighbour"))
	// This process runs the cluster DNS, which stands for CoreDNS on
	// other nodes, and the TCP attackers, which stand for the flooding
	// pod: on the node they get the CPU of one pod, half a core (as
	// dnsperf does), not the node's. The agent started before, and the
	// neighbour's client is moved out.
	moveToCgroup(b, newCPUCgroup(b, "mdt-bench", 500), os.Getpid())
	udp := func(ctx context.Context) func() int64 { return dnsperfFlood(b, ctx, n, flooder, 500) }
	target := tcpattack.Target{NS: flooder.NS, Server: netip.AddrPortFrom(ClusterDNS, 53)}
	raw, err := tcpattack.NewRawSender(flooder.NS)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	// The hardening work's TCP attacks, each for one measuring period
	// (the count: connections, MB written or SYNs sent).
	attacks := []struct {
		name, unit string
		run        func(d time.Duration) int64
	}{
		{"tcp-prefixes", "connections", func(d time.Duration) int64 { opened, _ := tcpattack.Prefixes(target, 300, d); return opened }},
		{"tcp-conns", "connections", func(d time.Duration) int64 { held, _ := tcpattack.ManyFlows(target, 2000, d); return int64(held) }},
		{"tcp-pipelined", "MiB written", func(d time.Duration) int64 {
			written, _ := tcpattack.Pipelined(target, 64, webFQDN, d)
			return written >> 20
		}},
		{"tcp-syn", "SYNs", func(d time.Duration) int64 {
			sent, err := tcpattack.SYNFlood(raw, flooder.IP, target.Server, d)
			if err != nil {
				b.Error(err)
			}
			return int64(sent)
		}},
	}
	for range b.N {
		floodRounds(b, neighbour, "udp", "queries", udp)
		for _, a := range attacks {
			floodRounds(b, neighbour, a.name, a.unit, func(ctx context.Context) func() int64 {
				var count atomic.Int64
				done := make(chan struct{})
				go func() { count.Store(a.run(floodPeriod + 500*time.Millisecond)); close(done) }()
				return func() int64 { <-done; return count.Load() }
			})
		}
		// The reference: the same UDP flood with no meshdns on the node
		// (the agent killed: every pod's DNS goes to the cluster DNS).
		if err := agent.Signal(syscall.SIGKILL); err != nil {
			b.Fatal(err)
		}
		agent.Wait(10 * time.Second)
		floodRounds(b, neighbour, "udp-without-meshdns", "queries", udp)
	}
}

// floodRounds measures neighbour's fixed-rate lookups without and under
// the flood start starts, interleaved, and reports both; the flood's count
// (what start's result returns once it is over) is in unit.
func floodRounds(b *testing.B, neighbour *Pod, name, unit string, start func(context.Context) func() int64) {
	b.Helper()
	const rate, period, rounds = 200, floodPeriod, 3
	var quiet, loud latencies
	var sentPerSec float64
	for range rounds {
		quiet.add(fixedRateChild(b, neighbour, apiFQDN, rate, period))
		ctx, cancel := context.WithCancel(context.Background())
		sent := start(ctx)
		time.Sleep(500 * time.Millisecond) // the flood at full strength
		loud.add(fixedRateChild(b, neighbour, apiFQDN, rate, period))
		cancel()
		sentPerSec += float64(sent()) / (period.Seconds() + 0.5) / rounds
		time.Sleep(time.Second) // the flood's backlog gone
	}
	q50, q99 := quiet.percentile(50), quiet.percentile(99)
	l50, l99 := loud.percentile(50), loud.percentile(99)
	b.Logf("%s flood (%.0f %s a second): neighbour at %d q/s: p50 %v -> %v, p99 %v -> %v (%.2fx), lost %d -> %d of %d",
		name, sentPerSec, unit, rate, q50, l50, q99, l99, float64(l99)/float64(q99), quiet.lost, loud.lost, len(loud.d)+loud.lost)
	b.ReportMetric(float64(l99)/float64(q99), name+"-p99-ratio")
	b.ReportMetric(float64(q99.Microseconds()), name+"-quiet-p99-us")
	b.ReportMetric(float64(l99.Microseconds()), name+"-flood-p99-us")
	b.ReportMetric(float64(loud.lost), name+"-lost")
	b.ReportMetric(sentPerSec, name+"-flood-per-s")
}

// floodPeriod is how long the neighbour is measured in each round.
const floodPeriod = 8 * time.Second

// latencies are a fixed-rate run's answered queries' latencies and the
// queries left unanswered.
type latencies struct {
	d    []time.Duration
	lost int
}

func (l *latencies) add(o latencies) { l.d = append(l.d, o.d...); l.lost += o.lost }

func (l *latencies) percentile(p int) time.Duration {
	if len(l.d) == 0 {
		return 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

// fixedRate asks name on c at rate queries a second for d, one query at a
// time (each waits up to a second for its answer, as a stub resolver's
// first try), and returns the latencies.
func fixedRate(c net.Conn, name string, rate int, d time.Duration) latencies {
	var l latencies
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	buf := make([]byte, 1500)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	end := time.Now().Add(d)
	for id := uint16(1); time.Now().Before(end); id++ {
		<-tick.C
		m.Id = id
		q, _ := m.Pack()
		start := time.Now()
		if _, err := c.Write(q); err != nil {
			l.lost++
			continue
		}
		_ = c.SetReadDeadline(start.Add(time.Second))
		for {
			n, err := c.Read(buf)
			if err != nil {
				l.lost++
				break
			}
			var r dns.Msg
			if r.Unpack(buf[:n]) == nil && r.Id == id {
				l.d = append(l.d, time.Since(start))
				break
			}
		}
	}
	return l
}
