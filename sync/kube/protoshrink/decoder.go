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
	if !walk(b, func(f field) bool {
		switch f.num {
		case 1:
			return f.isBytes() && d.typeMeta(f.b, &apiVersion, &kind)
		case 2:
			raw = f.b
			return f.isBytes()
		default:
			return d.s.unknown.check(f)
		}
	}) {
		return nil, nil, false
	}
	core, discovery := string(apiVersion) == "v1", string(apiVersion) == "discovery.k8s.io/v1"
	switch {
	case core && string(kind) == "Service":
		return typed(raw, d.service, corev1.SchemeGroupVersion.WithKind("Service"))
	case core && string(kind) == "ServiceList":
		return typed(raw, d.serviceList, corev1.SchemeGroupVersion.WithKind("ServiceList"))
	case discovery && string(kind) == "EndpointSlice":
		return typed(raw, d.endpointSlice, discoveryv1.SchemeGroupVersion.WithKind("EndpointSlice"))
	case discovery && string(kind) == "EndpointSliceList":
		return typed(raw, d.endpointSliceList, discoveryv1.SchemeGroupVersion.WithKind("EndpointSliceList"))
	}
	return nil, nil, false
}

// typed decodes raw into a new T with dec and sets its type to gvk, as the
// standard decoder does.
func typed[T any, P interface {
	*T
	runtime.Object
}](raw []byte, dec func([]byte, P) bool, gvk kschema.GroupVersionKind) (runtime.Object, *kschema.GroupVersionKind, bool) {
	x := P(new(T))
	if !dec(raw, x) {
		return nil, nil, false
	}
	x.GetObjectKind().SetGroupVersionKind(gvk)
	return x, &gvk, true
}

// typeMeta decodes the envelope's TypeMeta message b into apiVersion and
// kind (aliasing b), merging as the generated decoder does.
func (d *decoder) typeMeta(b []byte, apiVersion, kind *[]byte) bool {
	return walk(b, func(f field) bool {
		switch f.num {
		case 1:
			*apiVersion = f.b
		case 2:
			*kind = f.b
		default:
			return d.s.typeMeta.check(f)
		}
		return f.isBytes()
	})
}

// list decodes a List message b (its ListMeta, field 1, and its items,
// field 2) into meta and items, each item with item, its other fields
// checked against s.
func list[T any](b []byte, meta *metav1.ListMeta, items *[]T, item func([]byte, *T) bool, s *schema) bool {
	prealloc(items, b, 2)
	return walk(b, func(f field) bool {
		switch f.num {
		case 1:
			return f.isBytes() && meta.Unmarshal(f.b) == nil
		case 2:
			return appendDecoded(items, f, item)
		default:
			return s.check(f)
		}
	})
}
