package kube

import (
	"errors"
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
	w := &watcher{resource: r.String(), known: &known{rv: map[string]string{}}}
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
			if !w.known.set(name.String(), m.GetResourceVersion()) {
				continue
			}
			obj = d.Object
		case cache.Deleted:
			key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(d.Object)
			if err != nil {
				continue
			}
			// One never handed on needs no deletion.
			if !w.known.delete(key) {
				continue
			}
			if name, err = cache.ParseObjectName(key); err != nil {
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
// resourceVersion, by key ("namespace/name"). It is its queue's
// KnownObjects.
type known struct {
	mu sync.Mutex
	rv map[string]string
}

var _ cache.KeyListerGetter = (*known)(nil)

// set records version rv of key and reports whether that is a change: a
// new key or another version (or an empty one, which tells nothing).
func (k *known) set(key, rv string) (changed bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if old, ok := k.rv[key]; ok && old == rv && rv != "" {
		return false
	}
	k.rv[key] = rv
	return true
}

// delete forgets key and reports whether it was known.
func (k *known) delete(key string) (was bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, was = k.rv[key]
	delete(k.rv, key)
	return was
}

// len is the number of objects known.
func (k *known) len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.rv)
}

// ListKeys implements cache.KeyLister: the queue asks on a relist.
func (k *known) ListKeys() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	keys := make([]string, 0, len(k.rv))
	for key := range k.rv {
		keys = append(keys, key)
	}
	return keys
}

// GetByKey implements cache.KeyGetter. The object is not kept: a known
// key gives its key (cache.ExplicitKey), which is what the queue puts in
// the deletion it queues (DeletedFinalStateUnknown.Obj) or in a resync's
// Sync, both keyed by it.
func (k *known) GetByKey(key string) (any, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.rv[key]; !ok {
		return nil, false, nil
	}
	return cache.ExplicitKey(key), true, nil
}
