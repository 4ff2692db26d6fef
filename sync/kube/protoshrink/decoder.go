package protoshrink

import (
	"bytes"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kschema "k8s.io/apimachinery/pkg/runtime/schema"
)

// decoder decodes the objects the API server sends in protobuf (the
// protobuf serializer's "k8s\x00" prefix and runtime.Unknown envelope,
// then the object) into their shrunk form.
type decoder struct {
	// s holds the schemas of the messages whose other fields the
	// decoders check.
	s struct {
		objectMeta, service, serviceSpec, servicePort, serviceList,
		endpointSlice, endpoint, conditions, endpointSliceList,
		unknown, typeMeta *schema
	}
}

// protobufPrefix starts each protobuf object the API server sends (the
// protobuf serializer's).
const protobufPrefix = "k8s\x00"

func newDecoder() *decoder {
	m := schemas{}
	d := &decoder{}
	d.s.objectMeta = m.of(reflect.TypeFor[metav1.ObjectMeta]())
	d.s.service = m.of(reflect.TypeFor[corev1.Service]())
	d.s.serviceSpec = m.of(reflect.TypeFor[corev1.ServiceSpec]())
	d.s.servicePort = m.of(reflect.TypeFor[corev1.ServicePort]())
	d.s.serviceList = m.of(reflect.TypeFor[corev1.ServiceList]())
	d.s.endpointSlice = m.of(reflect.TypeFor[discoveryv1.EndpointSlice]())
	d.s.endpoint = m.of(reflect.TypeFor[discoveryv1.Endpoint]())
	d.s.conditions = m.of(reflect.TypeFor[discoveryv1.EndpointConditions]())
	d.s.endpointSliceList = m.of(reflect.TypeFor[discoveryv1.EndpointSliceList]())
	d.s.unknown = m.of(reflect.TypeFor[runtime.Unknown]())
	d.s.typeMeta = m.of(reflect.TypeFor[runtime.TypeMeta]())
	return d
}

// decode decodes data, a protobuf object as the API server sends it, when
// it is a Service, an EndpointSlice or a List of either, and returns the
// object with its group, version and kind set as the standard decoder sets
// them. ok is false for any other input.
func (d *decoder) decode(data []byte) (obj runtime.Object, gvk *kschema.GroupVersionKind, ok bool) {
	b, found := bytes.CutPrefix(data, []byte(protobufPrefix))
	if !found {
		return nil, nil, false
	}
	var apiVersion, kind, raw []byte
	for len(b) > 0 {
		f, rest, ok := next(b)
		if !ok {
			return nil, nil, false
		}
		b = rest
		switch f.num {
		case 1:
			if !f.isBytes() || !d.typeMeta(f.b, &apiVersion, &kind) {
				return nil, nil, false
			}
		case 2:
			if !f.isBytes() {
				return nil, nil, false
			}
			raw = f.b
		default:
			if !d.s.unknown.check(f) {
				return nil, nil, false
			}
		}
	}
	switch {
	case string(apiVersion) == "v1" && string(kind) == "Service":
		s := &corev1.Service{}
		if !d.service(raw, s) {
			return nil, nil, false
		}
		s.APIVersion, s.Kind = "v1", "Service"
		return s, &kschema.GroupVersionKind{Version: "v1", Kind: "Service"}, true
	case string(apiVersion) == "v1" && string(kind) == "ServiceList":
		l := &corev1.ServiceList{}
		if !d.serviceList(raw, l) {
			return nil, nil, false
		}
		l.APIVersion, l.Kind = "v1", "ServiceList"
		return l, &kschema.GroupVersionKind{Version: "v1", Kind: "ServiceList"}, true
	case string(apiVersion) == "discovery.k8s.io/v1" && string(kind) == "EndpointSlice":
		es := &discoveryv1.EndpointSlice{}
		if !d.endpointSlice(raw, es) {
			return nil, nil, false
		}
		es.APIVersion, es.Kind = "discovery.k8s.io/v1", "EndpointSlice"
		return es, &kschema.GroupVersionKind{Group: "discovery.k8s.io", Version: "v1", Kind: "EndpointSlice"}, true
	case string(apiVersion) == "discovery.k8s.io/v1" && string(kind) == "EndpointSliceList":
		l := &discoveryv1.EndpointSliceList{}
		if !d.endpointSliceList(raw, l) {
			return nil, nil, false
		}
		l.APIVersion, l.Kind = "discovery.k8s.io/v1", "EndpointSliceList"
		return l, &kschema.GroupVersionKind{Group: "discovery.k8s.io", Version: "v1", Kind: "EndpointSliceList"}, true
	}
	return nil, nil, false
}

// typeMeta decodes the envelope's TypeMeta message b into apiVersion and
// kind (aliasing b), merging as the generated decoder does.
func (d *decoder) typeMeta(b []byte, apiVersion, kind *[]byte) bool {
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
			*apiVersion = f.b
		case 2:
			if !f.isBytes() {
				return false
			}
			*kind = f.b
		default:
			if !d.s.typeMeta.check(f) {
				return false
			}
		}
	}
	return true
}
