package protoshrink

import (
	"bytes"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kschema "k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	"k8s.io/apimachinery/pkg/watch"
	restwatch "k8s.io/client-go/rest/watch"
)

// watchStream is a watch response body as the API server sends it in
// protobuf: each object of objs in a MODIFIED WatchEvent, length-delimited.
func watchStream(t testing.TB, ns runtime.NegotiatedSerializer, objs []runtime.Object) []byte {
	t.Helper()
	info := protobufInfo(t, ns)
	var body bytes.Buffer
	w := info.StreamSerializer.Framer.NewFrameWriter(&body)
	for _, obj := range objs {
		ev := metav1.WatchEvent{Type: string(watch.Modified), Object: runtime.RawExtension{Raw: encode(t, info.Serializer, obj)}}
		b, err := ev.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	return body.Bytes()
}

// watchDecoder decodes a watch response body as a REST client with ns
// does (rest.Request's newStreamWatcher).
func watchDecoder(t testing.TB, ns runtime.NegotiatedSerializer, body []byte) *restwatch.Decoder {
	t.Helper()
	objDec, streamSer, framer, err := runtime.NewClientNegotiator(ns, corev1.SchemeGroupVersion).
		StreamDecoder(runtime.ContentTypeProtobuf, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := framer.NewFrameReader(io.NopCloser(bytes.NewReader(body)))
	return restwatch.NewDecoder(streaming.NewDecoder(r, streamSer), objDec)
}

// TestWatchAndList decodes a watch stream and Lists as a REST client does,
// through NewNegotiatedSerializer and through the standard CodecFactory
// then shrunk: the objects must be the same, and shrunk (the real-shaped
// objects have fields the shrink drops, so a fall back to the standard
// decoder would show).
func TestWatchAndList(t *testing.T) {
	std := codecs(t)
	fast := NewNegotiatedSerializer(std)
	var objs, lists []runtime.Object
	for _, tc := range decodeCases() {
		if _, ok := tc.obj.(metav1.ListInterface); ok {
			lists = append(lists, tc.obj)
		} else {
			objs = append(objs, tc.obj)
		}
	}
	body := watchStream(t, std, objs)
	fastW, stdW := watchDecoder(t, fast, body), watchDecoder(t, std, body)
	for i := range objs {
		ft, fobj, err := fastW.Decode()
		if err != nil {
			t.Fatal(err)
		}
		st, sobj, err := stdW.Decode()
		if err != nil {
			t.Fatal(err)
		}
		if ft != st || ft != watch.Modified {
			t.Fatalf("event %d: type %s, want %s", i, ft, st)
		}
		if diff := cmp.Diff(shrunk(sobj), fobj); diff != "" {
			t.Fatalf("event %d (-want +got):\n%s", i, diff)
		}
	}
	if _, _, err := fastW.Decode(); err != io.EOF {
		t.Fatalf("after the last event: %v, want EOF", err)
	}

	for _, l := range lists {
		data := encode(t, protobufInfo(t, std).Serializer, l)
		fdec, err := runtime.NewClientNegotiator(fast, corev1.SchemeGroupVersion).Decoder(runtime.ContentTypeProtobuf, nil)
		if err != nil {
			t.Fatal(err)
		}
		sdec, err := runtime.NewClientNegotiator(std, corev1.SchemeGroupVersion).Decoder(runtime.ContentTypeProtobuf, nil)
		if err != nil {
			t.Fatal(err)
		}
		fobj, _, err := fdec.Decode(data, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		sobj, _, err := sdec.Decode(data, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(shrunk(sobj), fobj); diff != "" {
			t.Fatalf("list (-want +got):\n%s", diff)
		}
	}
}

// TestSerializerHandsOn: a decode into a given object, and of another
// type, is the standard serializer's.
func TestSerializerHandsOn(t *testing.T) {
	std := codecs(t)
	fast := protobufInfo(t, NewNegotiatedSerializer(std)).Serializer
	data := encode(t, protobufInfo(t, std).Serializer, realService("shop", "web"))
	into := &corev1.Service{}
	obj, gvk, err := fast.Decode(data, nil, into)
	if err != nil || obj != into {
		t.Fatalf("decode into: %v, %p, want %p", err, obj, into)
	}
	if len(into.ManagedFields) == 0 || *gvk != (kschema.GroupVersionKind{Version: "v1", Kind: "Service"}) {
		t.Fatalf("decode into: not the standard decode: %v %v", into.ManagedFields, gvk)
	}
	pod := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "p", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "m"}}}}
	obj, _, err = fast.Decode(encode(t, protobufInfo(t, std).Serializer, pod), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(runtime.Object(pod), obj); diff != "" {
		t.Fatalf("a Pod (-want +got):\n%s", diff)
	}
}
