package kube

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/meshdns/meshdns/sync/model"
)

// fullObjects are objects as the API server sends them, with the fields
// the transforms drop filled in.
func fullObjects() (svcs []*corev1.Service, eps []*discoveryv1.EndpointSlice, ses []*unstructured.Unstructured) {
	meta := func(ns, name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{
			Namespace: ns, Name: name, UID: types.UID("uid-" + name), ResourceVersion: "7",
			Labels:          map[string]string{"app": name},
			Annotations:     map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{...}"},
			ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
			OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "x"}},
			Finalizers:      []string{"service.kubernetes.io/load-balancer-cleanup"},
		}
	}
	dual := &corev1.Service{
		ObjectMeta: meta("default", "web"),
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeLoadBalancer, ClusterIP: "10.0.0.10", ClusterIPs: []string{"10.0.0.10", "fd00:10::a"},
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}, IPFamilyPolicy: ptr.To(corev1.IPFamilyPolicyRequireDualStack),
			Ports:    []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(8080), NodePort: 30080}, {Protocol: corev1.ProtocolUDP, Port: 53}},
			Selector: map[string]string{"app": "web"}, ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyLocal, HealthCheckNodePort: 31000,
		},
		Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "203.0.113.1"}}}},
	}
	headless := &corev1.Service{
		ObjectMeta: meta("db", "pg"),
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: corev1.ClusterIPNone, ClusterIPs: []string{corev1.ClusterIPNone},
			PublishNotReadyAddresses: true,
			Ports:                    []corev1.ServicePort{{Name: "pg", Protocol: corev1.ProtocolTCP, Port: 5432}},
		},
	}
	ext := &corev1.Service{
		ObjectMeta: meta("default", "search"),
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "search.example.com"},
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  meta("db", "pg-abcde"),
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"10.1.0.1"}, Hostname: ptr.To("pg-0"), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)},
				NodeName: ptr.To("node-1"), Zone: ptr.To("zone-a"), TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "db", Name: "pg-0", UID: "u", ResourceVersion: "3"},
				Hints: &discoveryv1.EndpointHints{ForZones: []discoveryv1.ForZone{{Name: "zone-a"}}}},
			{Addresses: []string{"10.1.0.2"}, Hostname: ptr.To("pg-1"), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(false)}},
			{Addresses: []string{"10.1.0.3"}},
		},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("pg"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To[int32](5432)}},
	}
	slice.Labels[discoveryv1.LabelServiceName] = "pg"
	webSlice := &discoveryv1.EndpointSlice{
		ObjectMeta:  meta("default", "web-xyz"),
		AddressType: discoveryv1.AddressTypeIPv6,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"fd00:1::5"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To[int32](8080)}},
	}
	webSlice.Labels[discoveryv1.LabelServiceName] = "web"

	se := serviceEntry("v1", "default", "ext", []string{"api.example.com", "*.wild.example.com"}, []string{"240.0.0.1"})
	se.Object["metadata"].(map[string]any)["creationTimestamp"] = "2026-01-02T03:04:05Z"
	se.Object["metadata"].(map[string]any)["labels"] = map[string]any{"team": "a"}
	se.Object["metadata"].(map[string]any)["managedFields"] = []any{map[string]any{"manager": "kubectl"}}
	se.Object["spec"].(map[string]any)["ports"] = []any{map[string]any{"number": int64(443), "name": "https", "protocol": "TLS"}}
	se.Object["spec"].(map[string]any)["endpoints"] = []any{map[string]any{"address": "1.2.3.4"}}
	se.Object["spec"].(map[string]any)["exportTo"] = []any{"."}
	auto := serviceEntry("v1", "default", "auto", []string{"db.example.com"}, nil)
	auto.Object["metadata"].(map[string]any)["creationTimestamp"] = "2026-01-02T03:04:05Z"
	auto.Object["metadata"].(map[string]any)["labels"] = map[string]any{model.LabelAutoAllocate: "true"}
	auto.Object["status"] = map[string]any{
		"addresses":  []any{map[string]any{"value": "240.240.0.7", "host": "db.example.com"}},
		"conditions": []any{map[string]any{"type": "Reconciled"}},
	}
	return []*corev1.Service{dual, headless, ext}, []*discoveryv1.EndpointSlice{slice, webSlice}, []*unstructured.Unstructured{se, auto}
}

// mustFor returns a function that unwraps a transform's result.
func mustFor(t *testing.T) func(any, error) any {
	return func(o any, err error) any {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
}

func TestShrinkDropsWhatDNSDoesNotRead(t *testing.T) {
	must := mustFor(t)
	svcs, eps, ses := fullObjects()
	s := must(shrinkService(svcs[0])).(*corev1.Service)
	if s.Annotations != nil || s.Labels != nil || s.UID != "" || s.ManagedFields != nil || s.OwnerReferences != nil || s.Finalizers != nil {
		t.Errorf("service metadata kept: %+v", s.ObjectMeta)
	}
	if s.Spec.Selector != nil || s.Spec.Ports[0].NodePort != 0 || len(s.Status.LoadBalancer.Ingress) != 0 || s.Spec.HealthCheckNodePort != 0 {
		t.Errorf("service spec/status kept: %+v %+v", s.Spec, s.Status)
	}
	if s.Name != "web" || s.ResourceVersion != "7" || !slices.Equal(s.Spec.ClusterIPs, []string{"10.0.0.10", "fd00:10::a"}) || s.Spec.Ports[0].Name != "http" {
		t.Errorf("service lost what DNS reads: %+v", s)
	}
	e := must(shrinkEndpointSlice(eps[0])).(*discoveryv1.EndpointSlice)
	ep := e.Endpoints[0]
	if ep.NodeName != nil || ep.Zone != nil || ep.Hints != nil || ep.TargetRef != nil || e.Annotations != nil {
		t.Errorf("endpoint kept topology or its target: %+v", ep)
	}
	if len(e.Labels) != 1 {
		t.Errorf("endpoint slice kept labels DNS does not read: %v", e.Labels)
	}
	if ep.Conditions.Serving != nil || ep.Conditions.Terminating != nil {
		t.Errorf("endpoint kept conditions DNS does not read: %+v", ep.Conditions)
	}
	if *ep.Hostname != "pg-0" || ep.Conditions.Ready == nil || !*ep.Conditions.Ready || e.Labels[discoveryv1.LabelServiceName] != "pg" {
		t.Errorf("endpoint lost what DNS reads: %+v", e)
	}
	u := must(shrinkServiceEntry(ses[0])).(*unstructured.Unstructured)
	if _, ok := u.Object["metadata"].(map[string]any)["managedFields"]; ok {
		t.Error("ServiceEntry managedFields kept")
	}
	if u.GetAnnotations() != nil {
		t.Error("ServiceEntry annotations kept")
	}
	if _, ok, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", "endpoints"); ok {
		t.Error("ServiceEntry spec.endpoints kept")
	}
	if _, ok, _ := unstructured.NestedFieldNoCopy(ses[1].Object, "status", "conditions"); !ok {
		t.Fatal("fixture lacks status.conditions")
	}
	u2 := must(shrinkServiceEntry(ses[1])).(*unstructured.Unstructured)
	if _, ok, _ := unstructured.NestedFieldNoCopy(u2.Object, "status", "conditions"); ok {
		t.Error("ServiceEntry status.conditions kept")
	}

	// Tombstones and other types pass through.
	tomb := cache.DeletedFinalStateUnknown{Key: "a/b", Obj: svcs[0]}
	for _, f := range []cache.TransformFunc{shrinkService, shrinkEndpointSlice, shrinkServiceEntry} {
		if got := must(f(tomb)); got != any(tomb) {
			t.Errorf("tombstone changed: %v", got)
		}
	}
}

// TestShrinkKeepsTheTable: the shrunk objects build exactly the table the
// full ones do.
func TestShrinkKeepsTheTable(t *testing.T) {
	must := mustFor(t)
	svcs, eps, ses := fullObjects()
	full, small := &model.Objects{}, &model.Objects{}
	for _, s := range svcs {
		full.Services = append(full.Services, s)
		small.Services = append(small.Services, must(shrinkService(s.DeepCopy())).(*corev1.Service))
	}
	for _, e := range eps {
		full.EndpointSlices = append(full.EndpointSlices, e)
		small.EndpointSlices = append(small.EndpointSlices, must(shrinkEndpointSlice(e.DeepCopy())).(*discoveryv1.EndpointSlice))
	}
	for _, u := range ses {
		se, err := model.ServiceEntryFromUnstructured(u)
		if err != nil {
			t.Fatal(err)
		}
		full.ServiceEntries = append(full.ServiceEntries, se)
		su, err := model.ServiceEntryFromUnstructured(must(shrinkServiceEntry(u.DeepCopy())).(*unstructured.Unstructured))
		if err != nil {
			t.Fatal(err)
		}
		small.ServiceEntries = append(small.ServiceEntries, su)
	}
	records := func(o *model.Objects) []string {
		tab, rep, err := model.Build(o, model.DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Problems) > 0 {
			t.Logf("problems: %v", rep.Problems)
		}
		var out []string
		for _, r := range tab.Records() {
			out = append(out, r.String()+" ; "+r.Source)
		}
		slices.Sort(out)
		return out
	}
	want, got := records(full), records(small)
	if len(want) < 10 {
		t.Fatalf("fixture builds only %d records: %v", len(want), want)
	}
	if !slices.Equal(got, want) {
		t.Errorf("shrunk objects build a different table:\n got %v\nwant %v", got, want)
	}
}
