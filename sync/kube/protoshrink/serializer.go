package protoshrink

import (
	"slices"

	"k8s.io/apimachinery/pkg/runtime"
	kschema "k8s.io/apimachinery/pkg/runtime/schema"
)

// NewNegotiatedSerializer returns ns with its protobuf serializer
// (runtime.ContentTypeProtobuf) wrapped: a decode of a Service, an
// EndpointSlice or a List of either, into no given object (as a REST
// client's list and watch decode), gives the shrunk object (see the
// package doc), sorted out without the standard serializer; everything
// else goes to ns's serializer.
func NewNegotiatedSerializer(ns runtime.NegotiatedSerializer) runtime.NegotiatedSerializer {
	infos := slices.Clone(ns.SupportedMediaTypes())
	d := newDecoder()
	for i := range infos {
		if infos[i].MediaType == runtime.ContentTypeProtobuf && infos[i].Serializer != nil {
			infos[i].Serializer = &serializer{Serializer: infos[i].Serializer, d: d}
			if ss := infos[i].StreamSerializer; ss != nil && ss.Serializer != nil {
				stream := *ss
				stream.Serializer = newStreamSerializer(ss.Serializer)
				infos[i].StreamSerializer = &stream
			}
		}
	}
	return negotiated{NegotiatedSerializer: ns, infos: infos}
}

type negotiated struct {
	runtime.NegotiatedSerializer
	infos []runtime.SerializerInfo
}

// SupportedMediaTypes implements runtime.NegotiatedSerializer.
func (n negotiated) SupportedMediaTypes() []runtime.SerializerInfo { return n.infos }

// serializer is a protobuf serializer that decodes Services,
// EndpointSlices and their Lists with d.
type serializer struct {
	runtime.Serializer
	d *decoder
}

// Decode implements runtime.Decoder.
func (s *serializer) Decode(data []byte, defaults *kschema.GroupVersionKind, into runtime.Object) (runtime.Object, *kschema.GroupVersionKind, error) {
	if into == nil {
		if obj, gvk, ok := s.d.decode(data); ok {
			return obj, gvk, nil
		}
	}
	return s.Serializer.Decode(data, defaults, into)
}
