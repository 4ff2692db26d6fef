package protoshrink

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/meshdns/meshdns/sync/model"
)

// BenchmarkDecodeEndpointSlice decodes a real-shaped EndpointSlice (10
// endpoints, managedFields, owner and target references) as the API server
// sends it: the standard protobuf serializer then model's shrink (as the
// source did), the fast decoder alone, and the fast decoder then the
// shrink (as the source's queue transform still runs).
func BenchmarkDecodeEndpointSlice(b *testing.B) {
	ns := codecs(b)
	std := protobufInfo(b, ns).Serializer
	fast := protobufInfo(b, NewNegotiatedSerializer(ns)).Serializer
	data := encode(b, std, realSlice("shop", "web", 10))
	b.Logf("%d bytes", len(data))
	for _, bc := range []struct {
		name   string
		dec    func([]byte) (any, error)
		shrink bool
	}{
		{"standard+shrink", func(d []byte) (any, error) { o, _, err := std.Decode(d, nil, nil); return o, err }, true},
		{"fast", func(d []byte) (any, error) { o, _, err := fast.Decode(d, nil, nil); return o, err }, false},
		{"fast+shrink", func(d []byte) (any, error) { o, _, err := fast.Decode(d, nil, nil); return o, err }, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				o, err := bc.dec(data)
				if err != nil {
					b.Fatal(err)
				}
				if bc.shrink {
					o = model.ShrinkEndpointSlice(o.(*discoveryv1.EndpointSlice))
				}
				if len(o.(*discoveryv1.EndpointSlice).Endpoints) != 10 {
					b.Fatal("not 10 endpoints")
				}
			}
		})
	}
}

// BenchmarkDecodeWatchEvent decodes the same EndpointSlice in a watch
// event frame as a REST client's watch does (the stream serializer's
// WatchEvent, then the object decoder on its object), then shrinks it:
// through the standard CodecFactory and through NewNegotiatedSerializer.
func BenchmarkDecodeWatchEvent(b *testing.B) {
	ns := codecs(b)
	frame := watchStream(b, ns, []runtime.Object{realSlice("shop", "web", 10)})
	frame = frame[4:] // the length-delimited framer's 4-byte length
	for _, bc := range []struct {
		name string
		ns   runtime.NegotiatedSerializer
	}{{"standard+shrink", ns}, {"fast+shrink", NewNegotiatedSerializer(ns)}} {
		b.Run(bc.name, func(b *testing.B) {
			objDec, streamSer, _, err := runtime.NewClientNegotiator(bc.ns, corev1.SchemeGroupVersion).
				StreamDecoder(runtime.ContentTypeProtobuf, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				var ev metav1.WatchEvent
				if _, _, err := streamSer.Decode(frame, nil, &ev); err != nil {
					b.Fatal(err)
				}
				obj, err := runtime.Decode(objDec, ev.Object.Raw)
				if err != nil {
					b.Fatal(err)
				}
				if es := model.ShrinkEndpointSlice(obj.(*discoveryv1.EndpointSlice)); len(es.Endpoints) != 10 {
					b.Fatal("not 10 endpoints")
				}
			}
		})
	}
}
