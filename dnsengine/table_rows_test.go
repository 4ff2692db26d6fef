package dnsengine_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/sync/model"
	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// rowsService returns a Service with a cluster IP (none: headless) and
// named TCP ports.
func rowsService(name, ip string, ports ...int32) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}}
	s.Spec.ClusterIP = ip
	for i, p := range ports {
		s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: fmt.Sprintf("p%d", i), Protocol: corev1.ProtocolTCP, Port: p})
	}
	return s
}

// rowsSlice returns a ready EndpointSlice of Service svc: its addresses
// (an "addr=hostname" one has a hostname) and the first ports of the
// Service's names p0, p1, ...
func rowsSlice(svc, name string, v6 bool, ports int, addrs ...string) *discoveryv1.EndpointSlice {
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	if v6 {
		es.AddressType = discoveryv1.AddressTypeIPv6
	}
	tcp := corev1.ProtocolTCP
	for i := range ports {
		n, p := fmt.Sprintf("p%d", i), int32(8000+i)
		es.Ports = append(es.Ports, discoveryv1.EndpointPort{Name: &n, Protocol: &tcp, Port: &p})
	}
	ready := true
	for _, a := range addrs {
		e := discoveryv1.Endpoint{Conditions: discoveryv1.EndpointConditions{Ready: &ready}}
		if i := slices.Index([]byte(a), '='); i >= 0 {
			h := a[i+1:]
			a, e.Hostname = a[:i], &h
		}
		e.Addresses = []string{a}
		es.Endpoints = append(es.Endpoints, e)
	}
	return es
}

// rowsObjects are Services whose endpoints are held as rows or, where a
// row would not answer exactly as nodes and records do, are not.
func rowsObjects() *model.Objects {
	return &model.Objects{
		Services: []*corev1.Service{
			rowsService("web", "10.96.0.1", 80, 90),
			rowsService("api", "10.96.0.2", 80),
			rowsService("many", "10.96.0.3", 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99),
			rowsService("hl", corev1.ClusterIPNone, 80),
			// An alias of a row's name: its records follow the CNAME.
			{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "alias"},
				Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "10-1-0-3.web.ns.svc.cluster.local"}},
		},
		EndpointSlices: []*discoveryv1.EndpointSlice{
			// Rows: one of them the Service's own cluster IP (its reverse
			// name the Service's: no PTR of its own), one also an
			// endpoint of api (a reverse name of two groups), one whose
			// hostname is its dashed address. Not a row: a hostname.
			rowsSlice("web", "web-a", false, 2, "10.1.0.1", "10.96.0.1", "10.1.0.7=10-1-0-7", "10.1.0.2", "10.1.0.8=db-0"),
			// 10.1.0.2 again, its ports merged with web-a's.
			rowsSlice("web", "web-b", false, 1, "10.1.0.2", "10.1.0.3"),
			// IPv6 rows, one of them written in full in no label.
			rowsSlice("web", "web-c", true, 2, "fd00::1", "fd00:0:0:1::5", "2001:db8::10:0:0:1"),
			rowsSlice("api", "api-a", false, 1, "10.1.0.1", "10.1.0.4"),
			// More SRV records than a row derives: not a row.
			rowsSlice("many", "many-a", false, 20, "10.1.0.9"),
			rowsSlice("many", "many-b", false, 2, "10.1.0.10"),
			rowsSlice("hl", "hl-a", false, 1, "10.2.0.1", "10.2.0.2=h-2"),
		},
	}
}

// rowsEngine returns the grouped table of rowsObjects, built by
// model.Incremental, and an engine answering from it.
func rowsEngine(t *testing.T) (*dnsengine.Table, *dnsengine.Engine) {
	t.Helper()
	inc, err := model.NewIncremental(model.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	tab, _, err := inc.Apply(rowsObjects(), 1)
	if err != nil {
		t.Fatal(err)
	}
	e, err := dnsengine.New(dnsengine.DefaultConfig(), dnsengine.StaticRegistry{T: tab})
	if err != nil {
		t.Fatal(err)
	}
	return tab, e
}

// askTable asks e, answering from tab, the question name qt with ID id in
// a message of up to 4,096 bytes, and returns the response.
func askTable(t *testing.T, e *dnsengine.Engine, tab *dnsengine.Table, name string, qt, id uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qt)
	m.Id = id
	msg, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := e.AnswerMessage(tab, msg, 4096)
	resp := new(dns.Msg)
	if err := resp.Unpack(got); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return resp
}

// TestRowsMatchReference: the grouped table of rowsObjects, and of the
// changes that follow, holds exactly the rows expected and answers every
// query form (the addresses' other spellings among them) as the
// reference does.
func TestRowsMatchReference(t *testing.T) {
	opts := model.DefaultOptions()
	inc, err := model.NewIncremental(opts)
	if err != nil {
		t.Fatal(err)
	}
	objs := rowsObjects()
	// The rows' names but api's.
	rows := []string{
		"10-2-0-1.hl.ns.svc.cluster.local.",
		"10-1-0-10.many.ns.svc.cluster.local.",
		"10-1-0-1.web.ns.svc.cluster.local.", "10-1-0-2.web.ns.svc.cluster.local.", "10-1-0-3.web.ns.svc.cluster.local.",
		"10-1-0-7.web.ns.svc.cluster.local.", "10-96-0-1.web.ns.svc.cluster.local.", "2001-db8--10-0-0-1.web.ns.svc.cluster.local.",
		"fd00--1.web.ns.svc.cluster.local.", "fd00-0-0-1--5.web.ns.svc.cluster.local.",
	}
	withAPI := append([]string{"10-1-0-1.api.ns.svc.cluster.local.", "10-1-0-4.api.ns.svc.cluster.local."}, rows...)
	steps := []struct {
		name   string
		change func(*model.Objects)
		rows   []string
	}{
		{"first", func(*model.Objects) {}, withAPI},
		{"ports changed, a hostname given", func(o *model.Objects) {
			o.EndpointSlices[1] = rowsSlice("web", "web-b", false, 3, "10.1.0.2=w-2", "10.1.0.3")
		}, withAPI},
		{"api gone", func(o *model.Objects) {
			o.Services = slices.Delete(o.Services, 1, 2)
			o.EndpointSlices = slices.Delete(o.EndpointSlices, 3, 4)
		}, rows},
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, st := range steps {
		st.change(objs)
		tab, _, err := inc.Apply(objs, opts.Serial)
		if err != nil {
			t.Fatal(err)
		}
		got := dnsengine.TableRowNames(tab)
		slices.Sort(got)
		slices.Sort(st.rows)
		if d := cmp.Diff(st.rows, got); d != "" {
			t.Errorf("%s: rows (-want +got):\n%s", st.name, d)
		}
		_, ref := buildBoth(t, objs, opts)
		compareTables(t, r, tab, ref)
	}
}
