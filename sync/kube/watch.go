package kube

import (
	"errors"
	"strconv"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/cache"

	"github.com/meshdns/meshdns/sync/kube/kubeclient"
	"github.com/meshdns/meshdns/sync/model"
)

// Services and EndpointSlices are watched by client-go's low-level
// controller (cache.New), not by informers: an informer keeps every object
// in its store for as long as it runs, and the source has no use for them
// once handed on (model.Incremental keeps what it needs). A watcher's
// queue (a RealFIFO, the queue client-go's informers use) shrinks each
// decoded object (transform.go) before queuing it; its Process notes the
// object in pending and records in the watcher's known store only the
// object's key and resourceVersion. That is all the queue needs of what
// the consumer knows: on a relist (after a watch broke) it queues a
// deletion (cache.DeletedFinalStateUnknown) for each known key the list
// lacks, and every listed object as Replaced, which the watcher drops
// when its resourceVersion is the known one.

// watcher lists and watches one resource in one namespace ("" all).
type watcher struct {
	resource string // "services" or "endpointslices"
	known    *known
	ctrl     cache.Controller
}

// watcher returns a watcher of r in namespace ns, whose queue shrinks
// objects with shrink and whose changes go to s.pending.
func (s *Source) watcher(r kubeclient.Resource, ns string, shrink cache.TransformFunc) *watcher {
	w := &watcher{resource: r.String(), known: newKnown()}
	queue := cache.NewRealFIFOWithOptions(cache.RealFIFOOptions{
		Name:         "meshdns " + w.resource,
		KeyFunction:  cache.MetaNamespaceKeyFunc,
		KnownObjects: w.known,
		Transformer:  shrink,
	})
	// The reflector is set up as NewSharedIndexInformer's: the same
	// ListerWatcher (its watch-list support as it declares it), resync
	// period and page size (the reflector's default).
	w.ctrl = cache.New(&cache.Config{
		Queue:            queue,
		ListerWatcher:    s.client.ListWatch(r, ns, ""),
		ObjectType:       r.Object(),
		FullResyncPeriod: s.resync,
		Process: func(obj any, _ bool) error {
			d, ok := obj.(cache.Deltas)
			if !ok {
				return errors.New("kube: queue item is not Deltas")
			}
			s.process(w, d)
			return nil
		},
		ProcessBatch: func(d []cache.Delta, _ bool) error {
			s.process(w, d)
			return nil
		},
		WatchErrorHandlerWithContext: s.watchErrorHandler(w.resource),
	})
	return w
}

// process notes the changes of deltas in pending and in w's known store.
// It runs on w's controller goroutine, under its queue's lock.
func (s *Source) process(w *watcher, deltas []cache.Delta) {
	for _, d := range deltas {
		var name cache.ObjectName
		var obj any
		switch d.Type {
		case cache.Added, cache.Updated, cache.Replaced:
			m, err := meta.Accessor(d.Object)
			if err != nil {
				continue
			}
			name = cache.ObjectName{Namespace: m.GetNamespace(), Name: m.GetName()}
			// A relist replays every object: only a new version
			// is a change.
			if !w.known.set(name, m.GetResourceVersion()) {
				continue
			}
			obj = d.Object
		case cache.Deleted:
			var err error
			if name, err = cache.DeletionHandlingObjectToName(d.Object); err != nil {
				continue
			}
			// One never handed on needs no deletion.
			if !w.known.delete(name) {
				continue
			}
		default:
			// Sync: a resync replays the known objects, unchanged.
			continue
		}
		if s.pending.note(w.resource, model.Key{Namespace: name.Namespace, Name: name.Name}, obj) {
			s.changed()
		}
	}
}

// known is what a watcher keeps of each object it has handed on: its
// resourceVersion, by namespace and name. It is its queue's KnownObjects,
// whose keys are "namespace/name". As it is all the source keeps of a
// cluster's objects it is kept small: versions as numbers (the API server's
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

var _ cache.KeyListerGetter = (*known)(nil)

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

// ListKeys implements cache.KeyLister: the queue asks on a relist.
func (k *known) ListKeys() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	keys := make([]string, 0, k.n)
	for ns, names := range k.ns {
		for name := range names {
			keys = append(keys, cache.ObjectName{Namespace: ns, Name: name}.String())
		}
	}
	return keys
}

// GetByKey implements cache.KeyGetter. The object is not kept: a known
// key gives its key (cache.ExplicitKey), which is what the queue puts in
// the deletion it queues (DeletedFinalStateUnknown.Obj) or in a resync's
// Sync, both keyed by it.
func (k *known) GetByKey(key string) (any, bool, error) {
	name, err := cache.ParseObjectName(key)
	if err != nil {
		return nil, false, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.ns[name.Namespace][name.Name]; !ok {
		return nil, false, nil
	}
	return cache.ExplicitKey(key), true, nil
}
