package apiservertest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/miekg/dns"

	"github.com/meshdns/meshdns/observe"
	"github.com/meshdns/meshdns/sync/kube"
	"github.com/meshdns/meshdns/sync/kube/apiservertest/kubetest"
)

// impersonate returns cfg acting as the service account ns/name.
func impersonate(cfg *rest.Config, ns, name string) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + ns + ":" + name,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
	}
	return c
}

// TestRBACClusterRoleIsEnoughAndNoMore runs the API server with RBAC,
// applies the project's ServiceAccount, ClusterRole and binding, and acts
// as that service account: everything the name source needs works, and
// anything else is denied.
func TestRBACClusterRoleIsEnoughAndNoMore(t *testing.T) {
	ctx := context.Background()
	s := startAPIServer(t, kubetest.Options{EtcdURL: startEtcd(t), Prefix: "/meshdns-rbac", Flags: []string{"--authorization-mode=RBAC"}})
	admin := adminConfig(s.Addr)
	acs := kubernetes.NewForConfigOrDie(admin)
	waitNamespace(t, acs, "default")
	a := newApplier(t, admin)
	root := repoRoot(t)
	installCRD(t, ctx, admin, a, filepath.Join(root, "manifests/test/serviceentry-crd.yaml"))
	for _, f := range []string{"rbac/serviceaccount.yaml", "rbac/clusterrole.yaml", "rbac/clusterrolebinding.yaml"} {
		for _, o := range readObjects(t, filepath.Join(root, "manifests", f)) {
			if _, err := a.apply(ctx, o, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := acs.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	sa := impersonate(admin, "default", "meshdns")
	cs := kubernetes.NewForConfigOrDie(sa)
	dyn := dynamic.NewForConfigOrDie(sa)
	se := func(v string) dynamic.NamespaceableResourceInterface {
		return dyn.Resource(schema.GroupVersionResource{Group: "networking.istio.io", Version: v, Resource: "serviceentries"})
	}
	type check struct {
		what string
		do   func(context.Context) error
	}
	watch := func(w interface{ Stop() }, err error) error {
		if err == nil {
			w.Stop()
		}
		return err
	}
	allowed := []check{
		{"list services (all namespaces)", func(c context.Context) error {
			_, err := cs.CoreV1().Services("").List(c, metav1.ListOptions{})
			return err
		}},
		{"watch services", func(c context.Context) error { return watch(cs.CoreV1().Services("").Watch(c, metav1.ListOptions{})) }},
		{"get service", func(c context.Context) error {
			_, err := cs.CoreV1().Services("default").Get(c, "kubernetes", metav1.GetOptions{})
			return err
		}},
		{"list endpointslices", func(c context.Context) error {
			_, err := cs.DiscoveryV1().EndpointSlices("").List(c, metav1.ListOptions{})
			return err
		}},
		{"watch endpointslices", func(c context.Context) error {
			return watch(cs.DiscoveryV1().EndpointSlices("").Watch(c, metav1.ListOptions{}))
		}},
		{"list serviceentries v1", func(c context.Context) error { _, err := se("v1").List(c, metav1.ListOptions{}); return err }},
		{"list serviceentries v1beta1", func(c context.Context) error { _, err := se("v1beta1").List(c, metav1.ListOptions{}); return err }},
		{"watch serviceentries", func(c context.Context) error { return watch(se("v1").Watch(c, metav1.ListOptions{})) }},
		{"list serviceentries in a namespace", func(c context.Context) error {
			_, err := se("v1").Namespace("default").List(c, metav1.ListOptions{})
			return err
		}},
	}
	denied := []check{
		{"list pods", func(c context.Context) error {
			_, err := cs.CoreV1().Pods("").List(c, metav1.ListOptions{})
			return err
		}},
		{"list secrets", func(c context.Context) error {
			_, err := cs.CoreV1().Secrets("default").List(c, metav1.ListOptions{})
			return err
		}},
		{"get secret", func(c context.Context) error {
			_, err := cs.CoreV1().Secrets("default").Get(c, "s", metav1.GetOptions{})
			return err
		}},
		{"list configmaps", func(c context.Context) error {
			_, err := cs.CoreV1().ConfigMaps("").List(c, metav1.ListOptions{})
			return err
		}},
		{"list endpoints (v1)", func(c context.Context) error {
			_, err := cs.CoreV1().Endpoints("").List(c, metav1.ListOptions{})
			return err
		}},
		{"list nodes", func(c context.Context) error { _, err := cs.CoreV1().Nodes().List(c, metav1.ListOptions{}); return err }},
		{"list namespaces", func(c context.Context) error {
			_, err := cs.CoreV1().Namespaces().List(c, metav1.ListOptions{})
			return err
		}},
		{"create service", func(c context.Context) error {
			_, err := cs.CoreV1().Services("default").Create(c, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "x"},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{})
			return err
		}},
		{"delete service", func(c context.Context) error {
			return cs.CoreV1().Services("default").Delete(c, "kubernetes", metav1.DeleteOptions{})
		}},
		{"update endpointslice", func(c context.Context) error {
			return cs.DiscoveryV1().EndpointSlices("default").DeleteCollection(c, metav1.DeleteOptions{}, metav1.ListOptions{})
		}},
		{"create serviceentry", func(c context.Context) error {
			_, err := se("v1").Namespace("default").Create(c, serviceEntry("default", "x", []string{"x.example.com"}, []string{"240.0.0.1"}), metav1.CreateOptions{})
			return err
		}},
		{"list serviceaccounts", func(c context.Context) error {
			_, err := cs.CoreV1().ServiceAccounts("").List(c, metav1.ListOptions{})
			return err
		}},
	}

	// The binding reaches the authorizer's cache within moments: retry the
	// first allowed check for a while.
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := allowed[0].do(ctx)
		if err == nil {
			break
		}
		if !apierrors.IsForbidden(err) || time.Now().After(deadline) {
			t.Fatalf("%s: %v", allowed[0].what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, c := range allowed {
		if err := c.do(ctx); err != nil {
			t.Errorf("meshdns service account: %s: %v, want allowed", c.what, err)
		}
	}
	for _, c := range denied {
		if err := c.do(ctx); !apierrors.IsForbidden(err) {
			t.Errorf("meshdns service account: %s: %v, want Forbidden", c.what, err)
		}
	}
	// Control: RBAC is really enforced (an unbound account cannot list).
	other := kubernetes.NewForConfigOrDie(impersonate(admin, "default", "other"))
	if _, err := other.CoreV1().Services("").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("unbound service account lists services: %v; RBAC not enforced?", err)
	}

	// The name source, as the service account, syncs everything and
	// reports no watch error.
	n := newNames(t)
	obs, err := observe.New(observe.Config{Registry: &n.reg, QueueStatsPath: "-"})
	if err != nil {
		t.Fatal(err)
	}
	_, stop := runSource(t, kube.Config{RESTConfig: sa, Logger: testLogger(t), Observer: obs}, n)
	defer stop()
	n.await("", time.Now(), "kubernetes.default.svc.cluster.local.", dns.TypeA, answers("A 10.0.0.1"))
	if e := apiErrors(t, obs); e != 0 {
		t.Errorf("%v API errors as the meshdns service account", e)
	}
}
