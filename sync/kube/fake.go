package kube

import (
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// FakeDiscovery is a Discovery for tests. It serves a settable set of group
// versions and is safe for concurrent use (client-go's FakeDiscovery is
// not, which matters when the CRD "appears" while the source runs).
type FakeDiscovery struct {
	mu     sync.Mutex
	served map[string][]string // group/version -> resource names
	err    error
}

// NewFakeDiscovery serves serviceentries at each group/version in gvs
// (for example "networking.istio.io/v1").
func NewFakeDiscovery(gvs ...string) *FakeDiscovery {
	d := &FakeDiscovery{served: map[string][]string{}}
	for _, gv := range gvs {
		d.served[gv] = []string{"serviceentries"}
	}
	return d
}

// Set serves gv with the given resources.
func (d *FakeDiscovery) Set(gv string, resources ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.served[gv] = resources
}

// SetError makes every request fail with err; nil clears it.
func (d *FakeDiscovery) SetError(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.err = err
}

// ServerResourcesForGroupVersion implements Discovery: NotFound for a
// group version that is not served, as the API server answers.
func (d *FakeDiscovery) ServerResourcesForGroupVersion(gv string) (*metav1.APIResourceList, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return nil, d.err
	}
	rs, ok := d.served[gv]
	if !ok {
		g, v, _ := strings.Cut(gv, "/")
		return nil, apierrors.NewNotFound(schema.GroupResource{Group: g, Resource: v}, "")
	}
	l := &metav1.APIResourceList{GroupVersion: gv}
	for _, r := range rs {
		l.APIResources = append(l.APIResources, metav1.APIResource{Name: r, Namespaced: true})
	}
	return l, nil
}

// FakeObserver is an Observer for tests: it records what it is told.
type FakeObserver struct {
	mu            sync.Mutex
	watchErrors   map[string]int
	requestErrors map[string]int
	synced        bool
	objects       map[string]int
}

// NewFakeObserver returns an empty FakeObserver.
func NewFakeObserver() *FakeObserver {
	return &FakeObserver{watchErrors: map[string]int{}, requestErrors: map[string]int{}, objects: map[string]int{}}
}

// WatchError implements Observer.
func (o *FakeObserver) WatchError(resource string, _ error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.watchErrors[resource]++
}

// RequestError implements Observer.
func (o *FakeObserver) RequestError(resource string, _ error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requestErrors[resource]++
}

// SetSynced implements Observer.
func (o *FakeObserver) SetSynced(v bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.synced = v
}

// SetObjects implements Observer.
func (o *FakeObserver) SetObjects(kind string, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.objects[kind] = n
}

// WatchErrors returns the watch errors counted for resource.
func (o *FakeObserver) WatchErrors(resource string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.watchErrors[resource]
}

// RequestErrors returns the request errors counted for resource.
func (o *FakeObserver) RequestErrors(resource string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.requestErrors[resource]
}

// Synced returns the last SetSynced value.
func (o *FakeObserver) Synced() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.synced
}

// Objects returns the last count set for kind.
func (o *FakeObserver) Objects(kind string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.objects[kind]
}

var (
	_ Observer  = (*FakeObserver)(nil)
	_ Discovery = (*FakeDiscovery)(nil)
)
