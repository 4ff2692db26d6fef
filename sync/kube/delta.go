package kube

import (
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/cache"

	"github.com/meshdns/meshdns/sync/model"
)

// After the first complete update the source sends deltas
// (model.Objects.Changes): the event handlers note which objects changed,
// and an update carries the informer caches' current version of each
// (nil when gone). A change then costs the objects it touches, not a copy
// and sort of every object in the cluster.

// countEvery is how often deltas refresh the object counts.
const countEvery = 10 * time.Second

// pending is what changed since the last update; the event handlers add
// to it from the informers' goroutines.
type pending struct {
	mu       sync.Mutex
	services map[model.Key]struct{}
	slices   map[model.Key]struct{}
	entries  bool
}

// note records a change of obj, an object of resource or a deletion
// tombstone. Of ServiceEntries only the fact is kept (obj may be nil):
// an update lists them all. It reports whether this is the first change
// since the last take: only that one needs to wake the source, the
// others join the update it will send.
func (p *pending) note(resource string, obj any) (first bool) {
	if resource == "serviceentries" {
		p.mu.Lock()
		defer p.mu.Unlock()
		first = p.empty()
		p.entries = true
		return first
	}
	var k model.Key
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		ns, name, err := cache.SplitMetaNamespaceKey(d.Key)
		if err != nil {
			return false
		}
		k = model.Key{Namespace: ns, Name: name}
	} else if m, err := meta.Accessor(obj); err == nil {
		k = model.Key{Namespace: m.GetNamespace(), Name: m.GetName()}
	} else {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	first = p.empty()
	switch resource {
	case "services":
		if p.services == nil {
			p.services = map[model.Key]struct{}{}
		}
		p.services[k] = struct{}{}
	case "endpointslices":
		if p.slices == nil {
			p.slices = map[model.Key]struct{}{}
		}
		p.slices[k] = struct{}{}
	}
	return first
}

func (p *pending) empty() bool { return len(p.services) == 0 && len(p.slices) == 0 && !p.entries }

// take returns what changed and forgets it.
func (p *pending) take() (services, slices map[model.Key]struct{}, entries bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	services, slices, entries = p.services, p.slices, p.entries
	p.services, p.slices, p.entries = nil, nil, false
	return services, slices, entries
}

// delta returns the changes since the last update, nil for none. It
// runs on the Run goroutine only.
func (s *Source) delta() *model.Objects {
	svcKeys, sliceKeys, entries := s.pending.take()
	if len(svcKeys) == 0 && len(sliceKeys) == 0 && !entries {
		return nil
	}
	ch := &model.Changes{
		Services:       make(map[model.Key]*corev1.Service, len(svcKeys)),
		EndpointSlices: make(map[model.Key]*discoveryv1.EndpointSlice, len(sliceKeys)),
	}
	for k := range svcKeys {
		svc, _ := lookup(s.services, k).(*corev1.Service)
		ch.Services[k] = svc
	}
	for k := range sliceKeys {
		es, _ := lookup(s.slices, k).(*discoveryv1.EndpointSlice)
		ch.EndpointSlices[k] = es
	}
	if entries {
		ch.ServiceEntries, ch.ServiceEntriesChanged = s.entryList(), true
	}
	// Counting lists every key: not on every change.
	if now := s.clock.Now(); now.Sub(s.counted) >= countEvery {
		s.counted = now
		s.countObjects()
	}
	return &model.Objects{Changes: ch}
}

// lookup returns the cached object of key k from whichever informer holds
// its namespace, or nil.
func lookup(infs []cache.SharedIndexInformer, k model.Key) any {
	key := k.Name
	if k.Namespace != "" {
		key = k.Namespace + "/" + k.Name
	}
	for _, inf := range infs {
		if o, ok, err := inf.GetStore().GetByKey(key); err == nil && ok {
			return o
		}
	}
	return nil
}
