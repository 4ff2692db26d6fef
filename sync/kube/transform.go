package kube

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshdns/meshdns/sync/model"
)

// The transforms below run in the watchers (on each decoded object before
// it is noted) and in the informers' queues (before it is queued). Each builds a new, small object holding only what sync/model reads
// (model.ShrinkService, model.ShrinkEndpointSlice, and for ServiceEntries
// the fields model.ServiceEntryFromUnstructured reads). Objects of other
// types (deletion tombstones) pass through unchanged. Services and
// EndpointSlices the API server sends in protobuf arrive already shrunk
// (kubeclient decodes them with protoshrink); shrinking one again is a
// small copy (1.7 KB in 4 allocations for an EndpointSlice of 10
// endpoints, against 2.3 KB in 58 for its decoding: protoshrink's
// BenchmarkDecodeEndpointSlice, fast against fast+shrink), kept so that
// objects from JSON and from protoshrink's fall back to the standard
// decoder are shrunk by this one code.

// shrinkService and shrinkEndpointSlice are model's shrinks as informer
// transforms.
func shrinkService(obj any) (any, error) {
	if s, ok := obj.(*corev1.Service); ok {
		return model.ShrinkService(s), nil
	}
	return obj, nil
}

func shrinkEndpointSlice(obj any) (any, error) {
	if es, ok := obj.(*discoveryv1.EndpointSlice); ok {
		return model.ShrinkEndpointSlice(es), nil
	}
	return obj, nil
}

// serviceEntryFields are the fields of a ServiceEntry that DNS reads
// (model.ServiceEntryFromUnstructured).
var serviceEntryFields = [][]string{
	{"spec", "hosts"},
	{"spec", "addresses"},
	{"spec", "resolution"},
	{"spec", "ports"},
	{"status", "addresses"},
}

func shrinkServiceEntry(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok || u.Object == nil {
		return obj, nil
	}
	meta := map[string]any{}
	if m, ok := u.Object["metadata"].(map[string]any); ok {
		for _, k := range []string{"name", "namespace", "uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "labels"} {
			if v, ok := m[k]; ok {
				meta[k] = v
			}
		}
	}
	out := map[string]any{
		"apiVersion": u.Object["apiVersion"],
		"kind":       u.Object["kind"],
		"metadata":   meta,
	}
	for _, path := range serviceEntryFields {
		v, ok, err := unstructured.NestedFieldNoCopy(u.Object, path...)
		if err != nil || !ok {
			continue
		}
		parent, _ := out[path[0]].(map[string]any)
		if parent == nil {
			parent = map[string]any{}
			out[path[0]] = parent
		}
		parent[path[1]] = v
	}
	return &unstructured.Unstructured{Object: out}, nil
}
