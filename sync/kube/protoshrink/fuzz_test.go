package protoshrink

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// envelopeKinds are the envelopes FuzzDecode wraps its raw bytes in: the
// four the decoder takes and one it does not.
var envelopeKinds = [][2]string{
	{"v1", "Service"}, {"v1", "ServiceList"},
	{"discovery.k8s.io/v1", "EndpointSlice"}, {"discovery.k8s.io/v1", "EndpointSliceList"},
	{"v1", "Pod"},
}

// envelope wraps raw as the protobuf serializer does, as an object of
// apiVersion and kind.
func envelope(apiVersion, kind string, raw []byte) []byte {
	var tm []byte
	tm = protowire.AppendTag(tm, 1, protowire.BytesType)
	tm = protowire.AppendString(tm, apiVersion)
	tm = protowire.AppendTag(tm, 2, protowire.BytesType)
	tm = protowire.AppendString(tm, kind)
	b := []byte(protobufPrefix)
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, tm)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	return protowire.AppendBytes(b, raw)
}

// FuzzDecode feeds the decoder arbitrary bytes, as they are and as the raw
// object of each envelope, and the stream serializer the same bytes as a
// WatchEvent, seeded with the real-shaped objects' encodings
// for the fuzzer to mutate. The decoder must not panic; when it takes the
// input, the standard decoder must take it too and the decoder's result must
// be the shrink of the standard one (the standard event for a WatchEvent).
func FuzzDecode(f *testing.F) {
	info := protobufInfo(f, codecs(f))
	std := info.Serializer
	d := newDecoder()
	stream, ok := newStreamSerializer(info.StreamSerializer.Serializer).(*streamSerializer)
	if !ok {
		f.Fatal("no fast stream serializer")
	}
	for _, tc := range decodeCases() {
		data := encode(f, std, tc.obj)
		f.Add(data)
		// The raw object, for the envelopes.
		if _, raw, ok := cutEnvelope(data); ok {
			f.Add(raw)
		}
		ev := metav1.WatchEvent{Type: "MODIFIED", Object: runtime.RawExtension{Raw: data}}
		if b, err := ev.Marshal(); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkAgainstStandard(t, d, std, b)
		for _, k := range envelopeKinds {
			checkAgainstStandard(t, d, std, envelope(k[0], k[1], b))
		}
		checkEventAgainstStandard(t, stream, info.StreamSerializer.Serializer, b)
	})
}

// cutEnvelope returns the raw object of data, an encoding of the protobuf
// serializer (the last raw field of its envelope).
func cutEnvelope(data []byte) (rest, raw []byte, ok bool) {
	b := data[len(protobufPrefix):]
	for len(b) > 0 {
		f, r, ok := next(b)
		if !ok {
			return nil, nil, false
		}
		if f.num == 2 {
			raw = f.b
		}
		b = r
	}
	return b, raw, raw != nil
}
