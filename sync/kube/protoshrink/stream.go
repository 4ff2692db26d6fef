package protoshrink

import (
	"reflect"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kschema "k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

// streamSerializer is a protobuf stream serializer (the one a REST client
// decodes each frame of a watch into a metav1.WatchEvent with) that
// decodes WatchEvents without copying their objects: the event's
// Object.Raw aliases the frame. The standard decoder copies it out of the
// frame, and the frame is the streaming decoder's buffer, which its next
// Decode overwrites. Aliasing is safe for a REST client's watch (client-go's
// rest/watch Decoder, the only user of this serializer): it decodes the
// event's object from Object.Raw at once, before it reads the next frame,
// and drops the event; the object decoders copy what they keep (this
// package's into new strings, the standard one when it unwraps the
// runtime.Unknown envelope).
type streamSerializer struct {
	runtime.Serializer
	// event and raw are the schemas of WatchEvent and RawExtension.
	event, raw *schema
	// gvk is what the standard serializer returns with a WatchEvent.
	gvk *kschema.GroupVersionKind
}

func newStreamSerializer(std runtime.Serializer) runtime.Serializer {
	m := schemas{}
	s := &streamSerializer{Serializer: std,
		event: m.of(reflect.TypeFor[metav1.WatchEvent]()),
		raw:   m.of(reflect.TypeFor[runtime.RawExtension]())}
	// The standard serializer's group, version and kind of a
	// WatchEvent, from a decode of an empty one.
	var ev metav1.WatchEvent
	if _, gvk, err := std.Decode([]byte{0x0a, 0x00}, nil, &ev); err == nil && gvk != nil {
		s.gvk = gvk
		return s
	}
	return std // no fast path then
}

// Decode implements runtime.Decoder.
func (s *streamSerializer) Decode(data []byte, defaults *kschema.GroupVersionKind, into runtime.Object) (runtime.Object, *kschema.GroupVersionKind, error) {
	if ev, ok := into.(*metav1.WatchEvent); ok && ev != nil && len(data) > 0 {
		var got metav1.WatchEvent
		if s.watchEvent(data, &got) {
			*ev = got
			gvk := *s.gvk
			return ev, &gvk, nil
		}
	}
	return s.Serializer.Decode(data, defaults, into)
}

// watchEvent decodes the WatchEvent message b into ev, its object's Raw
// aliasing b.
func (s *streamSerializer) watchEvent(b []byte, ev *metav1.WatchEvent) bool {
	return walk(b, func(f field) bool {
		switch f.num {
		case 1:
			if !f.isBytes() {
				return false
			}
			ev.Type = eventType(f.b)
			return true
		case 2:
			return f.isBytes() && s.rawExtension(f.b, &ev.Object)
		default:
			return s.event.check(f)
		}
	})
}

func (s *streamSerializer) rawExtension(b []byte, r *runtime.RawExtension) bool {
	return walk(b, func(f field) bool {
		if f.num != 1 {
			return s.raw.check(f)
		}
		if !f.isBytes() {
			return false
		}
		r.Raw = f.b
		if r.Raw == nil {
			r.Raw = []byte{}
		}
		return true
	})
}

// eventType is b as a string, the constant for the event types the API
// server sends (no allocation).
func eventType(b []byte) string {
	for _, t := range []watch.EventType{watch.Added, watch.Modified, watch.Deleted, watch.Bookmark, watch.Error} {
		if string(b) == string(t) {
			return string(t)
		}
	}
	return string(b)
}
