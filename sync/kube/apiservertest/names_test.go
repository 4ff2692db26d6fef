package apiservertest

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/meshdns/meshdns/observe"
	"github.com/meshdns/meshdns/sync/kube"
	"github.com/meshdns/meshdns/sync/kube/apiservertest/kubetest"
	"github.com/meshdns/meshdns/sync/model"
)

var seV1 = schema.GroupVersionResource{Group: model.ServiceEntryGroup, Version: "v1", Resource: "serviceentries"}

// runSource runs a kube.Source with n.update until stop is called or the
// test ends.
func runSource(t *testing.T, cfg kube.Config, n *names) (src *kube.Source, stop func()) {
	t.Helper()
	src, err := kube.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, n.update) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("source: %v", err)
				}
			case <-time.After(60 * time.Second):
				t.Error("source did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return src, stop
}

// TestNamesFollowTheAPI writes Services, EndpointSlices and ServiceEntries
// through a real API server and checks that the engine's answers follow,
// measuring the time from each write to the first table that answers it;
// then stops the API server, checks the answers hold, starts a new one on
// the same etcd and checks that changes are followed again.
func TestNamesFollowTheAPI(t *testing.T) {
	ctx := context.Background()
	etcdURL := startEtcd(t)
	opts := kubetest.Options{EtcdURL: etcdURL, Prefix: "/meshdns-names"}
	s1 := startAPIServer(t, opts)
	px := startProxy(t)
	px.Point(s1.Addr)
	cfg := adminConfig(px.Addr())
	cs := kubernetes.NewForConfigOrDie(cfg)
	dyn := dynamic.NewForConfigOrDie(cfg)
	waitNamespace(t, cs, "default")
	waitNamespace(t, cs, "db")

	n := newNames(t)
	// No table yet: everything passes, mesh names included.
	n.expect("kubernetes.default.svc.cluster.local.", dns.TypeA, passed)
	if got := n.ask("kubernetes.default.svc.cluster.local.", dns.TypeA); got.reason != "not_ready" {
		t.Fatalf("before sync: reason %q, want not_ready", got.reason)
	}

	obs, err := observe.New(observe.Config{Registry: &n.reg, QueueStatsPath: "-"})
	if err != nil {
		t.Fatal(err)
	}
	// The source's connections are counted: every list and watch goes
	// over one (HTTP/2), its own dialer (the paced one) notwithstanding.
	// (Requests made at once may each dial; HTTP/2 keeps the first
	// connection and closes the others.)
	var open atomic.Int32
	srcCfg := rest.CopyConfig(cfg)
	srcCfg.Dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, address)
		if err != nil {
			return nil, err
		}
		open.Add(1)
		return &countedConn{Conn: c, open: &open}, nil
	}
	src, stopSource := runSource(t, kube.Config{
		RESTConfig: srcCfg, Logger: testLogger(t), Observer: obs,
		// The ServiceEntry CRD is installed after the source starts: look
		// for it often.
		CRDRecheck: 300 * time.Millisecond,
	}, n)

	// The server's own kubernetes Service (10.0.0.1) is the first answer.
	start := time.Now()
	n.await("", start, "kubernetes.default.svc.cluster.local.", dns.TypeA, answers("A 10.0.0.1"))
	t.Logf("first table %.1f ms after the source started", ms(time.Since(start)))
	if !src.Synced() || !obs.Ready() {
		t.Fatalf("answers without Synced (%v) / Ready (%v)", src.Synced(), obs.Ready())
	}

	// ClusterIP Service: create, then a port change (SRV), then delete.
	t0 := time.Now()
	web := mustCreateService(t, cs, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}},
	})
	n.await("create ClusterIP service", t0, "web.default.svc.cluster.local.", dns.TypeA, answers("A "+web.Spec.ClusterIP))
	n.expect("web.default.svc.cluster.local.", dns.TypeAAAA, nodata)
	n.expect("_http._tcp.web.default.svc.cluster.local.", dns.TypeSRV, answers("SRV 0 100 80 web.default.svc.cluster.local."))

	t0 = time.Now()
	web.Spec.Ports[0].Port = 8080
	web = mustUpdateService(t, cs, web)
	n.await("update service port", t0, "_http._tcp.web.default.svc.cluster.local.", dns.TypeSRV, answers("SRV 0 100 8080 web.default.svc.cluster.local."))

	// Dual-stack Service: one A and one AAAA.
	t0 = time.Now()
	dual := mustCreateService(t, cs, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "dual"},
		Spec: corev1.ServiceSpec{
			IPFamilyPolicy: ptr.To(corev1.IPFamilyPolicyRequireDualStack),
			IPFamilies:     []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol},
			Ports:          []corev1.ServicePort{{Port: 443, Protocol: corev1.ProtocolTCP}},
		},
	})
	if len(dual.Spec.ClusterIPs) != 2 {
		t.Fatalf("dual-stack service got ClusterIPs %v", dual.Spec.ClusterIPs)
	}
	n.await("create dual-stack service", t0, "dual.default.svc.cluster.local.", dns.TypeAAAA, answers("AAAA "+dual.Spec.ClusterIPs[1]))
	n.expect("dual.default.svc.cluster.local.", dns.TypeA, answers("A "+dual.Spec.ClusterIPs[0]))

	// Headless Service with an EndpointSlice: ready and not-ready endpoints,
	// hostnames.
	t0 = time.Now()
	mustCreateService(t, cs, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "pg"},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone,
			Ports: []corev1.ServicePort{{Name: "pg", Port: 5432, Protocol: corev1.ProtocolTCP}}},
	})
	// No ready endpoint: NXDOMAIN, as before it existed (not a sample).
	n.await("", t0, "pg.db.svc.cluster.local.", dns.TypeA, nxdomain)
	t0 = time.Now()
	slice, err := cs.DiscoveryV1().EndpointSlices("db").Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "db", Name: "pg-1", Labels: map[string]string{discoveryv1.LabelServiceName: "pg"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"10.1.0.10"}, Hostname: ptr.To("pg-0"), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}},
			{Addresses: []string{"10.1.0.11"}, Hostname: ptr.To("pg-1"), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(false)}},
		},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("pg"), Port: ptr.To[int32](5432), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.await("create EndpointSlice", t0, "pg.db.svc.cluster.local.", dns.TypeA, answers("A 10.1.0.10"))
	n.expect("pg-0.pg.db.svc.cluster.local.", dns.TypeA, answers("A 10.1.0.10"))
	n.expect("_pg._tcp.pg.db.svc.cluster.local.", dns.TypeSRV, answers("SRV 0 100 5432 pg-0.pg.db.svc.cluster.local."))

	t0 = time.Now()
	slice.Endpoints[1].Conditions.Ready = ptr.To(true)
	slice, err = cs.DiscoveryV1().EndpointSlices("db").Update(ctx, slice, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.await("endpoint turns ready", t0, "pg.db.svc.cluster.local.", dns.TypeA, answers("A 10.1.0.10", "A 10.1.0.11"))
	n.expect("pg-1.pg.db.svc.cluster.local.", dns.TypeA, answers("A 10.1.0.11"))

	t0 = time.Now()
	if err := cs.DiscoveryV1().EndpointSlices("db").Delete(ctx, slice.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	n.await("delete EndpointSlice", t0, "pg.db.svc.cluster.local.", dns.TypeA, nxdomain)

	// ExternalName: a CNAME, retargeted by an update.
	t0 = time.Now()
	ext := mustCreateService(t, cs, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "search"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "search.example.com"},
	})
	n.await("create ExternalName service", t0, "search.default.svc.cluster.local.", dns.TypeCNAME, answers("CNAME search.example.com."))
	// An address question needs the target's records, which the cluster DNS
	// has: it goes upstream.
	n.expect("search.default.svc.cluster.local.", dns.TypeA, passed)
	t0 = time.Now()
	ext.Spec.ExternalName = "search2.example.com"
	mustUpdateService(t, cs, ext)
	n.await("retarget ExternalName", t0, "search.default.svc.cluster.local.", dns.TypeCNAME, answers("CNAME search2.example.com."))

	// ServiceEntries: the CRD appears now; the source finds it by itself.
	n.expect("api.example.com.", dns.TypeA, passed)
	a := newApplier(t, cfg)
	installCRD(t, ctx, cfg, a, filepath.Join(repoRoot(t), "manifests/test/serviceentry-crd.yaml"))
	t0 = time.Now()
	se := serviceEntry("default", "api", []string{"api.example.com"}, []string{"240.0.0.5"})
	se, err = dyn.Resource(seV1).Namespace("default").Create(ctx, se, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Not a latency sample: it includes the CRD re-check and the server's
	// 2 s pause for the first object of a new CRD.
	d := n.await("", t0, "api.example.com.", dns.TypeA, answers("A 240.0.0.5"))
	t.Logf("first ServiceEntry answered %.1f ms after its write (CRD found after start)", ms(d))

	t0 = time.Now()
	if err := unstructured.SetNestedStringSlice(se.Object, []string{"240.0.0.6"}, "spec", "addresses"); err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(seV1).Namespace("default").Update(ctx, se, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	n.await("update ServiceEntry addresses", t0, "api.example.com.", dns.TypeA, answers("A 240.0.0.6"))
	t0 = time.Now()
	if err := dyn.Resource(seV1).Namespace("default").Delete(ctx, "api", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	n.await("delete ServiceEntry", t0, "api.example.com.", dns.TypeA, passed)

	// Delete a Service.
	t0 = time.Now()
	if err := cs.CoreV1().Services("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	n.await("delete service", t0, "web.default.svc.cluster.local.", dns.TypeA, nxdomain)

	// A burst: 20 services in quick succession come in few tables.
	before := n.tableCount()
	t0 = time.Now()
	for i := range 20 {
		mustCreateService(t, cs, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "burst-" + string(rune('a'+i))},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}}},
		})
	}
	last := "burst-" + string(rune('a'+19)) + ".default.svc.cluster.local."
	n.await("", t0, last, dns.TypeA, nonEmptyA(n, last))
	t.Logf("20 creates in %.1f ms became %d table(s)", ms(time.Since(t0)), n.tableCount()-before)

	if n := open.Load(); n != 1 {
		t.Errorf("the source holds %d connections to the API server, want 1", n)
	}

	// The API server becomes unreachable, then stops. The last table keeps
	// answering.
	dualA := answers("A " + dual.Spec.ClusterIPs[0])
	px.Point("")
	px.Cut()
	s1.Stop()
	n.expect("dual.default.svc.cluster.local.", dns.TypeA, dualA)
	n.expect("search.default.svc.cluster.local.", dns.TypeCNAME, answers("CNAME search2.example.com."))
	waitAPIErrors(t, obs)
	n.expect("dual.default.svc.cluster.local.", dns.TypeA, dualA)
	if !obs.Ready() || !src.Synced() {
		t.Fatal("not ready while the API server is away: the last table should keep serving")
	}

	// A new API server on the same etcd: the source reconnects by itself
	// and follows new changes.
	s2 := startAPIServer(t, opts)
	px.Point(s2.Addr)
	t0 = time.Now()
	after := mustCreateService(t, cs, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "after-restart"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}}},
	})
	d = n.await("", t0, "after-restart.default.svc.cluster.local.", dns.TypeA, answers("A "+after.Spec.ClusterIP))
	t.Logf("first change after the restart answered in %.1f ms (includes the informers' reconnect backoff)", ms(d))
	n.expect("dual.default.svc.cluster.local.", dns.TypeA, dualA)

	t0 = time.Now()
	if err := cs.CoreV1().Services("default").Delete(ctx, "dual", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	n.await("delete service after restart", t0, "dual.default.svc.cluster.local.", dns.TypeA, nxdomain)
	t0 = time.Now()
	mustCreateService(t, cs, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "cache"},
		Spec:       corev1.ServiceSpec{ClusterIP: "10.0.77.7", Ports: []corev1.ServicePort{{Port: 6379, Protocol: corev1.ProtocolTCP}}},
	})
	n.await("create service after restart", t0, "cache.db.svc.cluster.local.", dns.TypeA, answers("A 10.0.77.7"))

	stopSource()
	n.report()
	logMetrics(t, obs)
}

// nonEmptyA returns the current A answer of name once it has one; used
// where the address is allocated by the server.
func nonEmptyA(n *names, name string) outcome {
	n.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		ch := n.next()
		if o := n.ask(name, dns.TypeA); !o.passed && len(o.answer) == 1 && strings.HasPrefix(o.answer[0], "A ") {
			return o
		}
		select {
		case <-ch:
		case <-deadline:
			n.t.Fatalf("%s never answered", name)
		}
	}
}

func (n *names) tableCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.tables
}

func mustCreateService(t *testing.T, cs kubernetes.Interface, s *corev1.Service) *corev1.Service {
	t.Helper()
	out, err := cs.CoreV1().Services(s.Namespace).Create(context.Background(), s, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create service %s/%s: %v", s.Namespace, s.Name, err)
	}
	return out
}

func mustUpdateService(t *testing.T, cs kubernetes.Interface, s *corev1.Service) *corev1.Service {
	t.Helper()
	out, err := cs.CoreV1().Services(s.Namespace).Update(context.Background(), s, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update service %s/%s: %v", s.Namespace, s.Name, err)
	}
	return out
}

func serviceEntry(ns, name string, hosts, addrs []string) *unstructured.Unstructured {
	toAny := func(ss []string) []any {
		out := make([]any, len(ss))
		for i, s := range ss {
			out[i] = s
		}
		return out
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.istio.io/v1",
		"kind":       "ServiceEntry",
		"metadata":   map[string]any{"namespace": ns, "name": name},
		"spec": map[string]any{
			"hosts":      toAny(hosts),
			"addresses":  toAny(addrs),
			"resolution": "STATIC",
			"location":   "MESH_EXTERNAL",
			"ports":      []any{map[string]any{"number": int64(443), "name": "https", "protocol": "TLS"}},
		},
	}}
}

// waitAPIErrors waits until the source has reported failed API requests
// to the observer (it notices the API server is gone).
func waitAPIErrors(t *testing.T, obs *observe.Observer) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if apiErrors(t, obs) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no API error counted 60 s after the API server stopped")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// apiErrors sums meshdns_api_request_errors_total and
// meshdns_api_watch_errors_total.
func apiErrors(t *testing.T, obs *observe.Observer) float64 {
	mfs, err := obs.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if n := mf.GetName(); n == "meshdns_api_watch_errors_total" || n == "meshdns_api_request_errors_total" {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// logMetrics prints the sync metrics at the end of a test, for the record.
func logMetrics(t *testing.T, obs *observe.Observer) {
	mfs, err := obs.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		name := mf.GetName()
		if !strings.HasPrefix(name, "meshdns_api_") && !strings.HasPrefix(name, "meshdns_sync_") && name != "meshdns_table_names" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var lv []string
			for _, l := range m.GetLabel() {
				lv = append(lv, l.GetName()+"="+l.GetValue())
			}
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			t.Logf("%s{%s} %v", name, strings.Join(lv, ","), v)
		}
	}
}

// countedConn is a connection that counts itself out of open when closed.
type countedConn struct {
	net.Conn
	open   *atomic.Int32
	closed atomic.Bool
}

func (c *countedConn) Close() error {
	if !c.closed.Swap(true) {
		c.open.Add(-1)
	}
	return c.Conn.Close()
}
