package podwatch

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	listersv1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// Config configures a Watch.
type Config struct {
	Client kubernetes.Interface
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
	factory   informers.SharedInformerFactory // the node's pods
	nsFactory informers.SharedInformerFactory // namespaces
	lister    listersv1.PodLister
	nsLister  listersv1.NamespaceLister
	synced    []cache.InformerSynced
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
	f := informers.NewSharedInformerFactoryWithOptions(cfg.Client, cfg.Resync,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = sel }))
	inf := f.Core().V1().Pods()
	// Only what the DNS context and the capture decision need is kept.
	_ = inf.Informer().SetTransform(trim)
	nsf := informers.NewSharedInformerFactory(cfg.Client, cfg.Resync)
	nsInf := nsf.Core().V1().Namespaces()
	_ = nsInf.Informer().SetTransform(trimNamespace)
	if cfg.Wait <= 0 {
		cfg.Wait = DefaultWait
	}
	return &Watch{factory: f, nsFactory: nsf, lister: inf.Lister(), nsLister: nsInf.Lister(),
		synced: []cache.InformerSynced{inf.Informer().HasSynced, nsInf.Informer().HasSynced}, wait: cfg.Wait}, nil
}

// Run runs the informer until ctx is done.
func (w *Watch) Run(ctx context.Context) {
	w.factory.Start(ctx.Done())
	w.nsFactory.Start(ctx.Done())
	<-ctx.Done()
	w.factory.Shutdown()
	w.nsFactory.Shutdown()
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
	p, err := w.lister.Pods(namespace).Get(name)
	if err != nil {
		return nil
	}
	return p
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
