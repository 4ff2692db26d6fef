package protoshrink

import (
	discoveryv1 "k8s.io/api/discovery/v1"
)

// endpointSlice decodes an EndpointSlice message b into es as
// model.ShrinkEndpointSlice keeps it.
func (d *decoder) endpointSlice(b []byte, es *discoveryv1.EndpointSlice) bool {
	if n := count(b, 2); n > 0 && es.Endpoints == nil {
		es.Endpoints = make([]discoveryv1.Endpoint, 0, n)
	}
	for len(b) > 0 {
		f, rest, ok := next(b)
		if !ok {
			return false
		}
		b = rest
		switch f.num {
		case 1:
			if !f.isBytes() || !d.meta(f.b, &es.ObjectMeta, discoveryv1.LabelServiceName) {
				return false
			}
		case 2:
			if !f.isBytes() {
				return false
			}
			es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{})
			if !d.endpoint(f.b, &es.Endpoints[len(es.Endpoints)-1]) {
				return false
			}
		case 3:
			// Kept whole: the generated decoder's.
			if !f.isBytes() {
				return false
			}
			es.Ports = append(es.Ports, discoveryv1.EndpointPort{})
			if es.Ports[len(es.Ports)-1].Unmarshal(f.b) != nil {
				return false
			}
		case 4:
			if !f.isBytes() {
				return false
			}
			es.AddressType = discoveryv1.AddressType(f.str())
		default:
			if !d.s.endpointSlice.check(f) {
				return false
			}
		}
	}
	return true
}

func (d *decoder) endpoint(b []byte, e *discoveryv1.Endpoint) bool {
	for len(b) > 0 {
		f, rest, ok := next(b)
		if !ok {
			return false
		}
		b = rest
		switch f.num {
		case 1:
			if !f.isBytes() {
				return false
			}
			e.Addresses = append(e.Addresses, f.str())
		case 2:
			if !f.isBytes() || !d.conditions(f.b, &e.Conditions) {
				return false
			}
		case 3:
			if !f.isBytes() {
				return false
			}
			h := f.str()
			e.Hostname = &h
		default:
			if !d.s.endpoint.check(f) {
				return false
			}
		}
	}
	return true
}

func (d *decoder) conditions(b []byte, c *discoveryv1.EndpointConditions) bool {
	for len(b) > 0 {
		f, rest, ok := next(b)
		if !ok {
			return false
		}
		b = rest
		if f.num == 1 {
			if !f.isVarint() {
				return false
			}
			ready := f.v != 0
			c.Ready = &ready
		} else if !d.s.conditions.check(f) {
			return false
		}
	}
	return true
}

// endpointSliceList decodes an EndpointSliceList message b into l, each
// item as endpointSlice decodes it.
func (d *decoder) endpointSliceList(b []byte, l *discoveryv1.EndpointSliceList) bool {
	if n := count(b, 2); n > 0 && l.Items == nil {
		l.Items = make([]discoveryv1.EndpointSlice, 0, n)
	}
	for len(b) > 0 {
		f, rest, ok := next(b)
		if !ok {
			return false
		}
		b = rest
		switch f.num {
		case 1:
			if !f.isBytes() || l.ListMeta.Unmarshal(f.b) != nil {
				return false
			}
		case 2:
			if !f.isBytes() {
				return false
			}
			l.Items = append(l.Items, discoveryv1.EndpointSlice{})
			if !d.endpointSlice(f.b, &l.Items[len(l.Items)-1]) {
				return false
			}
		default:
			if !d.s.endpointSliceList.check(f) {
				return false
			}
		}
	}
	return true
}
