package podwatch

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/meshdns/meshdns/sync/kube/kubeclient/kubeclienttest"
)

func TestLookup(t *testing.T) {
	cs := fake.NewClientset(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web", Annotations: map[string]string{"big": "x"}},
		Spec: corev1.PodSpec{NodeName: "n1", DNSPolicy: corev1.DNSNone,
			DNSConfig: &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1"}}, Containers: []corev1.Container{{Name: "app"}}},
	})
	w, err := New(Config{Client: kubeclienttest.FromClientset(cs), Node: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := runWatch(t, w)
	deadline := time.Now().Add(10 * time.Second)
	p := w.Lookup("shop", "web")
	if p == nil || p.Spec.DNSPolicy != corev1.DNSNone || p.Spec.DNSConfig.Nameservers[0] != "1.1.1.1" {
		t.Fatalf("Lookup = %+v", p)
	}
	if p.Annotations != nil || p.Spec.Containers != nil {
		t.Fatalf("stored pod not trimmed: %+v", p)
	}
	// A pod created later is found once the watch delivers it.
	_, err = cs.CoreV1().Pods("shop").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "late"},
		Spec: corev1.PodSpec{NodeName: "n1", DNSPolicy: corev1.DNSDefault}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for w.Lookup("shop", "late") == nil {
		if time.Now().After(deadline) {
			t.Fatal("late pod never seen")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if w.Lookup("shop", "none") != nil {
		t.Fatal("unknown pod found")
	}
	if _, err := New(Config{Client: kubeclienttest.FromClientset(cs)}); err == nil {
		t.Fatal("no node name accepted")
	}
}

// runWatch runs w until the test ends and waits for its first lists; the
// context it returns ends with the test.
func runWatch(t *testing.T, w *Watch) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for !w.Synced() {
		if time.Now().After(deadline) {
			t.Fatal("not synced")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return ctx
}
