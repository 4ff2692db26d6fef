package model

import (
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshdns/meshdns/dnsengine"
)

// TestClusterIPFlips: a group rebuilt with the cluster IPs it had does not
// reach the groups whose endpoints hold one of them (the address is still
// a cluster IP; their PTR stays withheld), while a cluster IP that goes
// does, and the address gets its PTR.
func TestClusterIPFlips(t *testing.T) {
	svc := func(name, ip string) *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
			Spec:       corev1.ServiceSpec{ClusterIP: ip, ClusterIPs: []string{ip}, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
		}
	}
	slice := func(svcName, addr string) *discoveryv1.EndpointSlice {
		return &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: "ns", Name: svcName + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: svcName}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{addr}}},
		}
	}
	inc, err := NewIncremental(DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	// b's endpoint is at a's cluster IP.
	objs := &Objects{
		Services:       []*corev1.Service{svc("a", "10.96.0.10"), svc("b", "10.96.0.20")},
		EndpointSlices: []*discoveryv1.EndpointSlice{slice("a", "10.1.0.1"), slice("b", "10.96.0.10")},
	}
	if _, _, err := inc.Apply(objs, 1); err != nil {
		t.Fatal(err)
	}
	b := groupKey("ns", "b")
	ptr := netip.MustParseAddr("10.96.0.10")
	holders := func(tab *dnsengine.Table) []dnsengine.GroupKey { return tab.ReverseHolders(ptr) }
	built := inc.groups.get(b).g

	// a's slice changes, its Service does not: b stays as built.
	tab, _, err := inc.Apply(&Objects{Changes: &Changes{EndpointSlices: map[Key]*discoveryv1.EndpointSlice{{"ns", "a-1"}: slice("a", "10.1.0.2")}}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if inc.groups.get(b).g != built {
		t.Error("a change keeping a's cluster IP rebuilt b")
	}
	if got := holders(tab); !slices.Equal(got, []dnsengine.GroupKey{groupKey("ns", "a")}) {
		t.Errorf("reverse name of a's cluster IP held by %v, want a's group alone", got)
	}

	// a's cluster IP moves: b's endpoint address is no cluster IP any
	// more and gets its PTR.
	tab, _, err = inc.Apply(&Objects{Changes: &Changes{Services: map[Key]*corev1.Service{{"ns", "a"}: svc("a", "10.96.0.11")}}}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if inc.groups.get(b).g == built {
		t.Error("a's cluster IP went and b was not rebuilt")
	}
	if got := holders(tab); !slices.Equal(got, []dnsengine.GroupKey{b}) {
		t.Errorf("reverse name of 10.96.0.10 held by %v, want b's group", got)
	}
}
