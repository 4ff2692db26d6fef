package kube

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshdns/meshdns/sync/model"
)

// cachedEntry is a converted ServiceEntry, kept while its resourceVersion
// does not change so each is converted (and its problem logged) once.
type cachedEntry struct {
	rv  string
	se  *model.ServiceEntry
	err error
}

// snapshot is the first complete update: every object pending holds
// (nothing was taken from it before), sorted by namespace and name so the
// same cluster state gives the same Objects. It runs on the Run goroutine
// only.
func (s *Source) snapshot() *model.Objects {
	svcs, eps, _ := s.pending.take()
	objs := &model.Objects{
		Services:       make([]*corev1.Service, 0, len(svcs)),
		EndpointSlices: make([]*discoveryv1.EndpointSlice, 0, len(eps)),
	}
	for _, svc := range svcs {
		if svc != nil {
			objs.Services = append(objs.Services, svc)
		}
	}
	for _, es := range eps {
		if es != nil {
			objs.EndpointSlices = append(objs.EndpointSlices, es)
		}
	}
	objs.ServiceEntries = s.entryList()
	slices.SortFunc(objs.Services, func(a, b *corev1.Service) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	slices.SortFunc(objs.EndpointSlices, func(a, b *discoveryv1.EndpointSlice) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	s.countObjects()
	return objs
}

// entryList converts the cached ServiceEntries, sorted by namespace and
// name; each is converted (and its problem logged) once per
// resourceVersion.
func (s *Source) entryList() []*model.ServiceEntry {
	e := s.entries.Load()
	if e == nil || !e.synced.Load() {
		return nil
	}
	var out []*model.ServiceEntry
	seen := make(map[string]cachedEntry, len(s.seCache))
	for _, inf := range e.informers {
		for _, o := range inf.GetStore().List() {
			u, ok := o.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			key := u.GetNamespace() + "/" + u.GetName()
			c, ok := s.seCache[key]
			if !ok || c.rv != u.GetResourceVersion() || u.GetResourceVersion() == "" {
				c = cachedEntry{rv: u.GetResourceVersion()}
				c.se, c.err = model.ServiceEntryFromUnstructured(u)
				if c.err != nil {
					s.log.Warn("ServiceEntry skipped", "entry", key, "err", c.err)
				}
			}
			seen[key] = c
			if c.se != nil {
				out = append(out, c.se)
			}
		}
	}
	s.seCache = seen
	slices.SortFunc(out, func(a, b *model.ServiceEntry) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// countObjects reports how many objects of each kind the source has
// handed on: the sizes of the watchers' known stores, and of the
// ServiceEntry informers' caches.
func (s *Source) countObjects() {
	count := func(ws []*watcher) int {
		n := 0
		for _, w := range ws {
			n += w.known.len()
		}
		return n
	}
	s.obs.SetObjects("Service", count(s.services))
	s.obs.SetObjects("EndpointSlice", count(s.slices))
	if e := s.entries.Load(); e != nil {
		n := 0
		for _, inf := range e.informers {
			n += len(inf.GetStore().ListKeys())
		}
		s.obs.SetObjects("ServiceEntry", n)
	}
}
