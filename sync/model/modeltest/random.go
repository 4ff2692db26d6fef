package modeltest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/meshdns/meshdns/sync/model"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Pools Random draws from: small, so that names, addresses and hosts
// collide (a Service IP reused by an endpoint, an ExternalName pointing at
// another Service or a ServiceEntry host, two slices naming one endpoint).
var (
	randNamespaces = []string{"default", "prod", "kube-system", "Bad_NS"}
	randServices   = []string{"web", "db", "api", "web-0", "x", "Bad_Svc"}
	randHostnames  = []string{"", "", "web-0", "a", "b", "Bad_host"}
	randPortNames  = []string{"http", "grpc", "", "HTTP", "dns-tcp", "bad_port"}
	randProtocols  = []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP, ""}
	randAddrs4     = []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.96.0.10", "10.96.0.11", "10.244.1.7"}
	randAddrs6     = []string{"fd00::1", "fd00::2", "fd00:10:96::a", "2001:db8::7"}
	randTargets    = []string{"web.default.svc.cluster.local", "db.prod.svc.cluster.local", "ext.example.com",
		"a.wild.example.com", "example.org", "api.internal", "x.default.svc.cluster.local.", "10.0.0.1", ""}
	randSEHosts = []string{"ext.example.com", "*.wild.example.com", "web.default.svc.cluster.local", "api.internal",
		"*.internal", "deep.a.wild.example.com", "Ext.Example.Com.", "*.default.svc.cluster.local", "bad host"}
	randSEAddrs = []string{"10.100.0.1", "10.100.0.2/32", "10.0.0.1", "fd00:100::1", "10.100.0.0/24", "240.240.0.7", "bogus"}
)

func pick[T any](r *rand.Rand, pool []T) T { return pool[r.IntN(len(pool))] }

// Random returns a small object set drawn from r with the corner cases of
// name building: every Service kind, dual stack, named and unnamed ports,
// hostnames valid and not, not-ready endpoints, orphan and FQDN slices,
// ServiceEntries with addresses, wildcards, automatic and status VIPs,
// hosts that collide with Services.
func Random(r *rand.Rand) *model.Objects {
	objs := &model.Objects{}
	type key struct{ ns, name string }
	seen := map[key]bool{}
	for range r.IntN(9) {
		k := key{pick(r, randNamespaces), pick(r, randServices)}
		if seen[k] {
			continue
		}
		seen[k] = true
		objs.Services = append(objs.Services, randomService(r, k.ns, k.name))
	}
	keys := make([]key, 0, len(seen))
	for _, s := range objs.Services {
		keys = append(keys, key{s.Namespace, s.Name})
	}
	for i := range r.IntN(10) {
		k := key{pick(r, randNamespaces), pick(r, randServices)}
		if len(keys) > 0 && r.IntN(4) > 0 {
			k = pick(r, keys)
		}
		objs.EndpointSlices = append(objs.EndpointSlices, randomSlice(r, k.ns, k.name, i))
	}
	for i := range r.IntN(6) {
		objs.ServiceEntries = append(objs.ServiceEntries, randomEntry(r, i))
	}
	return objs
}

func randomService(r *rand.Rand, ns, name string) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	s.Spec.PublishNotReadyAddresses = r.IntN(4) == 0
	switch r.IntN(6) {
	case 0:
		s.Spec.ClusterIP = corev1.ClusterIPNone
	case 1:
		s.Spec.Type = corev1.ServiceTypeExternalName
		s.Spec.ExternalName = pick(r, randTargets)
	case 2:
		a, b := pick(r, randAddrs4), pick(r, randAddrs6)
		if r.IntN(2) == 0 {
			a, b = b, a
		}
		s.Spec.ClusterIP, s.Spec.ClusterIPs = a, []string{a, b}
	default:
		a := pick(r, randAddrs4)
		if r.IntN(5) == 0 {
			a = pick(r, randAddrs6)
		}
		s.Spec.ClusterIP = a
		if r.IntN(2) == 0 {
			s.Spec.ClusterIPs = []string{a}
		}
	}
	for range r.IntN(3) {
		p := corev1.ServicePort{Name: pick(r, randPortNames), Protocol: pick(r, randProtocols), Port: int32(pick(r, []int{53, 80, 443, 0, 70000}))}
		s.Spec.Ports = append(s.Spec.Ports, p)
	}
	return s
}

func randomSlice(r *rand.Rand, ns, svc string, i int) *discoveryv1.EndpointSlice {
	es := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-%d", svc, i),
		Labels: map[string]string{discoveryv1.LabelServiceName: svc}}}
	if r.IntN(12) == 0 {
		es.Labels = nil
	}
	v6 := r.IntN(3) == 0
	es.AddressType = discoveryv1.AddressTypeIPv4
	pool := randAddrs4
	if v6 {
		es.AddressType, pool = discoveryv1.AddressTypeIPv6, randAddrs6
	}
	if r.IntN(15) == 0 {
		es.AddressType = discoveryv1.AddressTypeFQDN
	}
	for range r.IntN(3) {
		p := discoveryv1.EndpointPort{}
		if n := pick(r, randPortNames); n != "" || r.IntN(2) == 0 {
			p.Name = &n
		}
		if pr := pick(r, randProtocols); pr != "" {
			p.Protocol = &pr
		}
		if r.IntN(6) > 0 {
			p.Port = ptr(int32(pick(r, []int{8080, 53, 9090, 0})))
		}
		es.Ports = append(es.Ports, p)
	}
	for range r.IntN(5) {
		e := discoveryv1.Endpoint{}
		for range 1 + r.IntN(2) {
			a := pick(r, pool)
			if r.IntN(20) == 0 {
				a = "not-an-ip"
			}
			e.Addresses = append(e.Addresses, a)
		}
		switch r.IntN(4) {
		case 0:
			e.Conditions.Ready = ptr(false)
		case 1:
			e.Conditions.Ready = ptr(true)
		}
		if h := pick(r, randHostnames); h != "" {
			e.Hostname = &h
		}
		es.Endpoints = append(es.Endpoints, e)
	}
	return es
}

func randomEntry(r *rand.Rand, i int) *model.ServiceEntry {
	se := &model.ServiceEntry{
		Namespace:         pick(r, randNamespaces[:3]),
		Name:              fmt.Sprintf("se-%d", i),
		CreationTimestamp: created.Add(time.Duration(r.IntN(4)) * time.Hour),
		Resolution:        pick(r, []string{model.ResolutionStatic, model.ResolutionDNS, model.ResolutionNone, ""}),
	}
	for range 1 + r.IntN(3) {
		se.Hosts = append(se.Hosts, pick(r, randSEHosts))
	}
	if r.IntN(2) == 0 {
		for range 1 + r.IntN(2) {
			se.Addresses = append(se.Addresses, pick(r, randSEAddrs))
		}
	}
	if r.IntN(5) == 0 {
		se.Labels = map[string]string{model.LabelAutoAllocate: "false"}
	}
	if r.IntN(4) == 0 {
		se.StatusAddresses = append(se.StatusAddresses, model.ServiceEntryAddress{Value: pick(r, []string{"240.240.0.9", "2001:2::9", "bogus"}), Host: pick(r, append([]string{""}, se.Hosts...))})
	}
	return se
}

// RandomOptions returns build options drawn from r: automatic VIPs, extra
// authoritative zones and a namespace filter vary.
func RandomOptions(r *rand.Rand) model.Options {
	o := model.DefaultOptions()
	o.AutoAllocate = r.IntN(4) > 0
	switch r.IntN(4) {
	case 0:
		o.Zones = []string{"cluster.local", "example.com"}
	case 1:
		o.Zones = []string{"cluster.local", "0.10.in-addr.arpa"}
	}
	if r.IntN(5) == 0 {
		o.Namespaces = []string{"default", "kube-system"}
	}
	return o
}

// Mutate returns objs changed as a cluster changes between two updates:
// each object kept (the same pointer), dropped, or replaced by a new
// random one of the same namespace and name (a slice may then name
// another Service), and a few objects added. objs is not changed.
func Mutate(r *rand.Rand, objs *model.Objects) *model.Objects {
	out := &model.Objects{}
	type key struct{ ns, name string }
	seen := map[key]bool{}
	for _, s := range objs.Services {
		seen[key{s.Namespace, s.Name}] = true
		switch r.IntN(6) {
		case 0:
		case 1, 2:
			out.Services = append(out.Services, randomService(r, s.Namespace, s.Name))
		default:
			out.Services = append(out.Services, s)
		}
	}
	for range r.IntN(3) {
		k := key{pick(r, randNamespaces), pick(r, randServices)}
		if !seen[k] {
			seen[k] = true
			out.Services = append(out.Services, randomService(r, k.ns, k.name))
		}
	}
	names := map[key]bool{}
	for _, es := range objs.EndpointSlices {
		names[key{es.Namespace, es.Name}] = true
		switch r.IntN(6) {
		case 0:
		case 1, 2:
			svc := es.Labels[discoveryv1.LabelServiceName]
			if svc == "" || r.IntN(4) == 0 {
				svc = pick(r, randServices)
			}
			n := randomSlice(r, es.Namespace, svc, 0)
			n.Name = es.Name
			out.EndpointSlices = append(out.EndpointSlices, n)
		default:
			out.EndpointSlices = append(out.EndpointSlices, es)
		}
	}
	for i := range r.IntN(4) {
		n := randomSlice(r, pick(r, randNamespaces), pick(r, randServices), 100+r.IntN(1000)+i)
		if !names[key{n.Namespace, n.Name}] {
			names[key{n.Namespace, n.Name}] = true
			out.EndpointSlices = append(out.EndpointSlices, n)
		}
	}
	out.ServiceEntries = objs.ServiceEntries
	if r.IntN(3) == 0 {
		out.ServiceEntries = nil
		for i := range r.IntN(6) {
			out.ServiceEntries = append(out.ServiceEntries, randomEntry(r, i))
		}
	}
	return out
}
