package modeltest

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"github.com/meshdns/meshdns/sync/model"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ClusterConfig sizes a generated cluster.
type ClusterConfig struct {
	Services      int // spread round-robin over Namespaces
	Namespaces    int
	HeadlessEvery int // every n-th Service is headless, its endpoints named <svc>-<i> (0: none)
	Endpoints     int // ready endpoints per Service, in one EndpointSlice
	// ServiceEntries: every 4th has a wildcard host, every 4th (offset 1)
	// asks for an automatic VIP, the rest have a spec address.
	ServiceEntries int
	// Controllers fills in what Kubernetes's controllers write and DNS
	// does not read, shaped as in examples/objects.yaml (kubectl -o
	// yaml): a Service's app label and selector; an EndpointSlice's
	// owner, managed-by label, copied app label and trigger-time
	// annotation; an endpoint's serving and terminating conditions,
	// node, zone and Pod reference. The API server benchmarks set it:
	// the informers decode those fields before meshdns drops them.
	Controllers bool
}

// ScaleCluster is the shape the name table's memory and build targets are
// measured on, for n Services: 100 namespaces (fewer
// for small n), every 10th Service headless, 10 endpoints each, 100
// ServiceEntries.
func ScaleCluster(services int) ClusterConfig {
	return ClusterConfig{Services: services, Namespaces: min(100, max(1, services/100)), HeadlessEvery: 10, Endpoints: 10, ServiceEntries: 100}
}

// addrAt returns base + i.
func addrAt(base netip.Addr, i int) netip.Addr {
	b := base.As4()
	binary.BigEndian.PutUint32(b[:], binary.BigEndian.Uint32(b[:])+uint32(i))
	return netip.AddrFrom4(b)
}

var (
	serviceBase  = netip.MustParseAddr("10.96.0.0")
	endpointBase = netip.MustParseAddr("10.128.0.0")
	entryBase    = netip.MustParseAddr("10.95.0.0")
	created      = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Cluster generates the objects of c. Addresses are sequential: Services
// from 10.96.0.1, endpoints from 10.128.0.1, ServiceEntries from 10.95.0.1.
func Cluster(c ClusterConfig) *model.Objects {
	objs := &model.Objects{
		Services:       make([]*corev1.Service, 0, c.Services),
		EndpointSlices: make([]*discoveryv1.EndpointSlice, 0, c.Services),
	}
	ready := true
	proto := corev1.ProtocolTCP
	ep := 0
	for i := range c.Services {
		ns := fmt.Sprintf("ns-%d", i%max(c.Namespaces, 1))
		name := fmt.Sprintf("svc-%d", i)
		headless := c.HeadlessEvery > 0 && i%c.HeadlessEvery == c.HeadlessEvery-1
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
				{Name: "http", Protocol: proto, Port: 80},
				{Name: "grpc", Protocol: proto, Port: 9090},
			}},
		}
		if headless {
			svc.Spec.ClusterIP = corev1.ClusterIPNone
		} else {
			ip := addrAt(serviceBase, i+1).String()
			svc.Spec.ClusterIP, svc.Spec.ClusterIPs = ip, []string{ip}
		}
		objs.Services = append(objs.Services, svc)
		es := &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-abcde",
				Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports: []discoveryv1.EndpointPort{
				{Name: ptr("http"), Protocol: &proto, Port: ptr[int32](8080)},
				{Name: ptr("grpc"), Protocol: &proto, Port: ptr[int32](9090)},
			},
		}
		if c.Controllers {
			controllerFields(svc, es, i)
		}
		for j := range c.Endpoints {
			ep++
			e := discoveryv1.Endpoint{Addresses: []string{addrAt(endpointBase, ep).String()},
				Conditions: discoveryv1.EndpointConditions{Ready: &ready}}
			if headless {
				e.Hostname = ptr(fmt.Sprintf("%s-%d", name, j))
			}
			if c.Controllers {
				controllerEndpoint(&e, ns, name, ep)
			}
			es.Endpoints = append(es.Endpoints, e)
		}
		objs.EndpointSlices = append(objs.EndpointSlices, es)
	}
	for i := range c.ServiceEntries {
		se := &model.ServiceEntry{
			Namespace: fmt.Sprintf("ns-%d", i%max(c.Namespaces, 1)), Name: fmt.Sprintf("se-%d", i),
			CreationTimestamp: created.Add(time.Duration(i) * time.Second),
			Hosts:             []string{fmt.Sprintf("se-%d.example.com", i)},
			Resolution:        model.ResolutionStatic,
			Ports:             []model.ServiceEntryPort{{Number: 443, Name: "https", Protocol: "TLS"}},
		}
		switch i % 4 {
		case 0:
			se.Hosts = []string{fmt.Sprintf("*.se-%d.example.com", i)}
			se.Addresses = []string{addrAt(entryBase, i+1).String()}
		case 1:
			se.Resolution = model.ResolutionDNS
		default:
			se.Addresses = []string{addrAt(entryBase, i+1).String()}
		}
		objs.ServiceEntries = append(objs.ServiceEntries, se)
	}
	return objs
}

// controllerFields gives Service number i and its slice what the
// controllers write (ClusterConfig.Controllers).
func controllerFields(svc *corev1.Service, es *discoveryv1.EndpointSlice, i int) {
	app := map[string]string{"app": svc.Name}
	svc.Labels, svc.Spec.Selector = app, app
	es.Labels["app"] = svc.Name
	es.Labels[discoveryv1.LabelManagedBy] = "endpointslice-controller.k8s.io"
	es.Annotations = map[string]string{"endpoints.kubernetes.io/last-change-trigger-time": created.Format(time.RFC3339)}
	es.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: svc.Name,
		UID: uid(1, i), Controller: ptr(true), BlockOwnerDeletion: ptr(true)}}
}

// controllerEndpoint gives endpoint number ep, of a Pod of Service name in
// namespace ns, what the controllers write (ClusterConfig.Controllers).
func controllerEndpoint(e *discoveryv1.Endpoint, ns, name string, ep int) {
	e.Conditions.Serving, e.Conditions.Terminating = ptr(true), ptr(false)
	e.NodeName = ptr(fmt.Sprintf("node-%d", ep%100))
	e.Zone = ptr(fmt.Sprintf("zone-%c", 'a'+ep%3))
	pod := fmt.Sprintf("%s-6d8f7b9c5-%05d", name, ep%100000)
	if e.Hostname != nil {
		pod = *e.Hostname
	}
	e.TargetRef = &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: pod, UID: uid(2, ep)}
}

// uid is a UID in the form the API server gives, unique per kind and n.
func uid(kind, n int) types.UID {
	return types.UID(fmt.Sprintf("%08x-0000-4000-8000-%012x", kind, n))
}

func ptr[T any](v T) *T { return &v }
