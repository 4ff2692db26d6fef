package model_test

import (
	"runtime"
	"testing"
	"weak"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/meshdns/meshdns/sync/model"
	"github.com/meshdns/meshdns/sync/model/modeltest"
)

// TestIncrementalKeepsNoObjects: once Apply returns, Incremental holds no
// Service or EndpointSlice it was handed (it keeps them packed), whether
// they came as complete Objects or as a delta; the table still answers
// for them.
func TestIncrementalKeepsNoObjects(t *testing.T) {
	inc, err := model.NewIncremental(model.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var svcs []weak.Pointer[corev1.Service]
	var eps []weak.Pointer[discoveryv1.EndpointSlice]
	watch := func(o *model.Objects) {
		for _, x := range o.Services {
			svcs = append(svcs, weak.Make(x))
		}
		for _, x := range o.EndpointSlices {
			eps = append(eps, weak.Make(x))
		}
		if ch := o.Changes; ch != nil {
			for _, x := range ch.Services {
				svcs = append(svcs, weak.Make(x))
			}
			for _, x := range ch.EndpointSlices {
				eps = append(eps, weak.Make(x))
			}
		}
	}
	func() {
		objs := modeltest.Cluster(modeltest.ScaleCluster(20))
		watch(objs)
		if _, _, err := inc.Apply(objs, 1); err != nil {
			t.Fatal(err)
		}
		next := modeltest.Cluster(modeltest.ScaleCluster(30)) // ten more Services, the first twenty again
		delta := &model.Objects{Changes: &model.Changes{
			Services:       map[model.Key]*corev1.Service{},
			EndpointSlices: map[model.Key]*discoveryv1.EndpointSlice{},
		}}
		for _, x := range next.Services {
			delta.Changes.Services[model.Key{Namespace: x.Namespace, Name: x.Name}] = x
		}
		for _, x := range next.EndpointSlices {
			delta.Changes.EndpointSlices[model.Key{Namespace: x.Namespace, Name: x.Name}] = x
		}
		watch(delta)
		tab, rep, err := inc.Apply(delta, 2)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Services.Loaded != 30 || rep.EndpointSlices.Loaded != 30 || tab.Groups() != 30 {
			t.Fatalf("loaded %d Services, %d slices, %d groups; want 30 each", rep.Services.Loaded, rep.EndpointSlices.Loaded, tab.Groups())
		}
	}()
	runtime.GC()
	runtime.GC()
	alive := 0
	for _, w := range svcs {
		if w.Value() != nil {
			alive++
		}
	}
	for _, w := range eps {
		if w.Value() != nil {
			alive++
		}
	}
	if alive > 0 || len(svcs) == 0 || len(eps) == 0 {
		t.Fatalf("%d of the %d objects handed to Apply are still reachable", alive, len(svcs)+len(eps))
	}
	// And the next change still finds the objects it did not touch.
	tab, rep, err := inc.Apply(&model.Objects{Changes: &model.Changes{
		Services: map[model.Key]*corev1.Service{},
	}}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Services.Loaded != 30 || tab.Groups() != 30 {
		t.Fatalf("after an empty delta: %d Services, %d groups; want 30", rep.Services.Loaded, tab.Groups())
	}
}
