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
}

// Watch is the node's pods.
type Watch struct {
	factory informers.SharedInformerFactory
	lister  listersv1.PodLister
	synced  cache.InformerSynced
}

// New sets up the informer; Run starts it.
func New(cfg Config) (*Watch, error) {
	if cfg.Client == nil || cfg.Node == "" {
		return nil, errors.New("podwatch: a client and a node name are needed")
	}
	sel := fields.OneTermEqualSelector("spec.nodeName", cfg.Node).String()
	f := informers.NewSharedInformerFactoryWithOptions(cfg.Client, cfg.Resync,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = sel }))
	inf := f.Core().V1().Pods()
	// Only what the DNS context needs is kept.
	_ = inf.Informer().SetTransform(trim)
	return &Watch{factory: f, lister: inf.Lister(), synced: inf.Informer().HasSynced}, nil
}

// Run runs the informer until ctx is done.
func (w *Watch) Run(ctx context.Context) {
	w.factory.Start(ctx.Done())
	<-ctx.Done()
	w.factory.Shutdown()
}

// Synced reports whether the first list is in.
func (w *Watch) Synced() bool { return w.synced() }

// Lookup returns the pod namespace/name, or nil (pods.LookupFunc).
func (w *Watch) Lookup(namespace, name string) *corev1.Pod {
	p, err := w.lister.Pods(namespace).Get(name)
	if err != nil {
		return nil
	}
	return p
}

// trim drops everything of a Pod but what its DNS context reads.
func trim(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name, UID: p.UID, ResourceVersion: p.ResourceVersion,
			Labels: p.Labels},
		Spec: corev1.PodSpec{NodeName: p.Spec.NodeName, DNSPolicy: p.Spec.DNSPolicy, DNSConfig: p.Spec.DNSConfig,
			HostNetwork: p.Spec.HostNetwork},
	}, nil
}
