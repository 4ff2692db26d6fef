package podwatch

import (
	"context"
	"errors"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/tools/cache"

	"github.com/meshdns/meshdns/sync/kube/kubeclient"
)

// Config configures a Watch.
type Config struct {
	// Client lists and watches Pods and Namespaces (kubeclient.New;
	// kubeclienttest adapts client-go's fake clientset).
	Client kubeclient.Interface
	// Node is the node's name (the pods' spec.nodeName).
	Node string
	// Resync is the informer's resync period; 0 means none.
	Resync time.Duration
	// Wait bounds how long Captured waits for a pod it does not know yet;
	// 0 means DefaultWait.
	Wait time.Duration
}

// Watch is the node's pods and the namespaces' capture labels.
type Watch struct {
	pods       cache.SharedIndexInformer // the node's
	namespaces cache.SharedIndexInformer
	synced     []cache.InformerSynced
	// wait bounds how long Captured waits for a pod the watch has not
	// delivered yet (DefaultWait).
	wait time.Duration
}

// DefaultWait is how long Captured waits for a pod's object: the kubelet
// sets a sandbox up after it has seen the pod, so the agent's watch is
// rarely more than a few milliseconds behind.
const DefaultWait = time.Second

// New sets up the informer; Run starts it.
func New(cfg Config) (*Watch, error) {
	if cfg.Client == nil || cfg.Node == "" {
		return nil, errors.New("podwatch: a client and a node name are needed")
	}
	sel := fields.OneTermEqualSelector("spec.nodeName", cfg.Node).String()
	pods := cache.NewSharedIndexInformer(cfg.Client.ListWatch(kubeclient.Pods, "", sel), &corev1.Pod{}, cfg.Resync, cache.Indexers{})
	// Only what the DNS context and the capture decision need is kept.
	_ = pods.SetTransform(trim)
	nss := cache.NewSharedIndexInformer(cfg.Client.ListWatch(kubeclient.Namespaces, "", ""), &corev1.Namespace{}, cfg.Resync, cache.Indexers{})
	_ = nss.SetTransform(trimNamespace)
	if cfg.Wait <= 0 {
		cfg.Wait = DefaultWait
	}
	return &Watch{pods: pods, namespaces: nss, synced: []cache.InformerSynced{pods.HasSynced, nss.HasSynced}, wait: cfg.Wait}, nil
}

// Run runs the informers until ctx is done.
func (w *Watch) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { w.pods.RunWithContext(ctx) })
	wg.Go(func() { w.namespaces.RunWithContext(ctx) })
	wg.Wait()
}

// Synced reports whether the first lists are in.
func (w *Watch) Synced() bool {
	for _, s := range w.synced {
		if !s() {
			return false
		}
	}
	return true
}

// Lookup returns the pod namespace/name, or nil (pods.LookupFunc).
func (w *Watch) Lookup(namespace, name string) *corev1.Pod {
	p, ok, err := w.pods.GetStore().GetByKey(namespace + "/" + name)
	if err != nil || !ok {
		return nil
	}
	return p.(*corev1.Pod)
}

// trim drops everything of a Pod but what its DNS context and the capture
// decision read: of its init containers, the names.
func trim(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	var inits []corev1.Container
	for _, c := range p.Spec.InitContainers {
		inits = append(inits, corev1.Container{Name: c.Name})
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name, UID: p.UID, ResourceVersion: p.ResourceVersion,
			Labels: p.Labels},
		Spec: corev1.PodSpec{NodeName: p.Spec.NodeName, DNSPolicy: p.Spec.DNSPolicy, DNSConfig: p.Spec.DNSConfig,
			HostNetwork: p.Spec.HostNetwork, InitContainers: inits},
	}, nil
}

// trimNamespace keeps a Namespace's name and labels.
func trimNamespace(obj any) (any, error) {
	n, ok := obj.(*corev1.Namespace)
	if !ok {
		return obj, nil
	}
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n.Name, UID: n.UID, ResourceVersion: n.ResourceVersion,
		Labels: n.Labels}}, nil
}
