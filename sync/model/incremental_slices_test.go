package model

import (
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestSliceHomes: a slice named after its Service's group needs no entry
// of its own (eslices); one named otherwise, one relabelled to another
// Service and one without a label do; each is found where it is filed
// when it changes, moves or goes, as deltas and as complete objects, and
// the table and report are Build's after every step.
func TestSliceHomes(t *testing.T) {
	svc := func(name string) *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
			Spec:       corev1.ServiceSpec{ClusterIP: "None", Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
		}
	}
	slice := func(name, svcName, addr string) *discoveryv1.EndpointSlice {
		es := &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: "ns", Name: name},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{addr}}},
		}
		if svcName != "" {
			es.Labels = map[string]string{discoveryv1.LabelServiceName: svcName}
		}
		return es
	}
	type step struct {
		slices  []*discoveryv1.EndpointSlice
		entries int // slices not filed where their name says
	}
	steps := []step{
		{[]*discoveryv1.EndpointSlice{slice("a-x1", "a", "10.1.0.1"), slice("b-x1", "b", "10.1.0.2"), slice("Web-x1", "web", "10.1.0.3")}, 0},
		// Named by hand, named after a but b's, and no label.
		{[]*discoveryv1.EndpointSlice{slice("a-x1", "a", "10.1.0.1"), slice("custom", "b", "10.1.0.4"), slice("a-x2", "b", "10.1.0.5"), slice("b-x2", "", "10.1.0.6")}, 3},
		// Moved: a-x2 back to a (its name's group), a-x1 to b.
		{[]*discoveryv1.EndpointSlice{slice("a-x1", "b", "10.1.0.1"), slice("custom", "b", "10.1.0.4"), slice("a-x2", "a", "10.1.0.7"), slice("b-x2", "b", "10.1.0.6")}, 2},
		// Changed where they are, and gone.
		{[]*discoveryv1.EndpointSlice{slice("a-x1", "b", "10.1.0.8"), slice("b-x2", "b", "10.1.0.9")}, 1},
		{nil, 0},
	}
	inc, err := NewIncremental(DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var prev *Objects
	for i, st := range steps {
		for _, whole := range []bool{false, true} {
			objs := &Objects{Services: []*corev1.Service{svc("a"), svc("b"), svc("web")}, EndpointSlices: st.slices}
			given := objs
			if prev != nil && !whole {
				ch := &Changes{EndpointSlices: map[Key]*discoveryv1.EndpointSlice{}}
				for _, x := range prev.EndpointSlices {
					ch.EndpointSlices[Key{x.Namespace, x.Name}] = nil
				}
				for _, x := range objs.EndpointSlices {
					ch.EndpointSlices[Key{x.Namespace, x.Name}] = x
				}
				given = &Objects{Changes: ch}
			}
			tab, rep, err := inc.Apply(given, uint32(i+1))
			if err != nil {
				t.Fatal(err)
			}
			want, wantRep := zoneOf(t, objs, DefaultOptions())
			got := objectRecords(tab)
			if !slices.Equal(got, want) || fmt.Sprint(rep) != fmt.Sprint(wantRep) {
				t.Errorf("step %d (whole %v): records %q, report %+v; Build: %q, %+v", i, whole, got, rep, want, wantRep)
			}
			if len(inc.eslices) != st.entries {
				t.Errorf("step %d (whole %v): %d slices with an entry of their own, want %d: %v", i, whole, len(inc.eslices), st.entries, inc.eslices)
			}
			prev = objs
		}
	}
}
