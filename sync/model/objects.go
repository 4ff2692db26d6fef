package model

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// Objects is one view of the objects names are built from. A source
// hands a fresh Objects to its update function on every change and does
// not touch it afterwards; Build only reads it.
//
// Without Changes it is complete. With Changes it is a delta: the lists
// are empty and Changes says what differs from the source's previous
// update; only an Incremental can use it (Build refuses it).
type Objects struct {
	Services       []*corev1.Service
	EndpointSlices []*discoveryv1.EndpointSlice
	ServiceEntries []*ServiceEntry
	Changes        *Changes
}

// Key names a namespaced object.
type Key struct{ Namespace, Name string }

// Changes lists the objects that changed since a source's previous
// update, each with its new version, nil for one deleted.
type Changes struct {
	Services       map[Key]*corev1.Service
	EndpointSlices map[Key]*discoveryv1.EndpointSlice
	// ServiceEntries, when ServiceEntriesChanged, is the complete new
	// list (a cluster holds few).
	ServiceEntries        []*ServiceEntry
	ServiceEntriesChanged bool
}

// Len returns the number of objects held, or changed in a delta.
func (o *Objects) Len() int {
	if o == nil {
		return 0
	}
	if c := o.Changes; c != nil {
		return len(c.Services) + len(c.EndpointSlices) + len(c.ServiceEntries)
	}
	return len(o.Services) + len(o.EndpointSlices) + len(o.ServiceEntries)
}

// Patch returns the complete objects o with the delta ch applied, sorted
// by namespace and name. o is not changed.
func (o *Objects) Patch(ch *Changes) *Objects {
	out := &Objects{ServiceEntries: o.ServiceEntries}
	if ch.ServiceEntriesChanged {
		out.ServiceEntries = ch.ServiceEntries
	}
	out.Services = patch(o.Services, ch.Services, func(x *corev1.Service) Key { return Key{x.Namespace, x.Name} })
	out.EndpointSlices = patch(o.EndpointSlices, ch.EndpointSlices, func(x *discoveryv1.EndpointSlice) Key { return Key{x.Namespace, x.Name} })
	return out
}

func patch[T any](l []*T, ch map[Key]*T, key func(*T) Key) []*T {
	out := make([]*T, 0, len(l)+len(ch))
	for _, x := range l {
		if x == nil {
			continue
		}
		if _, ok := ch[key(x)]; !ok {
			out = append(out, x)
		}
	}
	for _, x := range ch {
		if x != nil {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b *T) int {
		ka, kb := key(a), key(b)
		return cmp.Or(cmp.Compare(ka.Namespace, kb.Namespace), cmp.Compare(ka.Name, kb.Name))
	})
	return out
}
