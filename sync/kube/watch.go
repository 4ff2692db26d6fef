package kube

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/meshdns/meshdns/sync/kube/kubeclient"
	"github.com/meshdns/meshdns/sync/model"
)

// Services and EndpointSlices are watched by client-go's Reflector
// writing straight into a watcher (its store), not by informers: an
// informer keeps every object in its store for as long as it runs, and the
// source has no use for them once handed on (model.Incremental keeps what
// it needs). Nor is there a queue between the reflector and the watcher
// (cache.New's RealFIFO and the goroutine popping it): the watcher's work
// on an event is small and never blocks (a note in pending), so it runs on
// the reflector's goroutine, which spares each event a hand-over between
// goroutines (the Go runtime's waking and parking of threads was 45 % of
// meshdns's CPU under churn: bench/results/nametable/churn-session12). The watcher shrinks each decoded object (transform.go), notes it
// in pending and records in its known store only the object's key and
// resourceVersion. That is all a relist needs of what the consumer knows:
// a known key the list lacks is a deletion, and a listed object whose
// resourceVersion is the known one no change.

// watcher lists and watches one resource in one namespace ("" all). It is
// its reflector's store (cache.ReflectorStore), called on the reflector's
// goroutine only (but Resync, which does nothing).
type watcher struct {
	resource string // "services" or "endpointslices"
	known    *known
	src      *Source
	shrink   cache.TransformFunc
	// run lists and watches until its context is done.
	run    func(context.Context)
	synced atomic.Bool // the first list is noted
	// listing: w holds its source's pacing, from the start of a list
	// (or watch-list) until the list is handed over (Replace).
	listing atomic.Bool
}

// reflectorBackoff and reflectorBackoffReset are client-go's reflector's
// defaults (unexported in its tools/cache): from 0.8 s, doubled, with
// jitter, to 30 s; back to the start after 2 minutes without a failure.
func reflectorBackoff() wait.Backoff {
	return wait.Backoff{Duration: 800 * time.Millisecond, Cap: 30 * time.Second, Steps: 38, Factor: 2, Jitter: 1}
}

const reflectorBackoffReset = 2 * time.Minute

// watcher returns a watcher of r in namespace ns, which shrinks objects
// with shrink and whose changes go to s.pending.
func (s *Source) watcher(r kubeclient.Resource, ns string, shrink cache.TransformFunc) *watcher {
	w := &watcher{resource: r.String(), known: newKnown(), src: s, shrink: shrink}
	lw := s.client.ListWatch(r, ns, "")
	w.run = func(ctx context.Context) {
		// As cache.New's controller sets up and runs its reflector: the
		// same ListerWatcher (its watch-list support as it declares it),
		// resync period, page size and backoff (the reflector's
		// defaults), but the reflector's store is w. The loop is
		// Reflector.RunWithContext's, whose error handler only client-go's
		// controllers and informers can set.
		logger := klog.FromContext(ctx)
		backoff := reflectorBackoff()
		rf := cache.NewReflectorWithOptions(lw, r.Object(), w, cache.ReflectorOptions{
			Logger:       &logger,
			Name:         "meshdns " + w.resource,
			ResyncPeriod: s.resync,
			Backoff:      &backoff,
		})
		onError := s.watchErrorHandler(w.resource)
		defer w.listed()
		_ = backoff.DelayWithReset(clock.RealClock{}, reflectorBackoffReset).Until(ctx, true, true, func(ctx context.Context) (bool, error) {
			// Each ListAndWatch lists first (a watch that ends
			// without error is watched again inside it).
			w.lists()
			if err := rf.ListAndWatchWithContext(ctx); err != nil {
				onError(ctx, rf, err)
			}
			return false, nil
		})
	}
	return w
}

var _ cache.TransformingStore = (*watcher)(nil)

// Transformer implements cache.TransformingStore: a watch-list's initial
// objects are shrunk as they come, before the list is handed over whole
// (Replace).
func (w *watcher) Transformer() cache.TransformFunc { return w.shrink }

// Add implements cache.ReflectorStore.
func (w *watcher) Add(obj any) error { return w.change(cache.Added, obj) }

// Update implements cache.ReflectorStore.
func (w *watcher) Update(obj any) error { return w.change(cache.Updated, obj) }

// Delete implements cache.ReflectorStore.
func (w *watcher) Delete(obj any) error { return w.change(cache.Deleted, obj) }

// change shrinks obj and notes it.
func (w *watcher) change(t cache.DeltaType, obj any) error {
	obj, err := w.shrink(obj)
	if err != nil {
		return err
	}
	w.src.note(w, cache.Delta{Type: t, Object: obj})
	return nil
}

// Replace implements cache.ReflectorStore: a list, the first or a relist
// after a watch broke. A known key it lacks is a deletion (as the queue of
// an informer has it: cache.DeletedFinalStateUnknown); each listed object
// is noted as Replaced, which is no change when its resourceVersion is the
// known one. The first list noted, the watcher has synced.
func (w *watcher) Replace(list []any, _ string) error {
	listed := make(map[cache.ObjectName]bool, len(list))
	for i, obj := range list {
		obj, err := w.shrink(obj)
		if err != nil {
			return err
		}
		m, err := meta.Accessor(obj)
		if err != nil {
			return err
		}
		listed[cache.ObjectName{Namespace: m.GetNamespace(), Name: m.GetName()}] = true
		list[i] = obj
	}
	for _, name := range w.known.names() {
		if !listed[name] {
			key := name.String()
			w.src.note(w, cache.Delta{Type: cache.Deleted, Object: cache.DeletedFinalStateUnknown{Key: key, Obj: cache.ExplicitKey(key)}})
		}
	}
	for _, obj := range list {
		w.src.note(w, cache.Delta{Type: cache.Replaced, Object: obj})
	}
	w.synced.Store(true)
	w.listed()
	return nil
}

// lists holds the source's pacing for w's list, unless w holds it.
func (w *watcher) lists() {
	if !w.listing.Swap(true) {
		w.src.pace.hold()
	}
}

// listed releases w's hold of the pacing, if it holds it.
func (w *watcher) listed() {
	if w.listing.Swap(false) {
		w.src.pace.release()
	}
}

// Resync implements cache.ReflectorStore. It does nothing: a resync
// replays the known objects, unchanged.
func (w *watcher) Resync() error { return nil }

// hasSynced reports whether the first list is noted (a cache.InformerSynced).
func (w *watcher) hasSynced() bool { return w.synced.Load() }

// note notes the change d in pending and in w's known store.
func (s *Source) note(w *watcher, d cache.Delta) {
	var name cache.ObjectName
	var obj any
	switch d.Type {
	case cache.Added, cache.Updated, cache.Replaced:
		m, err := meta.Accessor(d.Object)
		if err != nil {
			return
		}
		name = cache.ObjectName{Namespace: m.GetNamespace(), Name: m.GetName()}
		// A relist replays every object: only a new version is a
		// change.
		if !w.known.set(name, m.GetResourceVersion()) {
			return
		}
		obj = d.Object
	case cache.Deleted:
		var err error
		if name, err = cache.DeletionHandlingObjectToName(d.Object); err != nil {
			return
		}
		// One never handed on needs no deletion.
		if !w.known.delete(name) {
			return
		}
	default:
		return
	}
	if s.pending.note(w.resource, model.Key{Namespace: name.Namespace, Name: name.Name}, obj) {
		s.changed()
	}
}

// known is what a watcher keeps of each object it has handed on: its
// resourceVersion, by namespace and name. As it is all the source keeps of
// a cluster's objects it is kept small: versions as numbers (the API server's
// are etcd revisions), names shared with the objects they came from,
// namespaces once.
type known struct {
	mu sync.Mutex
	ns map[string]map[string]version // namespace, name
	n  int
}

// version is a resourceVersion as a number; noVersion when it is empty or
// not a decimal number, which tells nothing: any version differs from it.
type version uint64

const noVersion version = 0

func parseVersion(rv string) version {
	v, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		return noVersion
	}
	return version(v)
}

func newKnown() *known { return &known{ns: map[string]map[string]version{}} }

// set records version rv of the object at name and reports whether that
// is a change: a new object or another version (or one that tells
// nothing).
func (k *known) set(name cache.ObjectName, rv string) (changed bool) {
	v := parseVersion(rv)
	k.mu.Lock()
	defer k.mu.Unlock()
	names := k.ns[name.Namespace]
	if names == nil {
		names = map[string]version{}
		k.ns[strings.Clone(name.Namespace)] = names
	}
	old, ok := names[name.Name]
	if ok && old == v && v != noVersion {
		return false
	}
	if !ok {
		k.n++
	}
	// A copy of the name: the decoded object's own string would hold its
	// span of the heap, with the object's other, dead strings, for as
	// long as the key is known (sync/model's keeper says more). Setting
	// an existing key stores the key given too.
	names[strings.Clone(name.Name)] = v
	return true
}

// delete forgets the object at name and reports whether it was known.
func (k *known) delete(name cache.ObjectName) (was bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	names := k.ns[name.Namespace]
	if _, was = names[name.Name]; !was {
		return false
	}
	delete(names, name.Name)
	if len(names) == 0 {
		delete(k.ns, name.Namespace)
	}
	k.n--
	return true
}

// len is the number of objects known.
func (k *known) len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.n
}

// names lists the names of the objects known.
func (k *known) names() []cache.ObjectName {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]cache.ObjectName, 0, k.n)
	for ns, names := range k.ns {
		for name := range names {
			out = append(out, cache.ObjectName{Namespace: ns, Name: name})
		}
	}
	return out
}
