package apiservertest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"

	"github.com/meshdns/meshdns/internal/lookupout"
	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/podtest"
	"github.com/meshdns/meshdns/sync/kube"
	"github.com/meshdns/meshdns/sync/kube/apiservertest/kubetest"
)

// TestMain lets podtest clean up the meshdns binary it builds.
func TestMain(m *testing.M) { podtest.Main(m) }

// podAPIAddr is where the API server is reachable from inside the pod
// namespace: a proxy listening there forwards to the host-side server.
const podAPIAddr = "127.0.0.1:16443"

// podMetricsAddr is meshdns's default --metrics-addr, inside the pod.
const podMetricsAddr = "127.0.0.1:15099"

// TestKernelPathFollowsTheAPI runs the meshdns binary in a pod network
// namespace with --kubeconfig (no --objects) against a real API server, and
// checks through the kernel path (NFQUEUE, queries sent from the pod) that
// the names written through the API are answered in the pod and follow
// changes; the time from each API write to the new answer is measured.
func TestKernelPathFollowsTheAPI(t *testing.T) {
	ctx := context.Background()
	// The namespaces first: without root this fails (or skips with
	// MESHDNS_SKIP_KERNEL=1) before the API server is started.
	p := podtest.Start(t, podtest.Config{NoMeshdns: true})

	s := startAPIServer(t, kubetest.Options{EtcdURL: startEtcd(t), Prefix: "/meshdns-kernel"})
	cs := kubernetes.NewForConfigOrDie(adminConfig(s.Addr))
	waitNamespace(t, cs, "default")

	// The API server listens on the host's loopback, which the pod
	// namespace cannot reach: a proxy listens in the pod namespace and
	// dials the server from the test's namespace.
	ln, err := netns.ListenTCP(p.Topo.Pod, "tcp4", podAPIAddr)
	if err != nil {
		t.Fatal(err)
	}
	px := startProxyOn(t, ln)
	px.Point(s.Addr)

	kubeconfig := writeKubeconfig(t, "https://"+podAPIAddr)
	p.StartMeshdns(t, "", "--kubeconfig", kubeconfig,
		"--tcp-key-file", filepath.Join(t.TempDir(), "tcp.key"))
	if _, err := p.Meshdns.WaitLog(10*time.Second, "names from the API server", podAPIAddr); err != nil {
		t.Fatal(err)
	}

	hc := podHTTPClient(p.Topo.Pod)
	start := time.Now()
	waitReady(t, hc)
	t.Logf("meshdns ready (/readyz 200) %.1f ms after it logged serving", ms(time.Since(start)))
	if px.Accepts.Load() == 0 {
		t.Fatal("meshdns is ready but no connection went through the pod-side proxy")
	}

	q := newPodQuerier(t, p)
	var lat []sample
	measure := func(what string, since time.Time, name string, ok func(*dns.Msg) bool) {
		t.Helper()
		d := q.await(since, name, ok)
		lat = append(lat, sample{what, d})
	}
	const web = "kweb.default.svc.cluster.local."
	const db = "kdb.default.svc.cluster.local."

	// Before it exists, the name is NXDOMAIN, answered in the pod: the
	// table is loaded and the cluster domain is authoritative.
	q.expect(web, isNXDOMAIN)

	// Create a ClusterIP Service.
	t0 := time.Now()
	svc := mustCreateService(t, cs, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kweb"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}},
	})
	measure("create ClusterIP service", t0, web, hasA(svc.Spec.ClusterIP))
	digLocal(t, p, web, svc.Spec.ClusterIP)

	// A ClusterIP is immutable: delete the Service, then recreate it with
	// another address.
	t0 = time.Now()
	if err := cs.CoreV1().Services("default").Delete(ctx, "kweb", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	measure("delete service", t0, web, isNXDOMAIN)
	next := "10.0.77.8"
	if next == svc.Spec.ClusterIP {
		next = "10.0.77.9"
	}
	t0 = time.Now()
	mustCreateService(t, cs, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kweb"},
		Spec:       corev1.ServiceSpec{ClusterIP: next, Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}},
	})
	measure("recreate service with a new ClusterIP", t0, web, hasA(next))
	digLocal(t, p, web, next)

	// A headless Service whose EndpointSlice changes address.
	mustCreateService(t, cs, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kdb"},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone,
			Ports: []corev1.ServicePort{{Name: "pg", Port: 5432, Protocol: corev1.ProtocolTCP}}},
	})
	t0 = time.Now()
	slice, err := cs.DiscoveryV1().EndpointSlices("default").Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: "kdb-1", Labels: map[string]string{discoveryv1.LabelServiceName: "kdb"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"198.19.5.10"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}},
		},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("pg"), Port: ptr.To[int32](5432), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	measure("create EndpointSlice (headless)", t0, db, hasA("198.19.5.10"))
	t0 = time.Now()
	slice.Endpoints[0].Addresses = []string{"198.19.5.11"}
	if _, err := cs.DiscoveryV1().EndpointSlices("default").Update(ctx, slice, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	measure("change endpoint address", t0, db, hasA("198.19.5.11"))
	digLocal(t, p, db, "198.19.5.11")

	// Nothing of it reached the upstream: every answer came from the pod.
	for _, name := range []string{web, db} {
		if n := p.UpstreamCount(name, 0); n != 0 {
			t.Errorf("%s: %d queries reached the upstream, want 0", name, n)
		}
	}

	// The metrics say synced, and count the answers.
	metrics := httpGet(t, hc, "/metrics")
	if !slices.Contains(strings.Split(metrics, "\n"), "meshdns_sync_synced 1") {
		t.Errorf("/metrics lacks \"meshdns_sync_synced 1\":\n%s", grepLines(metrics, "meshdns_sync_"))
	}
	if n := sumMetric(metrics, "meshdns_queries_total", `result="answered"`); n < float64(len(lat)) {
		t.Errorf("meshdns_queries_total{result=\"answered\"} = %v, want at least %d", n, len(lat))
	}
	t.Logf("metrics:\n%s", grepLines(metrics, "meshdns_sync_", "meshdns_table_names", "meshdns_table_updates_total"))

	ds := make([]time.Duration, len(lat))
	for i, s := range lat {
		ds[i] = s.d
		t.Logf("kernel path: write -> answer  %-40s %8.1f ms", s.what, ms(s.d))
	}
	slices.Sort(ds)
	t.Logf("kernel path: write -> answer over %d changes: median %.1f ms, max %.1f ms (debounce %v, max delay %v; queries every %v)",
		len(ds), ms(ds[len(ds)/2]), ms(ds[len(ds)-1]), kube.DefaultDebounce, kube.DefaultMaxDelay, pollInterval)
}

// writeKubeconfig writes a kubeconfig for server with the static admin
// token (TLS not verified: the test server's certificate is its own).
func writeKubeconfig(t testing.TB, server string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: server, InsecureSkipTLSVerify: true}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: adminToken}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "admin", Namespace: "default"}
	cfg.CurrentContext = "test"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// podHTTPClient makes its connections from inside network namespace ns.
func podHTTPClient(ns string) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return netns.Dial(ctx, ns, network, addr)
			},
		},
	}
}

// waitReady waits up to 60 s for meshdns's /readyz to answer 200.
func waitReady(t *testing.T, hc *http.Client) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	last := ""
	for {
		resp, err := hc.Get("http://" + podMetricsAddr + "/readyz")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not 200 after 60 s: %s", last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func httpGet(t *testing.T, hc *http.Client, path string) string {
	t.Helper()
	resp, err := hc.Get("http://" + podMetricsAddr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	return string(b)
}

// sumMetric adds the values of the samples of metric whose labels contain
// label (Prometheus text format).
func sumMetric(text, metric, label string) float64 {
	var sum float64
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(l, metric+"{") || !strings.Contains(l, label) {
			continue
		}
		f := strings.Fields(l)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			sum += v
		}
	}
	return sum
}

func grepLines(text string, prefixes ...string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// pollInterval is how often podQuerier.await asks.
const pollInterval = 2 * time.Millisecond

// podQuerier sends DNS queries from a UDP socket inside the pod namespace
// to the pod's nameserver: they take the kernel path (NFQUEUE, meshdns)
// as an application's would.
type podQuerier struct {
	t    *testing.T
	conn net.Conn
}

func newPodQuerier(t *testing.T, p *podtest.Pod) *podQuerier {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := netns.Dial(ctx, p.Topo.Pod, "udp4", net.JoinHostPort(p.Topo.UpstreamV4.String(), "53"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &podQuerier{t: t, conn: c}
}

// ask sends one A query for name and returns the response with its id.
func (q *podQuerier) ask(name string) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	b, err := m.Pack()
	if err != nil {
		return nil, err
	}
	if _, err := q.conn.Write(b); err != nil {
		return nil, err
	}
	buf := make([]byte, 4096)
	q.conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	for {
		n, err := q.conn.Read(buf)
		if err != nil {
			return nil, err
		}
		r := new(dns.Msg)
		if r.Unpack(buf[:n]) == nil && r.Id == m.Id {
			return r, nil
		}
	}
}

// await asks for name until ok accepts the response, and returns the time
// since since. It fails the test after 60 s.
func (q *podQuerier) await(since time.Time, name string, ok func(*dns.Msg) bool) time.Duration {
	q.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := q.ask(name)
		if err == nil && ok(r) {
			return time.Since(since)
		}
		if time.Now().After(deadline) {
			q.t.Fatalf("%s: no expected answer within 60 s; last: %v %v", name, r, err)
		}
		time.Sleep(pollInterval)
	}
}

// expect checks one answer now.
func (q *podQuerier) expect(name string, ok func(*dns.Msg) bool) {
	q.t.Helper()
	r, err := q.ask(name)
	if err != nil || !ok(r) {
		q.t.Fatalf("%s: unexpected answer: %v %v", name, r, err)
	}
}

// hasA accepts an authoritative answer of exactly the A record addr.
func hasA(addr string) func(*dns.Msg) bool {
	return func(r *dns.Msg) bool {
		if !r.Authoritative || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			return false
		}
		a, ok := r.Answer[0].(*dns.A)
		return ok && a.A.String() == addr
	}
}

// isNXDOMAIN accepts an authoritative NXDOMAIN.
func isNXDOMAIN(r *dns.Msg) bool { return r.Authoritative && r.Rcode == dns.RcodeNameError }

// digLocal checks with dig in the pod that name's A answer is addr,
// answered in the pod (aa set; the upstream never sets it).
func digLocal(t *testing.T, p *podtest.Pod, name, addr string) {
	t.Helper()
	d := p.Dig(t, name, "A")
	want := []string{strings.ToLower(name) + " IN A " + addr}
	if d.Status != "NOERROR" || !d.Flag("aa") || !slices.Equal(lookupout.Records(d.Answer, false), want) {
		t.Fatalf("dig %s: %s %v %v, want NOERROR aa %v\n%s", name, d.Status, d.Flags, lookupout.Records(d.Answer, false), want, d.Raw)
	}
}
