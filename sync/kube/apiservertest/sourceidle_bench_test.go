package apiservertest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/meshdns/meshdns/sync/kube/apiservertest/kubetest"
	"github.com/meshdns/meshdns/sync/model"
	"github.com/meshdns/meshdns/sync/model/modeltest"
)

// idleSettle and idleRun are the bench harness's idle run (meshdns-bench
// --workloads idle --idle-duration 60s): measured from 10 s after start,
// over a minute.
const (
	idleSettle = 10 * time.Second
	idleRun    = time.Minute
)

// BenchmarkSourceIdle is the CPU `meshdns run` spends with no DNS traffic
// while it reads its names from the real API server: the informers'
// watches, the connection's HTTP/2 pings and the runtime's own timers. The
// cluster is the bench harness's default name set (bench/internal/names,
// which its objects-file idle run loads): MESHDNS_IDLE_SERVICES Services
// (default 1,000) over 10 namespaces, every 10th headless with 3 named
// endpoints, and 100 ServiceEntries (the CRD installed, so the ServiceEntry
// informer runs too); unlike the objects file, every Service has its
// EndpointSlice, as in a cluster. meshdns runs as the harness runs it:
// its rules installed, DNS over TCP and the cache on. Each of
// MESHDNS_IDLE_ROUNDS rounds (default 3) starts meshdns, waits for its
// first table, lets it settle 10 s, then reads the schedstat of its
// threads over 60 s: CPU time and run slices (wake-ups), a minute's worth,
// the median reported. The load average is logged at both ends: the
// machine's other work delays an idle process's wake-ups more than it
// changes their count or cost. Run as root:
//
//	cd sync/kube/apiservertest && go test -run '^$' -bench SourceIdle -benchtime 1x -timeout 30m .
func BenchmarkSourceIdle(b *testing.B) {
	c := modeltest.ClusterConfig{Services: envInt(b, "MESHDNS_IDLE_SERVICES", 1000), Namespaces: 10,
		HeadlessEvery: 10, Endpoints: 3, ServiceEntries: 100}
	rounds := envInt(b, "MESHDNS_IDLE_ROUNDS", 3)
	sb := newSourceBench(b, c, "/meshdns-idle", 0)
	createEntries(b, sb.admin, modeltest.Cluster(c).ServiceEntries)
	dir := b.TempDir()
	resolv := filepath.Join(dir, "resolv.conf")
	err := os.WriteFile(resolv, []byte("nameserver 198.18.0.1\nsearch ns-0.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"), 0o644)
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		var cpu, runs []float64
		for r := range rounds {
			p := sb.start(b, "--resolv-conf", resolv, "--tcp-key-file", filepath.Join(dir, "tcp.key"))
			if out, err := p.WaitLog(time.Minute, "msg=serving"); err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
			time.Sleep(idleSettle)
			load0, logs0 := loadavg(b), len(p.Logs())
			ns0, runs0 := schedstat(b, p.Pid())
			ticks0 := cpuTicks(b, p.Pid())
			start := time.Now()
			time.Sleep(idleRun)
			ns1, runs1 := schedstat(b, p.Pid())
			ticks1 := cpuTicks(b, p.Pid())
			mins := time.Since(start).Minutes()
			load1, logged := loadavg(b), p.Logs()[logs0:]
			if _, err := p.Stop(30 * time.Second); err != nil {
				b.Fatal(err)
			}
			cpu = append(cpu, float64(ns1-ns0)/1e6/mins)
			runs = append(runs, float64(runs1-runs0)/mins)
			b.Logf("round %d: %.2f ms CPU per minute (schedstat), %.0f run slices per minute; utime+stime %d ticks of 10 ms; load average %s at the start, %s at the end",
				r+1, cpu[r], runs[r], ticks1-ticks0, load0, load1)
			if logged != "" {
				b.Logf("round %d: meshdns logged while idle:\n%s", r+1, logged)
			}
		}
		b.Logf("%d Services, %d ServiceEntries, API server source: %.2f ms CPU per minute [%.2f-%.2f], %.0f run slices per minute [%.0f-%.0f] over %d rounds",
			c.Services, c.ServiceEntries, median(cpu), slices.Min(cpu), slices.Max(cpu), median(runs), slices.Min(runs), slices.Max(runs), rounds)
		b.ReportMetric(median(cpu), "CPU-ms/min")
		b.ReportMetric(median(runs), "run-slices/min")
	}
}

// createEntries installs the ServiceEntry CRD and writes ses (server-side
// apply).
func createEntries(b *testing.B, admin *rest.Config, ses []*model.ServiceEntry) {
	b.Helper()
	ctx := context.Background()
	a := newApplier(b, admin)
	installCRD(b, ctx, admin, a, kubetest.RepoRoot(b, ".")+"/manifests/test/serviceentry-crd.yaml")
	var buf bytes.Buffer
	if err := modeltest.WriteJSON(&buf, &model.Objects{ServiceEntries: ses}); err != nil {
		b.Fatal(err)
	}
	objs, err := decodeObjects(&buf)
	if err != nil {
		b.Fatal(err)
	}
	for _, o := range objs {
		if _, err := a.apply(ctx, o, false); err != nil {
			b.Fatal(err)
		}
	}
}

// loadavg is the machine's 1, 5 and 15 minute load averages.
func loadavg(b *testing.B) string {
	b.Helper()
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		b.Fatal(err)
	}
	return strings.Join(strings.Fields(string(raw))[:3], " ")
}

// cpuTicks is utime+stime of process pid (/proc/<pid>/stat, every thread,
// ended ones included), in ticks of 10 ms: too coarse for an idle minute,
// logged next to schedstat's nanoseconds as a cross-check.
func cpuTicks(b *testing.B, pid int) int64 {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command name "(comm)": state is the first,
	// utime the 12th and stime the 13th.
	i := bytes.LastIndexByte(raw, ')')
	f := strings.Fields(string(raw[i+1:]))
	if i < 0 || len(f) < 13 {
		b.Fatalf("/proc/%d/stat: %q", pid, raw)
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

// median is the middle of xs (the mean of the two middle values for an
// even count).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
