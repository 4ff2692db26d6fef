package model

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ShrinkService and ShrinkEndpointSlice return a new, small copy of an
// object holding only what the model reads; everything else
// (managedFields, annotations, status, owner references, node names,
// topology hints, the Pod each endpoint points at) is dropped. The API
// server source shrinks each object as soon as it is decoded (in its
// queues' transforms, sync/kube), so what a cluster's controllers add to
// its objects costs nothing past decoding; from protobuf it decodes them
// already shrunk (sync/kube/protoshrink, whose tests fail should these
// shrinks keep a field it does not read). The model builds the same table
// from the shrunk objects as from the originals (TestShrinkKeepsTheTable
// in sync/kube). The objects file's parser does not shrink: its objects
// are garbage once the table is built, and a copy of each made the load's
// peak higher, not lower (144-151 MiB against 133-137 at 100,000
// endpoints, scripts/nametable-rss.sh, 2026-12-07).

// ShrinkService returns the part of s the model reads, and its type.
func ShrinkService(s *corev1.Service) *corev1.Service {
	out := &corev1.Service{
		TypeMeta:   s.TypeMeta,
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
	return out
}

// ShrinkEndpointSlice returns the part of es the model reads, and its
// type.
func ShrinkEndpointSlice(es *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	out := &discoveryv1.EndpointSlice{
		TypeMeta:    es.TypeMeta,
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
	return out
}

// shrinkMeta keeps the name, the version, the creation and deletion times
// and the label named label (none when label is empty): the model reads one
// label, an EndpointSlice's Service name, and the EndpointSlice controller
// copies all of a Service's labels onto its slices. It also keeps the
// annotation that marks the bookmark ending a watch's initial events
// (metav1.InitialEventsAnnotationKey, on no stored object): client-go's
// reflector reads it off the decoded bookmark, which
// sync/kube/protoshrink decodes in this form. The UID is not read
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
	if v, ok := m.Annotations[metav1.InitialEventsAnnotationKey]; ok {
		out.Annotations = map[string]string{metav1.InitialEventsAnnotationKey: v}
	}
	return out
}
