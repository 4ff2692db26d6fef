package apiservertest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/meshdns/meshdns/node/podwatch"
	"github.com/meshdns/meshdns/sync/kube/apiservertest/kubetest"
	"github.com/meshdns/meshdns/sync/kube/kubeclient"
)

// TestPodWatch runs node mode's pod watch against the real API server, as
// the node agent's service account with the shipped node RBAC
// (manifests/node): it sees its own node's pods only (the field selector
// spec.nodeName), reads the capture label of pods and namespaces, and
// follows a namespace's label being removed.
func TestPodWatch(t *testing.T) {
	ctx := context.Background()
	s := startAPIServer(t, kubetest.Options{EtcdURL: startEtcd(t), Prefix: "/meshdns-podwatch", Flags: []string{"--authorization-mode=RBAC"}})
	admin := adminConfig(s.Addr)
	acs := kubernetes.NewForConfigOrDie(admin)
	waitNamespace(t, acs, "default")
	waitNamespace(t, acs, "kube-system")
	a := newApplier(t, admin)
	root := repoRoot(t)
	for _, f := range []string{"serviceaccount.yaml", "clusterrole.yaml", "clusterrolebinding.yaml"} {
		for _, o := range readObjects(t, filepath.Join(root, "manifests", "node", f)) {
			if _, err := a.apply(ctx, o, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	on := map[string]string{podwatch.Label: podwatch.Enabled}
	if _, err := acs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "meshed", Labels: on}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	mkPod := func(ns, name, node string, labels map[string]string) *corev1.Pod {
		p, err := acs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
			Spec: corev1.PodSpec{NodeName: node, DNSPolicy: corev1.DNSDefault,
				Containers: []corev1.Container{{Name: "app", Image: "app"}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	web := mkPod("default", "web", "node-a", on)
	plain := mkPod("default", "plain", "node-a", nil)
	app := mkPod("meshed", "app", "node-a", nil)
	mkPod("default", "elsewhere", "node-b", on)

	// The agent's own client: kubeclient, as the agent's service account.
	kc, err := kubeclient.New(impersonate(admin, "kube-system", "meshdns-node"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := podwatch.New(podwatch.Config{Client: kc, Node: "node-a", Wait: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Run(wctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(30 * time.Second)
	for !w.Synced() {
		if time.Now().After(deadline) {
			t.Fatal("the pod watch did not sync with the node agent's RBAC")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if p := w.Lookup("default", "web"); p == nil || p.Spec.DNSPolicy != corev1.DNSDefault {
		t.Errorf("Lookup(default/web) = %+v", p)
	}
	if p := w.Lookup("default", "elsewhere"); p != nil {
		t.Error("a pod of another node is in the watch")
	}
	for _, tc := range []struct {
		p    *corev1.Pod
		want bool
	}{{web, true}, {plain, false}, {app, true}} {
		if got := w.Captured(ctx, tc.p.Namespace, tc.p.Name, string(tc.p.UID)); got != tc.want {
			t.Errorf("Captured(%s/%s) = %v, want %v", tc.p.Namespace, tc.p.Name, got, tc.want)
		}
	}
	// The namespace's label removed: its pods are no longer captured (for
	// pods set up from now on).
	ns, err := acs.CoreV1().Namespaces().Get(ctx, "meshed", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ns.Labels = nil
	if _, err := acs.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for w.Captured(ctx, "meshed", "app", string(app.UID)) {
		if time.Now().After(deadline) {
			t.Fatal("the namespace's label change never reached the watch")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
