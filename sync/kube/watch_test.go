package kube

import (
	"context"
	"fmt"
	"maps"
	goruntime "runtime"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"

	"github.com/meshdns/meshdns/sync/kube/kubeclient"
	"github.com/meshdns/meshdns/sync/kube/kubeclient/kubeclienttest"
	"github.com/meshdns/meshdns/sync/model"
)

// TestNote: what the watcher notes of each change.
func TestNote(t *testing.T) {
	svc := func(name, rv string) *corev1.Service {
		s := service("ns", name)
		s.ResourceVersion = rv
		return s
	}
	type step struct {
		d    cache.Delta
		want bool // noted in pending
	}
	tests := []struct {
		name  string
		steps []step
		known []string // keys known at the end
	}{
		{name: "added", steps: []step{{cache.Delta{Type: cache.Added, Object: svc("a", "1")}, true}}, known: []string{"ns/a"}},
		{name: "relist replays the same version", steps: []step{
			{cache.Delta{Type: cache.Added, Object: svc("a", "1")}, true},
			{cache.Delta{Type: cache.Replaced, Object: svc("a", "1")}, false},
		}, known: []string{"ns/a"}},
		{name: "relist brings a new version", steps: []step{
			{cache.Delta{Type: cache.Added, Object: svc("a", "1")}, true},
			{cache.Delta{Type: cache.Replaced, Object: svc("a", "2")}, true},
		}, known: []string{"ns/a"}},
		{name: "updated", steps: []step{
			{cache.Delta{Type: cache.Added, Object: svc("a", "1")}, true},
			{cache.Delta{Type: cache.Updated, Object: svc("a", "2")}, true},
		}, known: []string{"ns/a"}},
		{name: "no version: always a change", steps: []step{
			{cache.Delta{Type: cache.Added, Object: svc("a", "")}, true},
			{cache.Delta{Type: cache.Replaced, Object: svc("a", "")}, true},
		}, known: []string{"ns/a"}},
		{name: "version not a number: always a change", steps: []step{
			{cache.Delta{Type: cache.Added, Object: svc("a", "v1")}, true},
			{cache.Delta{Type: cache.Replaced, Object: svc("a", "v1")}, true},
		}, known: []string{"ns/a"}},
		{name: "deleted", steps: []step{
			{cache.Delta{Type: cache.Added, Object: svc("a", "1")}, true},
			{cache.Delta{Type: cache.Deleted, Object: svc("a", "1")}, true},
		}},
		{name: "missing from a relist", steps: []step{
			{cache.Delta{Type: cache.Added, Object: svc("a", "1")}, true},
			{cache.Delta{Type: cache.Added, Object: svc("b", "1")}, true},
			{cache.Delta{Type: cache.Deleted, Object: cache.DeletedFinalStateUnknown{Key: "ns/a", Obj: cache.ExplicitKey("ns/a")}}, true},
		}, known: []string{"ns/b"}},
		{name: "deletion of one never seen", steps: []step{
			{cache.Delta{Type: cache.Deleted, Object: svc("a", "1")}, false},
		}},
		{name: "resync", steps: []step{
			{cache.Delta{Type: cache.Added, Object: svc("a", "1")}, true},
			{cache.Delta{Type: cache.Sync, Object: cache.ExplicitKey("ns/a")}, false},
		}, known: []string{"ns/a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Source{dirty: make(chan struct{}, 1)}
			w := &watcher{resource: "services", known: newKnown()}
			for i, st := range tc.steps {
				s.note(w, st.d)
				svcs, _, _ := s.pending.take()
				if got := len(svcs) == 1; got != st.want {
					t.Fatalf("step %d (%s): noted %v, want %v", i, st.d.Type, svcs, st.want)
				}
				if !st.want {
					continue
				}
				var got *corev1.Service // the one noted
				for _, o := range svcs {
					got = o
				}
				if st.d.Type == cache.Deleted {
					if got != nil {
						t.Fatalf("step %d: deletion noted as %v, want nil", i, got)
					}
				} else if got != st.d.Object {
					t.Fatalf("step %d: noted %v, want the delta's object", i, got)
				}
			}
			var keys []string
			for _, n := range w.known.names() {
				keys = append(keys, n.String())
			}
			slices.Sort(keys)
			if !slices.Equal(keys, tc.known) || w.known.len() != len(tc.known) {
				t.Fatalf("known %v (len %d), want %v", keys, w.known.len(), tc.known)
			}
		})
	}
}

// flakyClient is a kubeclient.Interface whose lists and watches of
// Services and EndpointSlices can be broken: down stops every watch and
// fails the lists and watches that follow (503) until up.
type flakyClient struct {
	kubeclient.Interface
	cs kubernetes.Interface

	mu      sync.Mutex
	down    bool
	watches []watch.Interface
	lists   map[kubeclient.Resource]int // successful lists
}

func newFlakyClient(cs kubernetes.Interface) *flakyClient {
	return &flakyClient{Interface: kubeclienttest.FromClientset(cs), cs: cs, lists: map[kubeclient.Resource]int{}}
}

func (c *flakyClient) ListWatch(r kubeclient.Resource, ns, fieldSelector string) cache.ListerWatcher {
	lw := cache.ToListerWatcherWithContext(c.Interface.ListWatch(r, ns, fieldSelector))
	unavailable := apierrors.NewServiceUnavailable("apiserver restarting")
	return cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.down {
				return nil, unavailable
			}
			c.lists[r]++
			return lw.ListWithContext(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.down {
				return nil, unavailable
			}
			w, err := lw.WatchWithContext(ctx, o)
			if err == nil {
				c.watches = append(c.watches, w)
			}
			return w, err
		},
	}, c.cs)
}

// setDown breaks (true) or restores (false) the lists and watches.
func (c *flakyClient) setDown(down bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down = down
	if down {
		for _, w := range c.watches {
			w.Stop()
		}
		c.watches = nil
	}
}

func (c *flakyClient) listed(r kubeclient.Resource) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lists[r]
}

// TestRelist: after a broken watch the watchers relist. Objects the
// relist replays unchanged are not sent again; one deleted while the watch
// was down comes as a deletion; one changed comes as a change.
func TestRelist(t *testing.T) {
	versioned := func(o metav1.Object, rv string) runtime.Object {
		o.SetResourceVersion(rv)
		return o.(runtime.Object)
	}
	var initial []runtime.Object
	for _, n := range []string{"a", "b", "c"} {
		initial = append(initial,
			versioned(service("default", n, "10.0.0.1"), "1"),
			versioned(endpointSlice("default", n+"-x", n, true, "", "10.1.0.1"), "1"))
	}
	tests := []struct {
		name string
		// whileDown changes the cluster while the watches are down.
		whileDown func(ctx context.Context, cs kubernetes.Interface) error
		// The changes expected after the relist: the new resourceVersion
		// of each object, "" for one deleted.
		wantServices, wantSlices map[string]string
	}{
		{
			name: "unchanged objects replayed: only the one changed is sent",
			whileDown: func(ctx context.Context, cs kubernetes.Interface) error {
				if _, err := cs.CoreV1().Services("default").Update(ctx, versioned(service("default", "c", "10.0.0.3"), "2").(*corev1.Service), metav1.UpdateOptions{}); err != nil {
					return err
				}
				_, err := cs.DiscoveryV1().EndpointSlices("default").Update(ctx, versioned(endpointSlice("default", "c-x", "c", false, "", "10.1.0.1"), "2").(*discoveryv1.EndpointSlice), metav1.UpdateOptions{})
				return err
			},
			wantServices: map[string]string{"c": "2"},
			wantSlices:   map[string]string{"c-x": "2"},
		},
		{
			name: "deleted while the watch was down: a deletion",
			whileDown: func(ctx context.Context, cs kubernetes.Interface) error {
				if err := cs.CoreV1().Services("default").Delete(ctx, "b", metav1.DeleteOptions{}); err != nil {
					return err
				}
				return cs.DiscoveryV1().EndpointSlices("default").Delete(ctx, "b-x", metav1.DeleteOptions{})
			},
			wantServices: map[string]string{"b": ""},
			wantSlices:   map[string]string{"b-x": ""},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cs := k8sfake.NewClientset(initial...)
			fc := newFlakyClient(cs)
			obs := NewFakeObserver()
			h := start(t, Config{Client: fc, Dynamic: newDynamic(), Discovery: NewFakeDiscovery(), Debounce: time.Millisecond, MaxDelay: 5 * time.Millisecond, CRDRecheck: -1, Observer: obs})
			if o := <-h.raw; len(o.Services) != 3 || len(o.EndpointSlices) != 3 {
				t.Fatalf("first update %s", fmtNames(o))
			}
			fc.setDown(true)
			// Both reflectors have seen the watch fail before the change.
			for obs.WatchErrors("services") == 0 || obs.WatchErrors("endpointslices") == 0 {
				time.Sleep(time.Millisecond)
			}
			if err := tc.whileDown(context.Background(), cs); err != nil {
				t.Fatal(err)
			}
			// Each watcher holds the pacing of reads while it relists
			// (a list read paced would be slow).
			waitHeld(t, h.src.pace, 2)
			fc.setDown(false)

			gotSvcs, gotSlices := map[string]string{}, map[string]string{}
			add := func(o *model.Objects) {
				if o.Changes == nil {
					t.Fatalf("a complete update after the first: %s", fmtNames(o))
				}
				collect(gotSvcs, o.Changes.Services)
				collect(gotSlices, o.Changes.EndpointSlices)
				if !subset(gotSvcs, tc.wantServices) || !subset(gotSlices, tc.wantSlices) {
					t.Fatalf("after the relist: services %v slices %v, want %v %v", gotSvcs, gotSlices, tc.wantServices, tc.wantSlices)
				}
			}
			deadline := time.After(30 * time.Second)
			for !maps.Equal(gotSvcs, tc.wantServices) || !maps.Equal(gotSlices, tc.wantSlices) {
				select {
				case o := <-h.raw:
					add(o)
				case <-deadline:
					t.Fatalf("after the relist: services %v slices %v, want %v %v", gotSvcs, gotSlices, tc.wantServices, tc.wantSlices)
				}
			}
			if fc.listed(kubeclient.Services) < 2 || fc.listed(kubeclient.EndpointSlices) < 2 {
				t.Fatalf("lists: services %d slices %d, want a relist of each", fc.listed(kubeclient.Services), fc.listed(kubeclient.EndpointSlices))
			}
			// The relists handed over, the pacing is on again.
			waitHeld(t, h.src.pace, 0)
			// Nothing else follows: the unchanged objects the relists
			// replayed (queued after the changes) are not sent.
			time.Sleep(200 * time.Millisecond)
			for len(h.raw) > 0 {
				add(<-h.raw)
			}
		})
	}
}

// collect adds the changes of a delta to got: name to resourceVersion, ""
// for a deletion.
func collect[T interface {
	comparable
	metav1.Object
}](got map[string]string, changes map[model.Key]T) {
	var zero T
	for k, o := range changes {
		rv := ""
		if o != zero {
			rv = o.GetResourceVersion()
		}
		got[k.Name] = rv
	}
}

// subset reports whether every entry of a is in b.
func subset(a, b map[string]string) bool {
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestFirstUpdateAndCounts: the first update holds every object of every
// watched namespace, sorted; the source keeps none of them; the counts
// follow the objects.
func TestFirstUpdateAndCounts(t *testing.T) {
	var objs []runtime.Object
	var wantSvcs, wantSlices []string
	for _, ns := range []string{"c", "a", "b", "other"} {
		for i := range 40 {
			name := fmt.Sprintf("svc-%02d", 39-i)
			objs = append(objs, service(ns, name), endpointSlice(ns, name+"-x", name, true, "", "10.1.0.1"))
			if i%2 == 0 {
				objs = append(objs, endpointSlice(ns, name+"-y", name, true, "", "10.1.0.2"))
			}
			if ns != "other" {
				wantSvcs = append(wantSvcs, ns+"/"+name)
				wantSlices = append(wantSlices, ns+"/"+name+"-x")
				if i%2 == 0 {
					wantSlices = append(wantSlices, ns+"/"+name+"-y")
				}
			}
		}
	}
	slices.Sort(wantSvcs)
	slices.Sort(wantSlices)
	cs := k8sfake.NewClientset(objs...)
	obs := NewFakeObserver()
	h := start(t, Config{
		Client: kubeclienttest.FromClientset(cs), Dynamic: newDynamic(), Discovery: NewFakeDiscovery(),
		Namespaces: []string{"a", "b", "c"}, Debounce: time.Millisecond, CRDRecheck: -1, Observer: obs,
	})
	first := <-h.raw
	svcs, eps, _ := names(first)
	if first.Changes != nil || !slices.Equal(svcs, wantSvcs) || !slices.Equal(eps, wantSlices) {
		t.Fatalf("first update: %s\nwant services %v slices %v", fmtNames(first), wantSvcs, wantSlices)
	}
	if svcs, eps, _ := h.src.pending.take(); len(svcs) != 0 || len(eps) != 0 {
		t.Fatalf("the source kept %d services and %d slices after the first update", len(svcs), len(eps))
	}
	if obs.Objects("Service") != 120 || obs.Objects("EndpointSlice") != 180 {
		t.Fatalf("counts: %d services, %d slices, want 120 and 180", obs.Objects("Service"), obs.Objects("EndpointSlice"))
	}

	ctx := context.Background()
	if err := cs.CoreV1().Services("a").Delete(ctx, "svc-00", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.DiscoveryV1().EndpointSlices("b").Delete(ctx, "svc-00-x", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.DiscoveryV1().EndpointSlices("c").Create(ctx, endpointSlice("c", "new", "svc-00", true, "", "10.1.0.9"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the changes", func(o *model.Objects) bool {
		s, e, _ := names(o)
		return !slices.Contains(s, "a/svc-00") && !slices.Contains(e, "b/svc-00-x") && slices.Contains(e, "c/new")
	})
	if obs.Objects("Service") != 119 || obs.Objects("EndpointSlice") != 180 {
		t.Fatalf("counts after the changes: %d services, %d slices, want 119 and 180", obs.Objects("Service"), obs.Objects("EndpointSlice"))
	}
}

// TestStopLeavesNoGoroutine: once Run returns, every goroutine of its
// watchers and informers has ended.
func TestStopLeavesNoGoroutine(t *testing.T) {
	cs := k8sfake.NewClientset(service("a", "web", "10.0.0.1"), endpointSlice("a", "web-x", "web", true, "", "10.1.0.1"))
	dyn := newDynamic(serviceEntry("v1", "a", "ext", []string{"api.example.com"}, nil))
	before := goruntime.NumGoroutine()
	h := start(t, Config{Client: kubeclienttest.FromClientset(cs), Dynamic: dyn, Discovery: NewFakeDiscovery("networking.istio.io/v1"), Namespaces: []string{"a", "b"}, Debounce: time.Millisecond})
	h.waitFor("first update", func(*model.Objects) bool { return true })
	h.stop()
	deadline := time.Now().Add(10 * time.Second)
	for goruntime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after Run returned, %d before:\n%s", goruntime.NumGoroutine(), before, buf[:goruntime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestResyncSendsNothing: a resync replays what the watchers know, which
// is no change.
func TestResyncSendsNothing(t *testing.T) {
	cs := k8sfake.NewClientset(service("a", "web", "10.0.0.1"), endpointSlice("a", "web-x", "web", true, "", "10.1.0.1"))
	h := start(t, Config{Client: kubeclienttest.FromClientset(cs), Dynamic: newDynamic(), Discovery: NewFakeDiscovery(), ResyncPeriod: 10 * time.Millisecond, Debounce: time.Millisecond, CRDRecheck: -1})
	<-h.raw
	select {
	case o := <-h.raw:
		t.Fatalf("an update without a change: %+v", o.Changes)
	case <-time.After(300 * time.Millisecond):
	}
	// The watchers still work.
	if _, err := cs.CoreV1().Services("a").Create(context.Background(), service("a", "api"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitFor("a/api", func(o *model.Objects) bool { s, _, _ := names(o); return slices.Contains(s, "a/api") })
}

// TestReplace: what a watcher notes of a list (its reflector's Replace):
// the known objects the list lacks as deleted, the listed ones of a new
// version as changed, shrunk; and that its first list syncs it.
func TestReplace(t *testing.T) {
	svc := func(name, rv string) *corev1.Service {
		s := service("ns", name)
		s.ResourceVersion = rv
		s.Annotations = map[string]string{"big": "dropped by the shrink"}
		return s
	}
	tests := []struct {
		name  string
		known []*corev1.Service // noted before the list
		list  []*corev1.Service
		want  map[string]string // name to the resourceVersion noted, "" deleted
	}{
		{name: "first list", list: []*corev1.Service{svc("a", "1"), svc("b", "1")}, want: map[string]string{"a": "1", "b": "1"}},
		{name: "relist unchanged", known: []*corev1.Service{svc("a", "1")}, list: []*corev1.Service{svc("a", "1")}, want: map[string]string{}},
		{name: "relist changed, added, lacking",
			known: []*corev1.Service{svc("a", "1"), svc("b", "1"), svc("c", "1")},
			list:  []*corev1.Service{svc("a", "1"), svc("b", "2"), svc("d", "1")},
			want:  map[string]string{"b": "2", "c": "", "d": "1"}},
		{name: "empty list", known: []*corev1.Service{svc("a", "1")}, want: map[string]string{"a": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Source{dirty: make(chan struct{}, 1)}
			w := &watcher{resource: "services", known: newKnown(), src: s, shrink: shrinkService}
			for _, o := range tc.known {
				if err := w.Add(o); err != nil {
					t.Fatal(err)
				}
			}
			s.pending.take()
			if w.hasSynced() {
				t.Fatal("synced before a list")
			}
			var list []any
			for _, o := range tc.list {
				list = append(list, o)
			}
			if err := w.Replace(list, "9"); err != nil {
				t.Fatal(err)
			}
			if !w.hasSynced() {
				t.Fatal("not synced after a list")
			}
			svcs, _, _ := s.pending.take()
			got := map[string]string{}
			collect(got, svcs)
			if !maps.Equal(got, tc.want) {
				t.Fatalf("noted %v, want %v", got, tc.want)
			}
			for _, o := range svcs {
				if o != nil && o.Annotations != nil {
					t.Fatalf("%s noted unshrunk", o.Name)
				}
			}
			if w.known.len() != len(tc.list) {
				t.Fatalf("%d known, want %d", w.known.len(), len(tc.list))
			}
		})
	}
}

// waitHeld waits up to 10 s for p to be held n times.
func waitHeld(t *testing.T, p *pacer, n int32) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); p.held.Load() != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("pacing held %d times, want %d", p.held.Load(), n)
		}
	}
}
