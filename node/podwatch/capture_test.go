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

func pod(labels map[string]string, inits ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web", Labels: labels}}
	for _, n := range inits {
		p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: n})
	}
	return p
}

func ns(labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: labels}}
}

func TestDecide(t *testing.T) {
	on := map[string]string{Label: Enabled}
	off := map[string]string{Label: Disabled}
	other := map[string]string{Label: "yes", "app": "web"}
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		ns   *corev1.Namespace
		want bool
	}{
		{"pod labelled", pod(on), ns(nil), true},
		{"pod labelled, namespace disabled", pod(on), ns(off), true},
		{"namespace labelled", pod(nil), ns(on), true},
		{"namespace labelled, pod disabled", pod(off), ns(on), false},
		{"nothing labelled", pod(nil), ns(nil), false},
		{"a value other than enabled", pod(other), ns(other), false},
		{"pod with its own sidecar", pod(on, "meshdns-rules", "meshdns"), ns(on), false},
		{"unknown pod, namespace labelled", nil, ns(on), true},
		{"unknown pod and namespace", nil, nil, false},
	} {
		if got := Decide(tc.pod, tc.ns); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestCaptured: the watch's objects decide, a pod created after the
// question is waited for, a pod that never comes is judged by its
// namespace after Wait, and a UID that does not match is no pod.
func TestCaptured(t *testing.T) {
	cs := fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "meshed", Labels: map[string]string{Label: Enabled}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "plain"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "plain", Name: "on", UID: "u1", Labels: map[string]string{Label: Enabled}},
			Spec: corev1.PodSpec{NodeName: "n1"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "meshed", Name: "off", UID: "u2", Labels: map[string]string{Label: Disabled}},
			Spec: corev1.PodSpec{NodeName: "n1"}},
	)
	w, err := New(Config{Client: kubeclienttest.FromClientset(cs), Node: "n1", Wait: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := runWatch(t, w)
	if !w.Captured(ctx, "plain", "on", "u1") {
		t.Error("labelled pod in an unlabelled namespace not captured")
	}
	if w.Captured(ctx, "meshed", "off", "u2") {
		t.Error("pod labelled disabled in a labelled namespace captured")
	}
	if w.Captured(ctx, "plain", "on", "other-uid") {
		t.Error("a pod of another UID decided the capture")
	}
	// Unknown pods: judged by the namespace once Wait is over.
	start := time.Now()
	if !w.Captured(ctx, "meshed", "ghost", "") || w.Captured(ctx, "plain", "ghost", "") {
		t.Error("unknown pods not judged by their namespace's label")
	}
	if waited := time.Since(start); waited < 500*time.Millisecond {
		t.Errorf("unknown pods decided after %v: Wait not honoured", waited)
	}
	// A pod created while the question waits is found.
	go func() {
		time.Sleep(50 * time.Millisecond)
		_, _ = cs.CoreV1().Pods("plain").Create(context.Background(), &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "plain", Name: "late", UID: "u3", Labels: map[string]string{Label: Enabled}},
			Spec:       corev1.PodSpec{NodeName: "n1"}}, metav1.CreateOptions{})
	}()
	if !w.Captured(ctx, "plain", "late", "u3") {
		t.Error("a pod created while waited for was not found")
	}
}
