// Package kubeclienttest adapts client-go's clientsets (the fake one of
// unit tests, or a real one) to kubeclient.Interface. It links client-go's
// typed clientset, which the meshdns binary must not: import it from tests
// only.
package kubeclienttest

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/meshdns/meshdns/sync/kube/kubeclient"
)

// FromClientset is cs as a kubeclient.Interface.
func FromClientset(cs kubernetes.Interface) kubeclient.Interface { return clientset{cs} }

type clientset struct{ cs kubernetes.Interface }

func (c clientset) ServerResourcesForGroupVersion(gv string) (*metav1.APIResourceList, error) {
	return c.cs.Discovery().ServerResourcesForGroupVersion(gv)
}

func (c clientset) ListWatch(r kubeclient.Resource, ns, fieldSelector string) cache.ListerWatcher {
	opts := func(o metav1.ListOptions) metav1.ListOptions {
		if fieldSelector != "" {
			o.FieldSelector = fieldSelector
		}
		return o
	}
	// A clientset says whether it supports watch-list semantics (the fake
	// one does not); the reflector asks the ListerWatcher.
	lw := func(l interface {
		List(context.Context, metav1.ListOptions) (runtime.Object, error)
		Watch(context.Context, metav1.ListOptions) (watch.Interface, error)
	}) cache.ListerWatcher {
		return cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
			ListWithContextFunc:  func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return l.List(ctx, opts(o)) },
			WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) { return l.Watch(ctx, opts(o)) },
		}, c.cs)
	}
	switch r {
	case kubeclient.Services:
		cl := c.cs.CoreV1().Services(ns)
		return lw(lister[*corev1.ServiceList]{cl.List, cl.Watch})
	case kubeclient.EndpointSlices:
		cl := c.cs.DiscoveryV1().EndpointSlices(ns)
		return lw(lister[*discoveryv1.EndpointSliceList]{cl.List, cl.Watch})
	case kubeclient.Pods:
		cl := c.cs.CoreV1().Pods(ns)
		return lw(lister[*corev1.PodList]{cl.List, cl.Watch})
	case kubeclient.Namespaces:
		cl := c.cs.CoreV1().Namespaces()
		return lw(lister[*corev1.NamespaceList]{cl.List, cl.Watch})
	}
	panic(fmt.Sprintf("kubeclienttest: %v", r))
}

// lister adapts a typed client's List and Watch.
type lister[L runtime.Object] struct {
	list  func(context.Context, metav1.ListOptions) (L, error)
	watch func(context.Context, metav1.ListOptions) (watch.Interface, error)
}

func (l lister[L]) List(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
	return l.list(ctx, o)
}

func (l lister[L]) Watch(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
	return l.watch(ctx, o)
}
