package protoshrink

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/meshdns/meshdns/sync/model"
)

// codecs is the CodecFactory kubeclient.New makes.
func codecs(t testing.TB) runtime.NegotiatedSerializer {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := discoveryv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return kserializer.NewCodecFactory(scheme).WithoutConversion()
}

// protobufInfo is ns's protobuf serializer.
func protobufInfo(t testing.TB, ns runtime.NegotiatedSerializer) runtime.SerializerInfo {
	t.Helper()
	info, ok := runtime.SerializerInfoForMediaType(ns.SupportedMediaTypes(), runtime.ContentTypeProtobuf)
	if !ok {
		t.Fatal("no protobuf serializer")
	}
	return info
}

// encode is obj as the API server sends it: the protobuf serializer's
// encoding (prefix, runtime.Unknown envelope with obj's type).
func encode(t testing.TB, ser runtime.Serializer, obj runtime.Object) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := ser.Encode(obj, &b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// shrunk is what the fast decoder must give for obj, a standard decode:
// model's shrink of it, or of each item of a List.
func shrunk(obj runtime.Object) runtime.Object {
	switch o := obj.(type) {
	case *corev1.Service:
		return model.ShrinkService(o)
	case *discoveryv1.EndpointSlice:
		return model.ShrinkEndpointSlice(o)
	case *corev1.ServiceList:
		l := *o
		l.Items = shrunkItems(o.Items, model.ShrinkService)
		return &l
	case *discoveryv1.EndpointSliceList:
		l := *o
		l.Items = shrunkItems(o.Items, model.ShrinkEndpointSlice)
		return &l
	}
	return obj
}

// shrunkItems is a List's items, each shrunk (nil for none).
func shrunkItems[T any](items []T, shrink func(*T) *T) []T {
	var out []T
	for i := range items {
		out = append(out, *shrink(&items[i]))
	}
	return out
}

// checkAgainstStandard decodes data with d and with the standard
// serializer std and fails t when d takes data and its result is not the
// shrink of the standard one, or the standard decoder refuses data. It
// reports whether d took data.
func checkAgainstStandard(t testing.TB, d *decoder, std runtime.Serializer, data []byte) bool {
	t.Helper()
	fast, fastGVK, ok := d.decode(data)
	want, wantGVK, err := std.Decode(data, nil, nil)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("fast decode took what the standard one refuses (%v): %q", err, data)
	}
	if diff := cmp.Diff(shrunk(want), fast); diff != "" {
		t.Fatalf("fast decode differs from the shrunk standard one (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantGVK, fastGVK); diff != "" {
		t.Fatalf("group version kind (-want +got):\n%s", diff)
	}
	return true
}

func ptr[T any](v T) *T { return &v }

var created = metav1.NewTime(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))

// realMeta is the metadata the API server and controllers give an object:
// labels, annotations, owner references, managedFields.
func realMeta(ns, name string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name: name, Namespace: ns, UID: "0000beef-0000-4000-8000-000000000001",
		ResourceVersion: "123456", Generation: 3, CreationTimestamp: created,
		Labels: labels,
		Annotations: map[string]string{
			"endpoints.kubernetes.io/last-change-trigger-time": "2026-12-07T10:00:00Z",
			"kubectl.kubernetes.io/last-applied-configuration": `{"apiVersion":"v1","kind":"Service"}`,
		},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: name,
			UID: "0000beef-0000-4000-8000-000000000002", Controller: ptr(true), BlockOwnerDeletion: ptr(true)}},
		Finalizers: []string{"service.kubernetes.io/load-balancer-cleanup"},
		ManagedFields: []metav1.ManagedFieldsEntry{{
			Manager: "endpointslice-controller", Operation: metav1.ManagedFieldsOperationUpdate,
			APIVersion: "discovery.k8s.io/v1", Time: &created, FieldsType: "FieldsV1",
			FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:addressType":{},"f:endpoints":{},"f:metadata":{"f:annotations":{".":{},"f:endpoints.kubernetes.io/last-change-trigger-time":{}},"f:generateName":{},"f:labels":{".":{},"f:app":{},"f:endpointslice.kubernetes.io/managed-by":{},"f:kubernetes.io/service-name":{}},"f:ownerReferences":{".":{},"k:{\"uid\":\"0000beef\"}":{}}},"f:ports":{}}`)},
		}, {
			Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate,
			APIVersion: "v1", Time: &created, FieldsType: "FieldsV1", Subresource: "status",
			FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:status":{}}`)},
		}},
	}
}

// realSlice is an EndpointSlice of Service svc with n endpoints, as the
// EndpointSlice controller writes it.
func realSlice(ns, svc string, n int) *discoveryv1.EndpointSlice {
	es := &discoveryv1.EndpointSlice{
		TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
		ObjectMeta: realMeta(ns, svc+"-abcde", map[string]string{
			"app": svc, discoveryv1.LabelServiceName: svc,
			discoveryv1.LabelManagedBy:  "endpointslice-controller.k8s.io",
			"app.kubernetes.io/part-of": "shop", "tier": "backend",
		}),
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{
			{Name: ptr("http"), Protocol: ptr(corev1.ProtocolTCP), Port: ptr(int32(8080)), AppProtocol: ptr("http")},
			{Name: ptr("dns"), Protocol: ptr(corev1.ProtocolUDP), Port: ptr(int32(53))},
		},
	}
	es.GenerateName = svc + "-"
	for i := range n {
		e := discoveryv1.Endpoint{
			Addresses: []string{fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr(i%3 != 1), Serving: ptr(true),
				Terminating: ptr(i%3 == 2)},
			NodeName: ptr(fmt.Sprintf("node-%d", i%7)),
			Zone:     ptr(fmt.Sprintf("zone-%c", 'a'+i%3)),
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: fmt.Sprintf("%s-6d8f7b9c5-%05d", svc, i),
				UID: "0000beef-0000-4000-8000-000000000003"},
			Hints: &discoveryv1.EndpointHints{ForZones: []discoveryv1.ForZone{{Name: "zone-a"}},
				ForNodes: []discoveryv1.ForNode{{Name: "node-1"}}},
			DeprecatedTopology: map[string]string{"kubernetes.io/hostname": "node-1"},
		}
		switch i % 4 {
		case 1:
			e.Hostname = ptr(fmt.Sprintf("web-%d", i))
		case 2:
			e.Conditions.Ready = nil
		}
		es.Endpoints = append(es.Endpoints, e)
	}
	return es
}

// realService is a ClusterIP Service as the API server stores it.
func realService(ns, name string) *corev1.Service {
	return &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: realMeta(ns, name, map[string]string{"app": name, "tier": "backend",
			discoveryv1.LabelServiceName: "not-kept-on-a-service"}),
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10"},
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol}, IPFamilyPolicy: ptr(corev1.IPFamilyPolicySingleStack),
			Selector:        map[string]string{"app": name},
			SessionAffinity: corev1.ServiceAffinityClientIP,
			SessionAffinityConfig: &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{
				TimeoutSeconds: ptr(int32(10800))}},
			InternalTrafficPolicy: ptr(corev1.ServiceInternalTrafficPolicyCluster),
			Ports: []corev1.ServicePort{
				{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromString("http"), AppProtocol: ptr("http")},
				{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53, TargetPort: intstr.FromInt32(5353), NodePort: 30053},
			},
		},
		Status: corev1.ServiceStatus{
			LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "192.0.2.1",
				Ports: []corev1.PortStatus{{Port: 80, Protocol: corev1.ProtocolTCP}}}}},
			Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, LastTransitionTime: created,
				Reason: "Ok", Message: "fine"}},
		},
	}
}
