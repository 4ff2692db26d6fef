package protoshrink

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// checkEventAgainstStandard decodes data as a WatchEvent with fast and
// with the standard stream serializer std, and fails t when fast takes
// data (decodes it without std) and its event is not std's or std refuses
// data. It reports whether fast took data.
func checkEventAgainstStandard(t testing.TB, fast *streamSerializer, std runtime.Serializer, data []byte) bool {
	t.Helper()
	var got metav1.WatchEvent
	if !fast.watchEvent(data, &got) || len(data) == 0 {
		return false
	}
	var want metav1.WatchEvent
	_, wantGVK, err := std.Decode(data, nil, &want)
	if err != nil {
		t.Fatalf("fast decode took what the standard one refuses (%v): %q", err, data)
	}
	var viaDecode metav1.WatchEvent
	obj, gvk, err := fast.Decode(data, nil, &viaDecode)
	if err != nil || obj != &viaDecode {
		t.Fatalf("Decode: %v", err)
	}
	if diff := cmp.Diff(want, viaDecode); diff != "" {
		t.Fatalf("watch event (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantGVK, gvk); diff != "" {
		t.Fatalf("group version kind (-want +got):\n%s", diff)
	}
	return true
}

func TestStreamSerializer(t *testing.T) {
	info := protobufInfo(t, codecs(t))
	std := info.StreamSerializer.Serializer
	fast, ok := newStreamSerializer(std).(*streamSerializer)
	if !ok {
		t.Fatal("no fast stream serializer")
	}
	var events [][]byte
	for _, tc := range decodeCases() {
		for _, typ := range []string{"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR", "odd"} {
			ev := metav1.WatchEvent{Type: typ, Object: runtime.RawExtension{Raw: encode(t, info.Serializer, tc.obj)}}
			b, err := ev.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, b)
		}
	}
	for _, b := range events {
		if !checkEventAgainstStandard(t, fast, std, b) {
			t.Fatalf("the fast decoder did not take a watch event: %q", b)
		}
	}
	// Handed on: an empty frame, a bad wire type, truncated.
	for _, b := range [][]byte{nil, {0x08, 0x01}, events[0][:len(events[0])-1]} {
		if checkEventAgainstStandard(t, fast, std, b) {
			t.Fatalf("the fast decoder took %q", b)
		}
	}
}
