package model

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/meshdns/meshdns/dnsengine"
)

// PackRoundTrip returns objs with each Service and EndpointSlice packed
// and unpacked again, and the bytes each packed to, by kind and key.
func PackRoundTrip(objs *Objects) (*Objects, map[string][]byte, error) {
	out := &Objects{ServiceEntries: objs.ServiceEntries}
	enc := map[string][]byte{}
	for _, x := range objs.Services {
		k := Key{x.Namespace, x.Name}
		b := appendService(nil, x)
		enc["Service "+k.Namespace+"/"+k.Name] = b
		y := new(corev1.Service)
		if err := unpackService(string(b), k, y); err != nil {
			return nil, nil, err
		}
		out.Services = append(out.Services, y)
	}
	for _, x := range objs.EndpointSlices {
		k := Key{x.Namespace, x.Name}
		b := appendSlice(nil, x)
		enc["EndpointSlice "+k.Namespace+"/"+k.Name] = b
		y := new(discoveryv1.EndpointSlice)
		if err := unpackSlice(string(b), k, y); err != nil {
			return nil, nil, err
		}
		out.EndpointSlices = append(out.EndpointSlices, y)
	}
	return out, enc, nil
}

// UnpackService and UnpackSlice decode packed bytes b, as Incremental
// does a kept object.
func UnpackService(b []byte) error {
	return unpackService(string(b), Key{"ns", "name"}, new(corev1.Service))
}

func UnpackSlice(b []byte) error {
	return unpackSlice(string(b), Key{"ns", "name"}, new(discoveryv1.EndpointSlice))
}

// SetGroupHash makes m hash group keys with h (from its next complete
// Objects on), to force keys of equal hashes.
func SetGroupHash(m *Incremental, h func(dnsengine.GroupKey) uint64) { m.groupHash = h }
