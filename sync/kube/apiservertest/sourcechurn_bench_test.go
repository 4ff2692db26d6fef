package apiservertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/meshdns/meshdns/sync/model/modeltest"
)

// BenchmarkSourceChurn is what a sustained churn of EndpointSlice updates
// through the real API server costs `meshdns run` reading it: a cluster of
// MESHDNS_CHURN_SERVICES Services (default 10,000: 100,000 endpoints), then
// MESHDNS_CHURN_RATE updates a second (default 500) for 30 s, each a merge
// patch flipping one endpoint's readiness in one slice, round robin. It
// reports the update rate the API server took, meshdns's CPU over the churn
// (schedstat of its threads, as a share of one core), its threads' run
// slices an update (how often one was put on a CPU: wake-ups, mostly),
// how many tables it stored, and the time from each write (its patch returned) to the first
// table stored after it (meshdns's own "name table loaded" line, or at
// debug level "name table updated" for a delta), p50, p99 and max. Run as
// root:
//
//	cd sync/kube/apiservertest && go test -run '^$' -bench SourceChurn -benchtime 1x -timeout 30m .
//
// With MESHDNS_CHURN_PROFILE=FILE it also writes meshdns's CPU profile of
// the churn's first 25 s to FILE (from its /debug/pprof).
func BenchmarkSourceChurn(b *testing.B) {
	rate := envInt(b, "MESHDNS_CHURN_RATE", 500)
	const churn = 30 * time.Second
	shape := benchShape(envInt(b, "MESHDNS_CHURN_SERVICES", 10000))
	sb := newSourceBench(b, shape, "/meshdns-churn", 4*rate)
	services, cs := sb.services, sb.cs
	slicesOf := modeltest.Cluster(shape).EndpointSlices
	for range b.N {
		profile := os.Getenv("MESHDNS_CHURN_PROFILE")
		extra := []string{"--log-level", "debug"}
		if profile != "" {
			extra = append(extra, "--metrics-addr", pprofAddr)
		}
		p := sb.start(b, slices.Concat(sourceOnly, extra)...)
		time.Sleep(5 * time.Second)
		var profiled sync.WaitGroup
		if profile != "" {
			profiled.Go(func() {
				body, err := sb.pprofFetch("profile?seconds=25")
				if err == nil {
					err = os.WriteFile(profile, body, 0o644)
				}
				if err != nil {
					b.Error(err)
				}
			})
		}
		tables0 := len(tableTimes(b, p.Logs()))
		cpu0, runs0 := schedstat(b, p.Pid())
		start := time.Now()
		writes := patchChurn(b, cs, slicesOf, rate, churn)
		cpu1, runs1 := schedstat(b, p.Pid())
		profiled.Wait()
		cpu := time.Duration(cpu1 - cpu0)
		elapsed := time.Since(start)
		time.Sleep(3 * time.Second) // the last coalesced update
		loads := tableTimes(b, p.Logs())
		var lat []time.Duration
		for _, w := range writes {
			if i, _ := slices.BinarySearchFunc(loads, w, func(l, w time.Time) int { return l.Compare(w) }); i < len(loads) {
				lat = append(lat, loads[i].Sub(w))
			}
		}
		slices.Sort(lat)
		if len(lat) == 0 {
			b.Fatal("no table after any write")
		}
		q := func(f float64) time.Duration { return lat[min(len(lat)-1, int(f*float64(len(lat))))] }
		tables := len(loads) - tables0
		if _, err := p.Stop(30 * time.Second); err != nil {
			b.Fatal(err)
		}
		share := cpu.Seconds() / elapsed.Seconds()
		b.Logf("%d endpoints, %d updates in %v (%.0f/s asked, %.0f/s taken): meshdns CPU %.1f%% of a core, %d tables, write to table p50 %v p99 %v max %v",
			services*10, len(writes), elapsed.Round(time.Millisecond), float64(rate), float64(len(writes))/elapsed.Seconds(),
			100*share, tables, q(0.5), q(0.99), lat[len(lat)-1])
		b.ReportMetric(float64(len(writes))/elapsed.Seconds(), "updates/s")
		b.ReportMetric(100*share, "CPU-%-core")
		b.ReportMetric(float64(tables), "tables")
		b.ReportMetric(float64(runs1-runs0)/float64(len(writes)), "run-slices/update")
		b.ReportMetric(float64(q(0.5).Milliseconds()), "write-to-table-p50-ms")
		b.ReportMetric(float64(q(0.99).Milliseconds()), "write-to-table-p99-ms")
	}
}

// patchChurn flips one endpoint's readiness in one slice after another
// (merge patches of the slice's endpoints) at rate a second for d, and
// returns when each write returned, sorted.
func patchChurn(b *testing.B, cs kubernetes.Interface, eps []*discoveryv1.EndpointSlice, rate int, d time.Duration) []time.Time {
	b.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	var done []time.Time
	var failed int
	jobs := make(chan int, 4*rate)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for k := range jobs {
				es := eps[k%len(eps)]
				ready := (k/len(eps))%2 == 1 // the first pass makes endpoint 0 unready, the next ready again
				ep := slices.Clone(es.Endpoints)
				ep[0].Conditions.Ready = &ready
				body, err := json.Marshal(map[string]any{"endpoints": ep})
				if err != nil {
					b.Error(err)
					return
				}
				_, err = cs.DiscoveryV1().EndpointSlices(es.Namespace).Patch(ctx, es.Name, types.MergePatchType, body, metav1.PatchOptions{})
				mu.Lock()
				if err != nil {
					failed++
				} else {
					done = append(done, time.Now())
				}
				mu.Unlock()
			}
		})
	}
	t := time.NewTicker(time.Second / time.Duration(rate))
	end := time.After(d)
	for k := 0; ; k++ {
		select {
		case <-t.C:
			select {
			case jobs <- k:
			default: // the API server is behind: this update is not asked
			}
			continue
		case <-end:
		}
		break
	}
	t.Stop()
	close(jobs)
	wg.Wait()
	if failed > 0 {
		b.Logf("%d patches failed", failed)
	}
	slices.SortFunc(done, func(a, b time.Time) int { return a.Compare(b) })
	return done
}

var tableLine = regexp.MustCompile(`time=(\S+) level=(?:INFO|DEBUG) msg="name table (?:loaded|updated)"`)

// tableTimes are the times of meshdns's "name table loaded" and "name
// table updated" lines, sorted.
func tableTimes(b *testing.B, logs string) []time.Time {
	b.Helper()
	var out []time.Time
	for _, m := range tableLine.FindAllStringSubmatch(logs, -1) {
		t, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// schedstat sums the schedstat of every live thread of pid: its CPU time
// in nanoseconds, and its run slices (how many times a thread was put on a
// CPU: its wake-ups plus preemptions).
func schedstat(b *testing.B, pid int) (ns, runs int64) {
	b.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, t := range tasks {
		raw, err := os.ReadFile(t)
		if err != nil {
			continue // a thread that ended
		}
		if f := strings.Fields(string(raw)); len(f) >= 3 {
			v, _ := strconv.ParseInt(f[0], 10, 64)
			n, _ := strconv.ParseInt(f[2], 10, 64)
			ns += v
			runs += n
		}
	}
	return ns, runs
}
