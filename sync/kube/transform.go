package kube

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The transforms below run in the watchers' and informers' queues, on each
// decoded object before it is queued. Each builds a new, small object
// holding only what sync/model reads; everything else (managedFields,
// annotations, status, owner references, node names, topology hints) is
// dropped. Objects of other types (deletion tombstones) pass through
// unchanged.

// shrinkMeta keeps the name, the version, the creation and deletion times
// and the label named label (none when label is empty): DNS reads one
// label, an EndpointSlice's Service name, and the EndpointSlice controller
// copies all of a Service's labels onto its slices. The UID is not read
// (objects are keyed by namespace and name).
func shrinkMeta(m *metav1.ObjectMeta, label string) metav1.ObjectMeta {
	out := metav1.ObjectMeta{
		Name:              m.Name,
		Namespace:         m.Namespace,
		ResourceVersion:   m.ResourceVersion,
		CreationTimestamp: m.CreationTimestamp,
		DeletionTimestamp: m.DeletionTimestamp,
	}
	if v, ok := m.Labels[label]; ok && label != "" {
		out.Labels = map[string]string{label: v}
	}
	return out
}

func shrinkService(obj any) (any, error) {
	s, ok := obj.(*corev1.Service)
	if !ok {
		return obj, nil
	}
	out := &corev1.Service{
		ObjectMeta: shrinkMeta(&s.ObjectMeta, ""),
		Spec: corev1.ServiceSpec{
			Type:                     s.Spec.Type,
			ClusterIP:                s.Spec.ClusterIP,
			ClusterIPs:               s.Spec.ClusterIPs,
			ExternalName:             s.Spec.ExternalName,
			PublishNotReadyAddresses: s.Spec.PublishNotReadyAddresses,
			IPFamilies:               s.Spec.IPFamilies,
			IPFamilyPolicy:           s.Spec.IPFamilyPolicy,
		},
	}
	if len(s.Spec.Ports) > 0 {
		out.Spec.Ports = make([]corev1.ServicePort, len(s.Spec.Ports))
		for i, p := range s.Spec.Ports {
			out.Spec.Ports[i] = corev1.ServicePort{Name: p.Name, Protocol: p.Protocol, Port: p.Port, TargetPort: p.TargetPort}
		}
	}
	return out, nil
}

func shrinkEndpointSlice(obj any) (any, error) {
	es, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return obj, nil
	}
	out := &discoveryv1.EndpointSlice{
		ObjectMeta:  shrinkMeta(&es.ObjectMeta, discoveryv1.LabelServiceName),
		AddressType: es.AddressType,
		Ports:       es.Ports,
	}
	if len(es.Endpoints) > 0 {
		out.Endpoints = make([]discoveryv1.Endpoint, len(es.Endpoints))
		for i, e := range es.Endpoints {
			// Only Ready is read (an endpoint's target, node, zone,
			// hints and its other conditions are not DNS's): the
			// target reference alone was about 150 bytes an endpoint with
			// its strings.
			out.Endpoints[i] = discoveryv1.Endpoint{
				Addresses:  e.Addresses,
				Conditions: discoveryv1.EndpointConditions{Ready: e.Conditions.Ready},
				Hostname:   e.Hostname,
			}
		}
	}
	return out, nil
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
