package model_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/sync/model"
	"github.com/meshdns/meshdns/sync/model/modeltest"
)

// TestPackedRoundTrip: objects packed and unpacked again build the table
// and the report the originals build (so the packed form keeps every
// field the model reads), and pack to the same bytes again. Random object
// sets have the corner cases (addresses not IPs, IPv6, unset ports and
// readiness, FQDN slices, no label); the scale cluster with the
// controllers' fields the common shape; edgeObjects addresses in forms
// that are IPs but not their canonical text.
func TestPackedRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	cases := []*model.Objects{
		modeltest.Cluster(modeltest.ClusterConfig{Services: 30, Namespaces: 3, HeadlessEvery: 3, Endpoints: 4, Controllers: true}),
		edgeObjects(),
	}
	for range 300 {
		cases = append(cases, modeltest.Random(r))
	}
	for i, objs := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			rt, enc, err := model.PackRoundTrip(objs)
			if err != nil {
				t.Fatal(err)
			}
			want, wantRep := tableOf(t, objs)
			got, gotRep := tableOf(t, rt)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("records after the round trip:\n%v\nwant\n%v", got, want)
			}
			if !reflect.DeepEqual(gotRep, wantRep) {
				t.Errorf("report after the round trip:\n%+v\nwant\n%+v", gotRep, wantRep)
			}
			_, again, err := model.PackRoundTrip(rt)
			if err != nil {
				t.Fatal(err)
			}
			for k, b := range enc {
				if !bytes.Equal(again[k], b) {
					t.Errorf("%s packs to %x after the round trip, %x before", k, again[k], b)
				}
			}
		})
	}
}

// TestPackedKeepsText: the fields read come back as given, addresses in
// the text they had whether or not it is an IP's canonical form.
func TestPackedKeepsText(t *testing.T) {
	objs := edgeObjects()
	rt, _, err := model.PackRoundTrip(objs)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range objs.Services {
		y := rt.Services[i]
		if y.Namespace != x.Namespace || y.Name != x.Name || !reflect.DeepEqual(y.Spec, x.Spec) {
			t.Errorf("Service %s: %+v after the round trip, want %+v", x.Name, y.Spec, x.Spec)
		}
	}
	for i, x := range objs.EndpointSlices {
		y := rt.EndpointSlices[i]
		if y.Namespace != x.Namespace || y.Name != x.Name || !reflect.DeepEqual(y.Labels, x.Labels) ||
			y.AddressType != x.AddressType || !reflect.DeepEqual(y.Ports, x.Ports) || !reflect.DeepEqual(y.Endpoints, x.Endpoints) {
			t.Errorf("EndpointSlice %s: %+v after the round trip, want %+v", x.Name, y, x)
		}
	}
}

// tableOf builds objs and returns its records, as text, and its report.
func tableOf(t *testing.T, objs *model.Objects) ([]string, model.Report) {
	t.Helper()
	tab, rep, err := model.Build(objs, model.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	return recordsAndSources(tab), rep
}

// recordsAndSources returns tab's records in zone-file notation, each
// with the objects it comes from, in the table's order.
func recordsAndSources(tab *dnsengine.Table) []string {
	var out []string
	for _, r := range tab.Records() {
		out = append(out, r.String()+" ; "+r.Source)
	}
	return out
}

// edgeObjects has addresses that are IPs in forms other than their
// canonical text (kept as text), IPv4-mapped IPv6 and zoned addresses,
// endpoints with several addresses and none, and ports out of range.
func edgeObjects() *model.Objects {
	ready, notReady := true, false
	host := "web-0"
	name, proto, port := "dns", corev1.ProtocolUDP, int32(-53)
	svc := func(name string, ips ...string) *corev1.Service {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}
		s.Spec.ClusterIP, s.Spec.ClusterIPs = ips[0], ips
		s.Spec.Ports = []corev1.ServicePort{{Name: "DNS", Protocol: "udp", Port: 53}, {Port: 70000}, {Name: "x", Port: -1}}
		return s
	}
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: "h-1", Labels: map[string]string{discoveryv1.LabelServiceName: "h"}},
		AddressType: discoveryv1.AddressTypeIPv6,
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Protocol: &proto, Port: &port}, {}},
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"::ffff:10.0.0.9"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}, Hostname: &host},
			{Addresses: []string{"FD00::1", "fd00::0:2", "fe80::1%eth0", "fd00::3"}},
			{Addresses: []string{"10.0.0.7", "10.0.0.8"}, Conditions: discoveryv1.EndpointConditions{Ready: &notReady}},
			{Addresses: []string{"010.0.0.1"}},
			{},
		},
	}
	v4 := es.DeepCopy()
	v4.Name, v4.AddressType = "h-2", discoveryv1.AddressTypeIPv4
	v4.Endpoints = append(v4.Endpoints, discoveryv1.Endpoint{Addresses: []string{"10.0.0.10"}, Hostname: new("")})
	headless := svc("h", "None")
	return &model.Objects{
		Services:       []*corev1.Service{headless, svc("a", "10.96.0.1", "FD00::A"), svc("b", "::ffff:10.96.0.2"), svc("c", "fe80::1%eth0")},
		EndpointSlices: []*discoveryv1.EndpointSlice{es, v4},
	}
}

// FuzzUnpack: any bytes unpack to an object or an error, without a
// panic; the packed forms of the round trip test's objects are the seeds.
func FuzzUnpack(f *testing.F) {
	_, enc, err := model.PackRoundTrip(edgeObjects())
	if err != nil {
		f.Fatal(err)
	}
	for k, b := range enc {
		f.Add(k[0] == 'S', b)
	}
	f.Fuzz(func(t *testing.T, service bool, b []byte) {
		if service {
			_ = model.UnpackService(b)
		} else {
			_ = model.UnpackSlice(b)
		}
	})
}
