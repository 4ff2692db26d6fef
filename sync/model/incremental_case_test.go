package model_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/meshdns/meshdns/sync/model"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestIncrementalCaseVariants (from a review): random sequences of
// Services and slices whose names and labels are case variants of each
// other, slices named after other groups, relabelled and unlabelled,
// applied as deltas and as complete objects: every table equals Build's
// of the same objects.
func TestIncrementalCaseVariants(t *testing.T) {
	nss := []string{"default", "prod"}
	svcNames := []string{"web", "db", "web-0", "a"}
	labels := []string{"web", "Web", "WEB", "db", "web-0", "a", "b"}
	sliceNames := []string{"web-1", "web-2", "db-x", "web", "web-0-a", "a-b", "b-z", "x"}
	addrs := []string{"10.0.0.1", "10.0.0.2", "10.96.0.1", "10.96.0.2", "fd00::1"}
	hosts := []string{"", "", "h", "H", "10-0-0-1"}
	mkSvc := func(r *rand.Rand, ns, name string) *corev1.Service {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		switch r.IntN(3) {
		case 0:
			s.Spec.ClusterIP = "None"
		default:
			ip := addrs[2+r.IntN(3)]
			s.Spec.ClusterIP, s.Spec.ClusterIPs = ip, []string{ip}
		}
		s.Spec.Ports = []corev1.ServicePort{{Name: "http", Port: 80}}
		return s
	}
	mkSlice := func(r *rand.Rand, ns, name string) *discoveryv1.EndpointSlice {
		es := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, AddressType: discoveryv1.AddressTypeIPv4}
		if r.IntN(6) > 0 {
			es.Labels = map[string]string{discoveryv1.LabelServiceName: labels[r.IntN(len(labels))]}
		}
		p, pn := int32(8080), "http"
		es.Ports = []discoveryv1.EndpointPort{{Name: &pn, Port: &p}}
		for range r.IntN(4) {
			e := discoveryv1.Endpoint{Addresses: []string{addrs[r.IntN(len(addrs))]}}
			if h := hosts[r.IntN(len(hosts))]; h != "" {
				e.Hostname = &h
			}
			es.Endpoints = append(es.Endpoints, e)
		}
		return es
	}
	type key struct{ ns, name string }
	for run := range 500 {
		r := rand.New(rand.NewPCG(uint64(run), 11))
		inc, err := model.NewIncremental(model.DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		svcs := map[key]*corev1.Service{}
		sls := map[key]*discoveryv1.EndpointSlice{}
		for step := range 10 {
			ch := &model.Changes{Services: map[model.Key]*corev1.Service{}, EndpointSlices: map[model.Key]*discoveryv1.EndpointSlice{}}
			for range 1 + r.IntN(4) {
				ns := nss[r.IntN(len(nss))]
				if r.IntN(2) == 0 {
					k := key{ns, svcNames[r.IntN(len(svcNames))]}
					var x *corev1.Service
					if r.IntN(4) > 0 {
						x = mkSvc(r, k.ns, k.name)
						svcs[k] = x
					} else {
						delete(svcs, k)
					}
					ch.Services[model.Key{Namespace: k.ns, Name: k.name}] = x
				} else {
					k := key{ns, sliceNames[r.IntN(len(sliceNames))]}
					var x *discoveryv1.EndpointSlice
					if r.IntN(4) > 0 {
						x = mkSlice(r, k.ns, k.name)
						sls[k] = x
					} else {
						delete(sls, k)
					}
					ch.EndpointSlices[model.Key{Namespace: k.ns, Name: k.name}] = x
				}
			}
			objs := &model.Objects{}
			for _, x := range svcs {
				objs.Services = append(objs.Services, x)
			}
			for _, x := range sls {
				objs.EndpointSlices = append(objs.EndpointSlices, x)
			}
			given := objs
			if step > 0 && r.IntN(2) == 0 {
				given = &model.Objects{Changes: ch}
			}
			tab, rep, err := inc.Apply(given, uint32(step+1))
			if err != nil {
				t.Fatal(err)
			}
			want, wantRep := tableOf(t, objs)
			got := recordsAndSources(tab)
			if !reflect.DeepEqual(got, want) || fmt.Sprint(rep) != fmt.Sprint(wantRep) {
				t.Fatalf("run %d step %d (delta %v):\n got %q\n%+v\nwant %q\n%+v", run, step, given.Changes != nil, got, rep, want, wantRep)
			}
		}
	}
}
