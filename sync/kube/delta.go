package kube

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/meshdns/meshdns/sync/model"
)

// After the first complete update the source sends deltas
// (model.Objects.Changes): the watchers note each object that changed in
// pending, the latest version of each (nil when gone), and an update
// hands them over. A change then costs the objects it touches, not a copy
// and sort of every object in the cluster, and the source keeps no object
// once it is handed over.

// pending is what changed since the last update; the watchers and the
// ServiceEntry informers' event handlers add to it from their goroutines.
// Until the first update it holds every object (nothing is taken before).
type pending struct {
	mu       sync.Mutex
	services map[model.Key]*corev1.Service
	slices   map[model.Key]*discoveryv1.EndpointSlice
	entries  bool
}

// note records obj, the new version of the object of resource
// ("services" or "endpointslices") at k, nil when it is gone. It reports
// whether this is the first change since the last take: only that one
// needs to wake the source, the others join the update it will send.
func (p *pending) note(resource string, k model.Key, obj any) (first bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	first = p.empty()
	switch resource {
	case "services":
		if p.services == nil {
			p.services = map[model.Key]*corev1.Service{}
		}
		svc, _ := obj.(*corev1.Service)
		p.services[k] = svc
	case "endpointslices":
		if p.slices == nil {
			p.slices = map[model.Key]*discoveryv1.EndpointSlice{}
		}
		es, _ := obj.(*discoveryv1.EndpointSlice)
		p.slices[k] = es
	}
	return first
}

// noteEntries records that a ServiceEntry changed. Only the fact is kept:
// an update lists them all. It reports what note does.
func (p *pending) noteEntries() (first bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	first = p.empty()
	p.entries = true
	return first
}

func (p *pending) empty() bool { return len(p.services) == 0 && len(p.slices) == 0 && !p.entries }

// take returns what changed and forgets it.
func (p *pending) take() (services map[model.Key]*corev1.Service, slices map[model.Key]*discoveryv1.EndpointSlice, entries bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	services, slices, entries = p.services, p.slices, p.entries
	p.services, p.slices, p.entries = nil, nil, false
	return services, slices, entries
}

// delta returns the changes since the last update, nil for none. It
// runs on the Run goroutine only.
func (s *Source) delta() *model.Objects {
	svcs, eps, entries := s.pending.take()
	if len(svcs) == 0 && len(eps) == 0 && !entries {
		return nil
	}
	if svcs == nil {
		svcs = map[model.Key]*corev1.Service{}
	}
	if eps == nil {
		eps = map[model.Key]*discoveryv1.EndpointSlice{}
	}
	ch := &model.Changes{Services: svcs, EndpointSlices: eps}
	if entries {
		ch.ServiceEntries, ch.ServiceEntriesChanged = s.entryList(), true
	}
	s.countObjects() // the known stores' sizes: cheap
	return &model.Objects{Changes: ch}
}
