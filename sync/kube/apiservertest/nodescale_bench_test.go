package apiservertest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/nodetest"
	"github.com/meshdns/meshdns/internal/podtest"
	"github.com/meshdns/meshdns/node/podwatch"
	"github.com/meshdns/meshdns/sync/kube/apiservertest/kubetest"
	"github.com/meshdns/meshdns/sync/model/modeltest"
)

// apiInPod is where the API server is reachable from the node's and the
// pods' network namespaces: a proxy listens there.
const apiInPod = "127.0.0.1:16443"

// BenchmarkNodeScale puts N pods (MESHDNS_SCALE_PODS, default 100) on one
// simulated node, against the real API server holding a cluster of
// MESHDNS_SCALE_SERVICES Services (default 1,000: 10,000 endpoints), and
// serves them first with one `meshdns node` agent, then with one
// `meshdns run` sidecar per pod. It reports the API server's watches
// opened by each (its own apiserver_longrunning_requests{verb="WATCH"},
// over the count before), the agent's RSS with no pod and with N pods and
// the difference per pod, and the sidecars' summed RSS. Run with
// -benchtime 1x, as root:
//
//	cd sync/kube/apiservertest && go test -run '^$' -bench NodeScale -benchtime 1x -timeout 60m .
func BenchmarkNodeScale(b *testing.B) {
	pods := envInt(b, "MESHDNS_SCALE_PODS", 100)
	services := envInt(b, "MESHDNS_SCALE_SERVICES", 1000)
	ctx := context.Background()
	s := kubetest.StartAPIServer(b, kubetest.Options{EtcdURL: kubetest.StartEtcd(b), Prefix: "/meshdns-scale"})
	admin := kubetest.AdminConfig(s.Addr)
	cs := kubernetes.NewForConfigOrDie(admin)
	kubetest.WaitNamespace(b, cs, "default")
	// With Istio's ServiceEntry kind, as the sidecar and the agent watch
	// it when it exists.
	installCRD(b, ctx, admin, newApplier(b, admin), kubetest.RepoRoot(b, ".")+"/manifests/test/serviceentry-crd.yaml")
	createCluster(b, cs, modeltest.ScaleCluster(services))

	n := nodetest.New(b, nodetest.Config{Zone: "$ORIGIN example.org.\n@ 7 IN SOA ns hostmaster 1 60 60 60 7\n"})
	proxyIn(b, n.NS, s.Addr)
	kc := writeKubeconfig(b, "https://"+apiInPod)
	before := watches(b, admin)

	for range b.N {
		// One agent for the node.
		agent := n.StartAgent(b, "--kubeconfig", kc, "--node-name", "mdt-node", "--pods", "labelled",
			"--metrics-addr", "", "--max-pods", strconv.Itoa(max(pods, 110)))
		if _, err := agent.WaitLog(2*time.Minute, "name table loaded"); err != nil {
			b.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		rss0 := rssKiB(b, agent.Pid())
		var all []*nodetest.Pod
		for i := range pods {
			obj := nodetest.NewPodObject("default", fmt.Sprintf("app-%d", i))
			obj.UID = ""
			obj.Labels = map[string]string{podwatch.Label: podwatch.Enabled}
			obj.Spec.Containers = []corev1.Container{{Name: "app", Image: "app"}}
			created, err := cs.CoreV1().Pods("default").Create(ctx, obj, metav1.CreateOptions{})
			if err != nil {
				b.Fatal(err)
			}
			all = append(all, n.AddPod(b, created))
		}
		if served, err := agent.WaitLog(time.Minute, fmt.Sprintf("pods=%d", pods)); err != nil {
			b.Fatalf("the agent does not serve %d pods: %v\n%s", pods, err, served)
		}
		d := all[len(all)-1].Dig(b, "@"+nodetest.ClusterDNS.String(), "svc-0.ns-0.svc.cluster.local", "A")
		if !d.Flag("aa") || len(d.Answer) == 0 {
			b.Fatalf("the last pod is not answered by the agent:\n%s", d.Raw)
		}
		time.Sleep(2 * time.Second)
		rssN := rssKiB(b, agent.Pid())
		agentWatches := watches(b, admin) - before
		if err := agent.Signal(syscall.SIGTERM); err != nil {
			b.Fatal(err)
		}
		if _, err := agent.Wait(30 * time.Second); err != nil {
			b.Fatal(err)
		}

		// One sidecar per pod (its queue a number of its own, no rules:
		// only its memory and watches are measured).
		bin := podtest.Binary(b)
		var side []*podtest.Process
		for _, p := range all {
			proxyIn(b, p.NS, s.Addr)
			sc := podtest.StartIn(b, p.NS, bin, "run", "--kubeconfig", kc, "--rules", "none", "--queue-num", "6000",
				"--tcp", "off", "--metrics-addr", "")
			side = append(side, sc)
		}
		for _, sc := range side {
			if _, err := sc.WaitLog(2*time.Minute, "name table loaded"); err != nil {
				b.Fatal(err)
			}
		}
		time.Sleep(2 * time.Second)
		var sideRSS int64
		for _, sc := range side {
			sideRSS += rssKiB(b, sc.Pid())
		}
		sideWatches := watches(b, admin) - before
		for _, sc := range side {
			sc.Signal(syscall.SIGTERM)
		}
		for _, sc := range side {
			sc.Wait(30 * time.Second)
		}

		perPod := float64(rssN-rss0) / float64(pods)
		b.Logf("%d pods, %d Services: agent RSS %d KiB with no pod, %d KiB with %d (%.0f KiB per pod), %d watches; %d sidecars: RSS %d KiB in all (%d KiB each), %d watches",
			pods, services, rss0, rssN, pods, perPod, agentWatches, pods, sideRSS, sideRSS/int64(pods), sideWatches)
		b.ReportMetric(float64(agentWatches), "agent-watches")
		b.ReportMetric(float64(sideWatches), "sidecar-watches")
		b.ReportMetric(float64(rss0)/1024, "agent-RSS-0-MiB")
		b.ReportMetric(float64(rssN)/1024, "agent-RSS-N-MiB")
		b.ReportMetric(perPod, "agent-KiB/pod")
		b.ReportMetric(float64(sideRSS)/1024, "sidecars-RSS-MiB")
	}
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q", name, v)
	}
	return n
}

// benchShape is the scale cluster shape (modeltest.ScaleCluster) of
// services Services with the fields the controllers write, as the
// informers receive them.
func benchShape(services int) modeltest.ClusterConfig {
	c := modeltest.ScaleCluster(services)
	c.Controllers = true
	return c
}

// createCluster writes the Services and EndpointSlices of the generated
// cluster c (modeltest.Cluster) into the API server; ClusterIPs are the
// server's. Its ServiceEntries are not written (createEntries does).
func createCluster(b *testing.B, cs kubernetes.Interface, c modeltest.ClusterConfig) {
	b.Helper()
	ctx := context.Background()
	objs := modeltest.Cluster(c)
	made := map[string]bool{"default": true}
	for _, svc := range objs.Services {
		if !made[svc.Namespace] {
			if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: svc.Namespace}}, metav1.CreateOptions{}); err != nil {
				b.Fatal(err)
			}
			made[svc.Namespace] = true
		}
		svc = svc.DeepCopy()
		svc.ResourceVersion, svc.UID = "", ""
		if svc.Spec.ClusterIP != corev1.ClusterIPNone {
			svc.Spec.ClusterIP, svc.Spec.ClusterIPs = "", nil
		}
		if _, err := cs.CoreV1().Services(svc.Namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	for _, es := range objs.EndpointSlices {
		es = es.DeepCopy()
		es.ResourceVersion, es.UID = "", ""
		if _, err := cs.DiscoveryV1().EndpointSlices(es.Namespace).Create(ctx, es, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// proxyIn makes the API server at addr reachable at apiInPod inside ns.
func proxyIn(b *testing.B, ns, addr string) {
	b.Helper()
	ln, err := netns.ListenTCP(ns, "tcp4", apiInPod)
	if err != nil {
		b.Fatal(err)
	}
	kubetest.StartProxyOn(b, ln).Point(addr)
}

// watches is the API server's count of watches being served.
func watches(b *testing.B, admin *rest.Config) int {
	b.Helper()
	cs := kubernetes.NewForConfigOrDie(admin)
	raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	total := 0
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, "apiserver_longrunning_requests{") || !strings.Contains(l, `verb="WATCH"`) {
			continue
		}
		f := strings.Fields(l)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		total += int(v)
	}
	return total
}

// rssKiB is process pid's resident set (VmRSS).
func rssKiB(b *testing.B, pid int) int64 { return statusKiB(b, pid, "VmRSS") }

// statusKiB is the field (VmRSS, VmHWM) of /proc/<pid>/status, in KiB.
func statusKiB(b *testing.B, pid int, field string) int64 {
	b.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	b.Fatalf("no %s", field)
	return 0
}
