package kube

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/meshdns/meshdns/sync/kube/kubeclient/kubeclienttest"
	"github.com/meshdns/meshdns/sync/model"
)

func TestNewValidates(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New without clients or RESTConfig succeeded")
	}
	cs := k8sfake.NewClientset()
	if _, err := New(Config{Client: kubeclienttest.FromClientset(cs), Dynamic: newDynamic(), Namespaces: []string{"a", ""}}); err == nil {
		t.Error("New with an empty namespace succeeded")
	}
	s, err := New(Config{Client: kubeclienttest.FromClientset(cs), Dynamic: newDynamic(), Namespaces: []string{"a", "b", "a"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.namespaces, []string{"a", "b"}) {
		t.Errorf("namespaces %v, want [a b]", s.namespaces)
	}
	if s.debounce != DefaultDebounce || s.maxDelay != DefaultMaxDelay {
		t.Errorf("defaults: debounce %v maxDelay %v", s.debounce, s.maxDelay)
	}
}

func TestFindServiceEntries(t *testing.T) {
	tests := []struct {
		name    string
		served  map[string][]string
		err     error
		want    string // version, "" for none
		wantErr bool
	}{
		{name: "v1 and v1beta1 served: v1", served: map[string][]string{"networking.istio.io/v1": {"serviceentries"}, "networking.istio.io/v1beta1": {"serviceentries"}}, want: "v1"},
		{name: "only v1beta1", served: map[string][]string{"networking.istio.io/v1beta1": {"serviceentries"}}, want: "v1beta1"},
		{name: "v1 without serviceentries", served: map[string][]string{"networking.istio.io/v1": {"virtualservices"}, "networking.istio.io/v1beta1": {"serviceentries", "sidecars"}}, want: "v1beta1"},
		{name: "only v1alpha3: not read", served: map[string][]string{"networking.istio.io/v1alpha3": {"serviceentries"}}, want: ""},
		{name: "absent", served: nil, want: ""},
		{name: "discovery down", err: errors.New("connection refused"), wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewFakeDiscovery()
			for gv, rs := range tc.served {
				d.Set(gv, rs...)
			}
			d.SetError(tc.err)
			gvr, found, err := findServiceEntries(d)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, wantErr %v", err, tc.wantErr)
			}
			if found != (tc.want != "") || (found && gvr != seGVR(tc.want)) {
				t.Fatalf("got %v found=%v, want version %q", gvr, found, tc.want)
			}
		})
	}
}

func TestCoalescer(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	tests := []struct {
		name     string
		debounce int
		maxDelay int
		changes  []int // ms offsets of changes; -1 marks an update sent
		want     []int // due time after each change (ignored for -1)
	}{
		{name: "single change", debounce: 100, maxDelay: 1000, changes: []int{0}, want: []int{100}},
		{name: "each change pushes back", debounce: 100, maxDelay: 1000, changes: []int{0, 50, 120}, want: []int{100, 150, 220}},
		{name: "capped at max delay", debounce: 100, maxDelay: 1000, changes: []int{0, 500, 950, 990}, want: []int{100, 600, 1000, 1000}},
		{name: "cap restarts after an update", debounce: 100, maxDelay: 300, changes: []int{0, 250, -1, 400, 650}, want: []int{100, 300, 0, 500, 700}},
		{name: "max delay below debounce", debounce: 100, maxDelay: 30, changes: []int{0, 10}, want: []int{30, 30}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := coalescer{debounce: time.Duration(tc.debounce) * time.Millisecond, maxDelay: time.Duration(tc.maxDelay) * time.Millisecond}
			for i, at := range tc.changes {
				if at < 0 {
					c.sent()
					continue
				}
				if got := c.changed(ms(at)); !got.Equal(ms(tc.want[i])) {
					t.Fatalf("change %d at %dms: due %v, want %dms", i, at, got.Sub(t0), tc.want[i])
				}
			}
		})
	}
}

func TestLifecycle(t *testing.T) {
	cs := k8sfake.NewClientset(
		service("default", "web", "10.0.0.10"),
		endpointSlice("default", "web-abc", "web", true, "", "10.1.0.1"),
	)
	dyn := newDynamic(serviceEntry("v1", "default", "ext", []string{"api.example.com"}, []string{"240.0.0.1"}))
	obs := NewFakeObserver()
	h := start(t, Config{
		Client: kubeclienttest.FromClientset(cs), Dynamic: dyn, Discovery: NewFakeDiscovery("networking.istio.io/v1"),
		Debounce: time.Millisecond, MaxDelay: 5 * time.Millisecond, Observer: obs,
	})
	first := h.waitFor("the initial objects", func(*model.Objects) bool { return true })
	svcs, eps, ses := names(first)
	if !slices.Equal(svcs, []string{"default/web"}) || !slices.Equal(eps, []string{"default/web-abc"}) || !slices.Equal(ses, []string{"default/ext"}) {
		t.Fatalf("first update: %s", fmtNames(first))
	}
	if !h.src.Synced() {
		t.Fatal("Synced false after the first update")
	}
	if got := first.ServiceEntries[0].Hosts; !slices.Equal(got, []string{"api.example.com"}) {
		t.Fatalf("ServiceEntry hosts %v", got)
	}
	if !obs.Synced() || obs.Objects("Service") != 1 || obs.Objects("ServiceEntry") != 1 {
		t.Errorf("observer: synced %v services %d entries %d", obs.Synced(), obs.Objects("Service"), obs.Objects("ServiceEntry"))
	}

	ctx := context.Background()
	// Create.
	if _, err := cs.CoreV1().Services("default").Create(ctx, service("default", "api", "10.0.0.11"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitFor("default/api created", func(o *model.Objects) bool { s, _, _ := names(o); return slices.Contains(s, "default/api") })

	// Update.
	upd := service("default", "api", "10.0.0.12")
	if _, err := cs.CoreV1().Services("default").Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitFor("default/api at 10.0.0.12", func(o *model.Objects) bool {
		for _, s := range o.Services {
			if s.Name == "api" && s.Spec.ClusterIP == "10.0.0.12" {
				return true
			}
		}
		return false
	})

	// ServiceEntry create and delete through the dynamic client.
	se := serviceEntry("v1", "default", "ext2", []string{"db.example.com"}, []string{"240.0.0.2"})
	if _, err := dyn.Resource(seGVR("v1")).Namespace("default").Create(ctx, se, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitFor("ServiceEntry default/ext2", func(o *model.Objects) bool { _, _, e := names(o); return slices.Contains(e, "default/ext2") })
	if err := dyn.Resource(seGVR("v1")).Namespace("default").Delete(ctx, "ext", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitFor("ServiceEntry default/ext gone", func(o *model.Objects) bool { _, _, e := names(o); return slices.Equal(e, []string{"default/ext2"}) })

	// Delete.
	if err := cs.CoreV1().Services("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.DiscoveryV1().EndpointSlices("default").Delete(ctx, "web-abc", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	last := h.waitFor("web and its slice gone", func(o *model.Objects) bool {
		s, e, _ := names(o)
		return slices.Equal(s, []string{"default/api"}) && len(e) == 0
	})
	// The objects handed out are the shrunk ones.
	if last.Services[0].ManagedFields != nil || last.Services[0].Annotations != nil {
		t.Errorf("service not shrunk: %+v", last.Services[0].ObjectMeta)
	}
}

// TestNoUpdateBeforeSync: while a list keeps failing there is no update and
// Synced is false; the failures are counted; once the list succeeds the
// first update comes.
func TestNoUpdateBeforeSync(t *testing.T) {
	cs := k8sfake.NewClientset(service("default", "web", "10.0.0.10"))
	release := make(chan struct{})
	failed := make(chan struct{}, 100)
	cs.PrependReactor("list", "services", func(k8stesting.Action) (bool, runtime.Object, error) {
		select {
		case <-release:
			return false, nil, nil
		default:
			failed <- struct{}{}
			return true, nil, apierrors.NewServiceUnavailable("apiserver restarting")
		}
	})
	obs := NewFakeObserver()
	h := start(t, Config{Client: kubeclienttest.FromClientset(cs), Dynamic: newDynamic(), Discovery: NewFakeDiscovery(), Debounce: time.Millisecond, Observer: obs})
	<-failed
	select {
	case o := <-h.updates:
		t.Fatalf("update before sync: %s", fmtNames(o))
	default:
	}
	if h.src.Synced() {
		t.Fatal("Synced while the service list fails")
	}
	close(release)
	o := h.waitFor("web after the list recovers", func(*model.Objects) bool { return true })
	if s, _, _ := names(o); !slices.Equal(s, []string{"default/web"}) {
		t.Fatalf("first update %s", fmtNames(o))
	}
	if n := obs.WatchErrors("services"); n < 1 {
		t.Errorf("watch errors counted for services: %d, want >= 1", n)
	}
}

// TestCoalescing uses a fake clock: changes made while the debounce timer
// is pending all arrive in one update.
func TestCoalescing(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	cs := k8sfake.NewClientset()
	h := start(t, Config{
		Client: kubeclienttest.FromClientset(cs), Dynamic: newDynamic(), Discovery: NewFakeDiscovery(),
		Debounce: time.Second, MaxDelay: 10 * time.Second, CRDRecheck: -1, Clock: clk,
	})
	if o := h.waitFor("the initial empty update", func(*model.Objects) bool { return true }); o.Len() != 0 {
		t.Fatalf("initial update %s", fmtNames(o))
	}
	ctx := context.Background()
	for _, n := range []string{"a", "b", "c"} {
		if _, err := cs.CoreV1().Services("default").Create(ctx, service("default", n), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until the watcher has seen all three and the debounce timer is armed.
	for h.src.services[0].known.len() != 3 || !clk.HasWaiters() {
		time.Sleep(time.Millisecond)
	}
	select {
	case o := <-h.updates:
		t.Fatalf("update before the debounce timer fired: %s", fmtNames(o))
	default:
	}
	clk.Step(time.Second)
	o := h.waitFor("the coalesced update", func(*model.Objects) bool { return true })
	if s, _, _ := names(o); !slices.Equal(s, []string{"default/a", "default/b", "default/c"}) {
		t.Fatalf("coalesced update: %s, want all three services", fmtNames(o))
	}
}

func TestNamespacesFilter(t *testing.T) {
	cs := k8sfake.NewClientset(
		service("a", "one", "10.0.0.1"), service("b", "two", "10.0.0.2"), service("c", "three", "10.0.0.3"),
		endpointSlice("a", "one-x", "one", true, "", "10.1.0.1"), endpointSlice("c", "three-x", "three", true, "", "10.1.0.3"),
	)
	dyn := newDynamic(
		serviceEntry("v1", "b", "se-b", []string{"b.example.com"}, nil),
		serviceEntry("v1", "c", "se-c", []string{"c.example.com"}, nil),
	)
	h := start(t, Config{Client: kubeclienttest.FromClientset(cs), Dynamic: dyn, Discovery: NewFakeDiscovery("networking.istio.io/v1"), Namespaces: []string{"a", "b"}, Debounce: time.Millisecond})
	o := h.waitFor("first update", func(*model.Objects) bool { return true })
	s, e, se := names(o)
	if !slices.Equal(s, []string{"a/one", "b/two"}) || !slices.Equal(e, []string{"a/one-x"}) || !slices.Equal(se, []string{"b/se-b"}) {
		t.Fatalf("update %s", fmtNames(o))
	}
	// One informer per namespace: nothing was listed cluster-wide.
	for _, a := range append(cs.Actions(), dyn.Actions()...) {
		if a.GetVerb() == "list" || a.GetVerb() == "watch" {
			if ns := a.GetNamespace(); ns != "a" && ns != "b" {
				t.Errorf("%s %s in namespace %q", a.GetVerb(), a.GetResource().Resource, ns)
			}
		}
	}
	// A change in a namespace outside the filter is not seen; one inside is.
	ctx := context.Background()
	if _, err := cs.CoreV1().Services("c").Create(ctx, service("c", "four"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Services("a").Create(ctx, service("a", "five"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	o = h.waitFor("a/five", func(o *model.Objects) bool { s, _, _ := names(o); return slices.Contains(s, "a/five") })
	if s, _, _ := names(o); slices.Contains(s, "c/four") {
		t.Fatalf("service outside the namespaces loaded: %s", fmtNames(o))
	}
}

func TestServiceEntryVersions(t *testing.T) {
	tests := []struct {
		name    string
		served  []string
		objects []runtime.Object
		want    []string
	}{
		{
			name:   "v1",
			served: []string{"networking.istio.io/v1", "networking.istio.io/v1beta1"},
			// The same object is served at both versions by a real server;
			// the fake keeps them apart, which shows which one was read.
			objects: []runtime.Object{
				serviceEntry("v1", "default", "at-v1", []string{"a.example.com"}, nil),
				serviceEntry("v1beta1", "default", "at-v1beta1", []string{"b.example.com"}, nil),
			},
			want: []string{"default/at-v1"},
		},
		{
			name:   "v1beta1 when v1 is not served",
			served: []string{"networking.istio.io/v1beta1"},
			objects: []runtime.Object{
				serviceEntry("v1", "default", "at-v1", []string{"a.example.com"}, nil),
				serviceEntry("v1beta1", "default", "at-v1beta1", []string{"b.example.com"}, nil),
			},
			want: []string{"default/at-v1beta1"},
		},
		{name: "absent CRD: no entries, no error", served: nil, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cs := k8sfake.NewClientset(service("default", "web", "10.0.0.10"))
			dyn := newDynamic(tc.objects...)
			h := start(t, Config{Client: kubeclienttest.FromClientset(cs), Dynamic: dyn, Discovery: NewFakeDiscovery(tc.served...), Debounce: time.Millisecond, CRDRecheck: -1})
			o := h.waitFor("first update", func(*model.Objects) bool { return true })
			s, _, se := names(o)
			if !slices.Equal(se, tc.want) || !slices.Equal(s, []string{"default/web"}) {
				t.Fatalf("update %s, want entries %v", fmtNames(o), tc.want)
			}
			if tc.served == nil {
				for _, a := range dyn.Actions() {
					t.Errorf("dynamic client used without a served ServiceEntry API: %s %v", a.GetVerb(), a.GetResource())
				}
			}
		})
	}
}

func TestServiceEntryCRDAppearsLater(t *testing.T) {
	cs := k8sfake.NewClientset(service("default", "web", "10.0.0.10"))
	dyn := newDynamic(serviceEntry("v1", "default", "late", []string{"late.example.com"}, []string{"240.0.0.9"}))
	disc := NewFakeDiscovery()
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	h := start(t, Config{Client: kubeclienttest.FromClientset(cs), Dynamic: dyn, Discovery: disc, Debounce: time.Second, CRDRecheck: time.Minute, Clock: clk})
	if o := h.waitFor("first update", func(*model.Objects) bool { return true }); len(o.ServiceEntries) != 0 {
		t.Fatalf("entries before the CRD exists: %s", fmtNames(o))
	}
	disc.Set("networking.istio.io/v1", "serviceentries")
	// Step the clock until the re-check has found the API, the new informer
	// synced and its debounce timer fired.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if clk.HasWaiters() {
				clk.Step(time.Minute)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	o := h.waitFor("the late ServiceEntry", func(o *model.Objects) bool { _, _, e := names(o); return slices.Contains(e, "default/late") })
	if s, _, _ := names(o); !slices.Equal(s, []string{"default/web"}) {
		t.Fatalf("services lost: %s", fmtNames(o))
	}
}

func TestRunTwice(t *testing.T) {
	h := start(t, Config{Client: kubeclienttest.FromClientset(k8sfake.NewClientset()), Dynamic: newDynamic(), Discovery: NewFakeDiscovery()})
	h.waitFor("first update", func(*model.Objects) bool { return true })
	if err := h.src.Run(context.Background(), func(*model.Objects) {}); err == nil {
		t.Fatal("second Run succeeded")
	}
}

func TestRelistWithoutChangeSendsNothing(t *testing.T) {
	a := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "x", ResourceVersion: "5"}}
	b := a.DeepCopy()
	if !sameVersion(a, b) {
		t.Error("same resourceVersion not recognised")
	}
	b.ResourceVersion = "6"
	if sameVersion(a, b) {
		t.Error("new resourceVersion treated as no change")
	}
	if sameVersion(&corev1.Service{}, &corev1.Service{}) {
		t.Error("empty resourceVersions treated as no change")
	}
	if sameVersion("not an object", b) {
		t.Error("non-object treated as no change")
	}
}

func TestDiscoveryRetriesThenForbidden(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	disc := NewFakeDiscovery("networking.istio.io/v1")
	disc.SetError(errors.New("connection refused"))
	obs := NewFakeObserver()
	s, err := New(Config{Client: kubeclienttest.FromClientset(k8sfake.NewClientset()), Dynamic: newDynamic(), Discovery: disc, Clock: clk, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	type res struct {
		gvr   schema.GroupVersionResource
		found bool
		err   error
	}
	done := make(chan res, 1)
	go func() {
		g, f, err := s.discoverServiceEntries(context.Background())
		done <- res{g, f, err}
	}()
	for !clk.HasWaiters() {
		time.Sleep(time.Millisecond)
	}
	disc.SetError(nil)
	clk.Step(time.Minute)
	r := <-done
	if r.err != nil || !r.found || r.gvr.Version != "v1" {
		t.Fatalf("after retry: %+v", r)
	}
	if obs.WatchErrors("serviceentries") != 1 {
		t.Errorf("discovery errors counted: %d, want 1", obs.WatchErrors("serviceentries"))
	}

	disc.SetError(apierrors.NewForbidden(schema.GroupResource{}, "", errors.New("no")))
	g, found, err := s.discoverServiceEntries(context.Background())
	if err != nil || found {
		t.Fatalf("forbidden discovery: %v %v %v, want not found and no error", g, found, err)
	}
}
