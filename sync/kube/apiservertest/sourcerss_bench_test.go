package apiservertest

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/netns/netnstest"
	"github.com/meshdns/meshdns/internal/podtest"
	"github.com/meshdns/meshdns/sync/kube/apiservertest/kubetest"
	"github.com/meshdns/meshdns/sync/model/modeltest"
)

// BenchmarkSourceRSS is the memory of `meshdns run` reading its names from
// the real API server (everything the source and the model keep), in a cluster of
// MESHDNS_RSS_SERVICES Services (default 10,000) of the scale shape: 10
// ready endpoints each, every 10th headless (100,000 endpoints at the
// default). It reports the RSS once the first table is loaded, 30 s later,
// and the peak (VmHWM). With MESHDNS_RSS_HEAP set to a file name it
// writes meshdns's heap profile there at the end (go tool pprof), its
// runtime.MemStats beside it (FILE.txt), and reports its live heap after a forced collection (runtime.MemStats
// HeapAlloc: exact, where the profile is sampled and the RSS moves with
// the collector's timing). Run as root:
//
//	cd sync/kube/apiservertest && go test -run '^$' -bench SourceRSS -benchtime 1x -timeout 30m .
func BenchmarkSourceRSS(b *testing.B) {
	sb := newSourceBench(b, benchShape(envInt(b, "MESHDNS_RSS_SERVICES", 10000)), "/meshdns-rss", 0)
	services := sb.services
	heapFile := os.Getenv("MESHDNS_RSS_HEAP")
	var extra []string
	if heapFile != "" {
		extra = []string{"--metrics-addr", pprofAddr}
	}
	for range b.N {
		p := sb.start(b, slices.Concat(sourceOnly, extra)...)
		rss0 := statusKiB(b, p.Pid(), "VmRSS")
		time.Sleep(30 * time.Second)
		rss1 := statusKiB(b, p.Pid(), "VmRSS")
		hwm := statusKiB(b, p.Pid(), "VmHWM")
		if heapFile != "" {
			live := sb.heapProfile(b, heapFile)
			b.Logf("live heap after a collection: %d KiB", live>>10)
			b.ReportMetric(float64(live)/(1<<20), "heap-live-MiB")
		}
		if _, err := p.Stop(30 * time.Second); err != nil {
			b.Fatal(err)
		}
		b.Logf("%d Services, %d endpoints, API server source: RSS %d KiB at the first table, %d KiB 30 s later, peak %d KiB",
			services, services*10, rss0, rss1, hwm)
		b.ReportMetric(float64(rss0)/1024, "RSS-loaded-MiB")
		b.ReportMetric(float64(rss1)/1024, "RSS-30s-MiB")
		b.ReportMetric(float64(hwm)/1024, "RSS-peak-MiB")
	}
}

// pprofAddr is where meshdns serves /debug/pprof in the pod namespace
// when a benchmark asks for a profile.
const pprofAddr = "127.0.0.1:19091"

// heapProfile writes the heap profile of the meshdns serving pprofAddr in
// the pod namespace to file, and the same as text after a collection
// (gc=1) to file+".txt": the runtime's memory statistics are at its end.
// It returns HeapAlloc from them, the bytes of live objects.
func (sb *sourceBench) heapProfile(b *testing.B, file string) (live uint64) {
	b.Helper()
	if err := os.WriteFile(file, sb.pprofGet(b, "heap"), 0o644); err != nil {
		b.Fatal(err)
	}
	text := sb.pprofGet(b, "heap?debug=1&gc=1")
	if err := os.WriteFile(file+".txt", text, 0o644); err != nil {
		b.Fatal(err)
	}
	for l := range strings.Lines(string(text)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "# HeapAlloc = "); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal("no HeapAlloc in the heap profile")
	return 0
}

// pprofGet returns /debug/pprof/ plus path of the meshdns serving
// pprofAddr in the pod namespace.
func (sb *sourceBench) pprofGet(b *testing.B, path string) []byte {
	b.Helper()
	body, err := sb.pprofFetch(path)
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// pprofFetch is pprofGet for another goroutine than the benchmark's.
func (sb *sourceBench) pprofFetch(path string) ([]byte, error) {
	hc := podHTTPClient(sb.pod)
	hc.Timeout = time.Minute // a CPU profile takes its seconds
	resp, err := hc.Get("http://" + pprofAddr + "/debug/pprof/" + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %s", path, resp.Status)
	}
	return body, err
}

// sourceBench is a real API server holding a generated cluster
// (modeltest.Cluster: its Services and EndpointSlices), and a pod namespace
// that reaches it at apiInPod, for the benchmarks of the API server source.
type sourceBench struct {
	services     int
	admin        *rest.Config
	cs           kubernetes.Interface // admin
	pod, kc, bin string               // namespace, kubeconfig, meshdns binary
}

// newSourceBench starts etcd (under prefix) and the API server, creates the
// cluster c and the pod namespace; qps, when not 0, is the admin client's
// rate limit (its burst too).
func newSourceBench(b *testing.B, c modeltest.ClusterConfig, prefix string, qps int) *sourceBench {
	b.Helper()
	s := kubetest.StartAPIServer(b, kubetest.Options{EtcdURL: kubetest.StartEtcd(b), Prefix: prefix})
	admin := kubetest.AdminConfig(s.Addr)
	if qps > 0 {
		admin.QPS, admin.Burst = float32(qps), qps
	}
	cs := kubernetes.NewForConfigOrDie(admin)
	kubetest.WaitNamespace(b, cs, "default")
	start := time.Now()
	createCluster(b, cs, c)
	b.Logf("%d Services and their EndpointSlices created in %v", c.Services, time.Since(start).Round(time.Second))
	pod := netnstest.ForTest(b, netns.Config{}).Pod
	proxyIn(b, pod, s.Addr)
	return &sourceBench{services: c.Services, admin: admin, cs: cs, pod: pod, kc: writeKubeconfig(b, "https://"+apiInPod), bin: podtest.Binary(b)}
}

// sourceOnly are the flags of the benchmarks of the source alone: no
// rules, a queue of its own, no DNS over TCP, no metrics listener.
var sourceOnly = []string{"--rules", "none", "--queue-num", "6000", "--tcp", "off", "--metrics-addr", ""}

// start runs `meshdns run --kubeconfig` with args in the pod namespace
// and returns once its first table is loaded.
func (sb *sourceBench) start(b *testing.B, args ...string) *podtest.Process {
	b.Helper()
	p := podtest.StartIn(b, sb.pod, sb.bin, append([]string{"run", "--kubeconfig", sb.kc}, args...)...)
	if out, err := p.WaitLog(5*time.Minute, "name table loaded"); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	return p
}
