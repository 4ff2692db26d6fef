package model

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// Objects is one complete view of the objects names are built from. A
// source hands a fresh Objects to its update function on every change and
// does not touch it afterwards; Build only reads it.
type Objects struct {
	Services       []*corev1.Service
	EndpointSlices []*discoveryv1.EndpointSlice
	ServiceEntries []*ServiceEntry
}

// Len returns the number of objects held.
func (o *Objects) Len() int {
	if o == nil {
		return 0
	}
	return len(o.Services) + len(o.EndpointSlices) + len(o.ServiceEntries)
}
