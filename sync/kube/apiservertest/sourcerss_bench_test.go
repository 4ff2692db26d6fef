package apiservertest

import (
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/netns/netnstest"
	"github.com/meshdns/meshdns/internal/podtest"
	"github.com/meshdns/meshdns/sync/kube/apiservertest/kubetest"
)

// BenchmarkSourceRSS is the memory of `meshdns run` reading its names from
// the real API server (the informer caches included), in a cluster of
// MESHDNS_RSS_SERVICES Services (default 10,000) of the scale shape: 10
// ready endpoints each, every 10th headless (100,000 endpoints at the
// default). It reports the RSS once the first table is loaded, 30 s later,
// and the peak (VmHWM). Run as root:
//
//	cd sync/kube/apiservertest && go test -run '^$' -bench SourceRSS -benchtime 1x -timeout 30m .
func BenchmarkSourceRSS(b *testing.B) {
	services := envInt(b, "MESHDNS_RSS_SERVICES", 10000)
	s := kubetest.StartAPIServer(b, kubetest.Options{EtcdURL: kubetest.StartEtcd(b), Prefix: "/meshdns-rss"})
	admin := kubetest.AdminConfig(s.Addr)
	cs := kubernetes.NewForConfigOrDie(admin)
	kubetest.WaitNamespace(b, cs, "default")
	start := time.Now()
	createCluster(b, cs, services)
	b.Logf("%d Services and their EndpointSlices created in %v", services, time.Since(start).Round(time.Second))

	pod := netnstest.ForTest(b, netns.Config{}).Pod
	proxyIn(b, pod, s.Addr)
	kc := writeKubeconfig(b, "https://"+apiInPod)
	bin := podtest.Binary(b)
	for range b.N {
		p := podtest.StartIn(b, pod, bin, "run", "--kubeconfig", kc, "--rules", "none", "--queue-num", "6000",
			"--tcp", "off", "--metrics-addr", "")
		loaded, err := p.WaitLog(5*time.Minute, "name table loaded")
		if err != nil {
			b.Fatalf("%v\n%s", err, loaded)
		}
		rss0 := statusKiB(b, p.Pid(), "VmRSS")
		time.Sleep(30 * time.Second)
		rss1 := statusKiB(b, p.Pid(), "VmRSS")
		hwm := statusKiB(b, p.Pid(), "VmHWM")
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
