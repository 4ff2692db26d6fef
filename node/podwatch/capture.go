package podwatch

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Label is meshdns's switch, on a pod or on its namespace, as the sidecar
// component reads it on a workload.
const Label = "meshdns.io/dns-capture"

// Label values.
const (
	Enabled  = "enabled"
	Disabled = "disabled"
)

// SidecarInit is the init container the sidecar component adds: a pod
// with it has its own meshdns.
const SidecarInit = "meshdns-rules"

// Captured decides whether the agent answers the DNS of pod namespace/name
// (uid, when not empty, must match): the pod's label when it has one
// ("enabled" or "disabled"), else its namespace's label; never a pod with
// its own sidecar. A pod the watch has not delivered yet is waited for up
// to Config.Wait, then judged by its namespace's label.
func (w *Watch) Captured(ctx context.Context, namespace, name, uid string) bool {
	p := w.waitPod(ctx, namespace, name, uid)
	var ns *corev1.Namespace
	if n, ok, err := w.namespaces.GetStore().GetByKey(namespace); err == nil && ok {
		ns = n.(*corev1.Namespace)
	}
	return Decide(p, ns)
}

// Decide is the capture rule on the objects (either may be nil).
func Decide(p *corev1.Pod, ns *corev1.Namespace) bool {
	if p != nil {
		for _, c := range p.Spec.InitContainers {
			if c.Name == SidecarInit {
				return false
			}
		}
		switch p.Labels[Label] {
		case Enabled:
			return true
		case Disabled:
			return false
		}
	}
	return ns != nil && ns.Labels[Label] == Enabled
}

func (w *Watch) waitPod(ctx context.Context, namespace, name, uid string) *corev1.Pod {
	ctx, cancel := context.WithTimeout(ctx, w.wait)
	defer cancel()
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if p := w.Lookup(namespace, name); p != nil && (uid == "" || string(p.UID) == uid) {
			return p
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
