package protoshrink

import (
	discoveryv1 "k8s.io/api/discovery/v1"
)

// endpointSlice decodes an EndpointSlice message b into es as
// model.ShrinkEndpointSlice keeps it.
func (d *decoder) endpointSlice(b []byte, es *discoveryv1.EndpointSlice) bool {
	prealloc(&es.Endpoints, b, 2)
	return walk(b, func(f field) bool {
		switch f.num {
		case 1:
			return f.isBytes() && d.meta(f.b, &es.ObjectMeta, discoveryv1.LabelServiceName)
		case 2:
			return appendDecoded(&es.Endpoints, f, d.endpoint)
		case 3:
			// Kept whole: the generated decoder's.
			return appendDecoded(&es.Ports, f, unmarshal[discoveryv1.EndpointPort])
		case 4:
			if !f.isBytes() {
				return false
			}
			es.AddressType = discoveryv1.AddressType(f.str())
			return true
		default:
			return d.s.endpointSlice.check(f)
		}
	})
}

func (d *decoder) endpoint(b []byte, e *discoveryv1.Endpoint) bool {
	return walk(b, func(f field) bool {
		switch f.num {
		case 1:
			if !f.isBytes() {
				return false
			}
			e.Addresses = append(e.Addresses, f.str())
		case 2:
			return f.isBytes() && d.conditions(f.b, &e.Conditions)
		case 3:
			if !f.isBytes() {
				return false
			}
			h := f.str()
			e.Hostname = &h
		default:
			return d.s.endpoint.check(f)
		}
		return true
	})
}

func (d *decoder) conditions(b []byte, c *discoveryv1.EndpointConditions) bool {
	return walk(b, func(f field) bool {
		if f.num != 1 {
			return d.s.conditions.check(f)
		}
		if !f.isVarint() {
			return false
		}
		ready := f.v != 0
		c.Ready = &ready
		return true
	})
}

// endpointSliceList decodes an EndpointSliceList message b into l, each
// item as endpointSlice decodes it.
func (d *decoder) endpointSliceList(b []byte, l *discoveryv1.EndpointSliceList) bool {
	return list(b, &l.ListMeta, &l.Items, d.endpointSlice, d.s.endpointSliceList)
}
