package kube

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/utils/ptr"

	"github.com/meshdns/meshdns/sync/model"
)

func service(ns, name string, ips ...string) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{
			Type:  corev1.ServiceTypeClusterIP,
			Ports: []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}},
		},
	}
	if len(ips) > 0 {
		s.Spec.ClusterIP = ips[0]
		s.Spec.ClusterIPs = ips
	}
	return s
}

func endpointSlice(ns, name, svc string, ready bool, hostname string, addrs ...string) *discoveryv1.EndpointSlice {
	e := discoveryv1.Endpoint{Addresses: addrs, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready)}}
	if hostname != "" {
		e.Hostname = ptr.To(hostname)
	}
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{e},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To[int32](8080)}},
	}
}

func serviceEntry(version, ns, name string, hosts []string, addrs []string) *unstructured.Unstructured {
	spec := map[string]any{"hosts": toAny(hosts), "resolution": "STATIC"}
	if len(addrs) > 0 {
		spec["addresses"] = toAny(addrs)
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": model.ServiceEntryGroup + "/" + version,
		"kind":       "ServiceEntry",
		"metadata": map[string]any{
			"namespace": ns, "name": name,
			"annotations": map[string]any{"kubectl.kubernetes.io/last-applied-configuration": "{}"},
		},
		"spec": spec,
	}}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func seGVR(version string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: model.ServiceEntryGroup, Version: version, Resource: "serviceentries"}
}

// newDynamic returns a fake dynamic client that knows ServiceEntry lists at
// both versions.
func newDynamic(objs ...runtime.Object) *dynfake.FakeDynamicClient {
	return dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		seGVR("v1"):      "ServiceEntryList",
		seGVR("v1beta1"): "ServiceEntryList",
	}, objs...)
}

// harness runs a Source and collects its updates.
type harness struct {
	t       *testing.T
	src     *Source
	updates chan *model.Objects
	raw     chan *model.Objects // the updates as sent: deltas unpatched
	cancel  context.CancelFunc
	done    chan error
}

func start(t *testing.T, cfg Config) *harness {
	t.Helper()
	src, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, src: src, updates: make(chan *model.Objects, 100), raw: make(chan *model.Objects, 1000), cancel: cancel, done: make(chan error, 1)}
	// Deltas are applied to the previous update, so that tests read
	// complete objects.
	var view *model.Objects
	go func() {
		h.done <- src.Run(ctx, func(o *model.Objects) {
			h.raw <- o
			if o.Changes != nil {
				if view == nil {
					t.Errorf("a delta before the first complete update")
					return
				}
				o = view.Patch(o.Changes)
			}
			view = o
			h.updates <- o
		})
	}()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run: %v", err)
		}
		h.done <- nil
	case <-time.After(30 * time.Second):
		h.t.Error("Run did not return after cancel")
	}
}

// waitFor returns the first update for which ok holds, failing the test
// after a generous timeout.
func (h *harness) waitFor(what string, ok func(*model.Objects) bool) *model.Objects {
	h.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case o := <-h.updates:
			if ok(o) {
				return o
			}
		case <-deadline:
			h.t.Fatalf("no update with %s", what)
		}
	}
}

func names(o *model.Objects) (svcs, slices, entries []string) {
	for _, s := range o.Services {
		svcs = append(svcs, s.Namespace+"/"+s.Name)
	}
	for _, e := range o.EndpointSlices {
		slices = append(slices, e.Namespace+"/"+e.Name)
	}
	for _, e := range o.ServiceEntries {
		entries = append(entries, e.Namespace+"/"+e.Name)
	}
	return
}

func fmtNames(o *model.Objects) string {
	s, e, se := names(o)
	return fmt.Sprintf("services %v slices %v entries %v", s, e, se)
}
