package model

import (
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestEndpointsMerged: an address in two EndpointSlices of a Service is
// one endpoint with the ports of both, from the first, whether the
// Service has few addresses (a repeat found by a scan) or many (by a
// map, above fewEndpoints), and whether the second slice gives it no
// hostname or one that is its address dashed: the same name. (The table
// drops repeated records: a repeat not merged would not show in its
// answers.)
func TestEndpointsMerged(t *testing.T) {
	for _, tc := range []struct {
		n      int
		dashed bool // web-b's endpoints have their dashed address as hostname
	}{{2, false}, {fewEndpoints / 2, false}, {fewEndpoints/2 + 1, false}, {3 * fewEndpoints, false}, {2, true}, {3 * fewEndpoints, true}} {
		n := tc.n
		t.Run(fmt.Sprint(n, tc.dashed), func(t *testing.T) {
			svc := &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
				Spec:       corev1.ServiceSpec{ClusterIP: "10.96.0.1", Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
			}
			slice := func(name, port string, num int32) *discoveryv1.EndpointSlice {
				es := &discoveryv1.EndpointSlice{
					ObjectMeta:  metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
					AddressType: discoveryv1.AddressTypeIPv4,
					Ports:       []discoveryv1.EndpointPort{{Name: &port, Port: &num}},
				}
				for i := range n {
					e := discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("10.128.0.%d", i+1)}}
					if tc.dashed && name == "web-b" {
						e.Hostname = new(fmt.Sprintf("10-128-0-%d", i+1))
					}
					es.Endpoints = append(es.Endpoints, e)
				}
				return es
			}
			s := &state{o: &options{domain: "cluster.local"}, scratch: &buildScratch{epIdx: map[epKey]*epAddr{}}}
			si, ok := s.checkService(svc)
			if !ok {
				t.Fatal(s.rep.Problems)
			}
			eps := s.endpoints(&si, []*discoveryv1.EndpointSlice{slice("web-a", "http", 80), slice("web-b", "grpc", 9090)})
			if len(eps) != n {
				t.Fatalf("%d endpoints, want %d", len(eps), n)
			}
			ports := []epPort{{"http", "tcp", 80}, {"grpc", "tcp", 9090}}
			for i, e := range eps {
				owner := fmt.Sprintf("10-128-0-%d.web.ns.svc.cluster.local.", i+1)
				if e.owner != owner || e.label != owner[:len(e.label)] || !slices.Equal(e.ports, ports) || e.src != "EndpointSlice ns/web-a" {
					t.Errorf("endpoint %d: %s (label %s), ports %v, from %s; want %s, ports %v, from web-a", i, e.owner, e.label, e.ports, e.src, owner, ports)
				}
			}
		})
	}
}
