package protoshrink

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// decodeCases are real-shaped objects of the four types the decoder takes.
func decodeCases() []struct {
	name string
	obj  runtime.Object
} {
	dual := realService("shop", "dual")
	dual.Spec.ClusterIPs = []string{"10.96.0.11", "fd00::11"}
	dual.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
	dual.Spec.IPFamilyPolicy = ptr(corev1.IPFamilyPolicyPreferDualStack)

	headless := realService("shop", "headless")
	headless.Spec.ClusterIP, headless.Spec.ClusterIPs = corev1.ClusterIPNone, []string{corev1.ClusterIPNone}
	headless.Spec.PublishNotReadyAddresses = true

	external := realService("shop", "ext")
	external.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com"}

	deleting := realService("shop", "going")
	deleting.DeletionTimestamp = ptr(metav1.NewTime(created.Add(time.Hour)))
	deleting.DeletionGracePeriodSeconds = ptr(int64(30))

	bare := &corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: "bare"}}

	v6 := realSlice("shop", "web6", 3)
	v6.AddressType = discoveryv1.AddressTypeIPv6
	v6.Endpoints[0].Addresses = []string{"fd00::1", "fd00::2"}
	v6.Ports = nil
	v6.DeletionTimestamp = ptr(metav1.NewTime(created.Add(time.Minute)))

	noEndpoints := realSlice("shop", "idle", 0)
	unlabelled := realSlice("shop", "mirror", 2)
	delete(unlabelled.Labels, discoveryv1.LabelServiceName)
	emptyLabel := realSlice("shop", "empty-label", 1)
	emptyLabel.Labels[discoveryv1.LabelServiceName] = ""

	// The bookmark ending a watch's initial events, as the API server
	// sends it: an empty object but for its version and an annotation.
	bookmarkMeta := metav1.ObjectMeta{ResourceVersion: "4242",
		Annotations: map[string]string{metav1.InitialEventsAnnotationKey: "true"}}
	sliceBookmark := &discoveryv1.EndpointSlice{ObjectMeta: bookmarkMeta,
		TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"}}
	serviceBookmark := &corev1.Service{ObjectMeta: bookmarkMeta,
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}}

	return []struct {
		name string
		obj  runtime.Object
	}{
		{"endpointslice initial-events-end bookmark", sliceBookmark},
		{"service initial-events-end bookmark", serviceBookmark},
		{"service", realService("shop", "web")},
		{"service dual-stack", dual},
		{"service headless publishNotReadyAddresses", headless},
		{"service ExternalName", external},
		{"service deleting", deleting},
		{"service bare", bare},
		{"endpointslice 10 endpoints", realSlice("shop", "web", 10)},
		{"endpointslice IPv6 deleting no ports", v6},
		{"endpointslice no endpoints", noEndpoints},
		{"endpointslice without service-name label", unlabelled},
		{"endpointslice empty service-name label", emptyLabel},
		{"service list", &corev1.ServiceList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceList"},
			ListMeta: metav1.ListMeta{ResourceVersion: "999", Continue: "next", RemainingItemCount: ptr(int64(7))},
			Items:    []corev1.Service{*realService("a", "one"), *dual, *external}}},
		{"service list empty", &corev1.ServiceList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceList"},
			ListMeta: metav1.ListMeta{ResourceVersion: "1000"}}},
		{"endpointslice list", &discoveryv1.EndpointSliceList{
			TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSliceList"},
			ListMeta: metav1.ListMeta{ResourceVersion: "1001"},
			Items:    []discoveryv1.EndpointSlice{*realSlice("a", "one", 4), *v6, *noEndpoints}}},
	}
}

func TestDecodeAsShrunk(t *testing.T) {
	ns := codecs(t)
	std := protobufInfo(t, ns).Serializer
	d := newDecoder()
	for _, tc := range decodeCases() {
		t.Run(tc.name, func(t *testing.T) {
			data := encode(t, std, tc.obj)
			if !checkAgainstStandard(t, d, std, data) {
				t.Fatal("the fast decoder did not take a real object")
			}
		})
	}
}

// TestDecodeHandsOn: what the decoder does not take in full goes to the
// standard decoder.
func TestDecodeHandsOn(t *testing.T) {
	ns := codecs(t)
	std := protobufInfo(t, ns).Serializer
	d := newDecoder()
	svc := encode(t, std, realService("shop", "web"))
	pod := encode(t, std, &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "p"}})
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"another type", pod},
		{"truncated", svc[:len(svc)-3]},
		{"no prefix", svc[4:]},
		{"empty", nil},
		{"prefix only", []byte(protobufPrefix)},
		// The envelope's TypeMeta field (1) as a varint.
		{"bad envelope wire type", append([]byte(protobufPrefix), 0x08, 0x01)},
		// A group (field 1, start group).
		{"group", append([]byte(protobufPrefix), 0x0b)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, ok := d.decode(tc.data); ok {
				t.Fatal("the fast decoder took it")
			}
		})
	}
}

// TestInitialEventsEnd: the bookmark ending a watch's initial events keeps
// the annotation client-go's reflector waits for (it reads it off the
// decoded object, before any transform).
func TestInitialEventsEnd(t *testing.T) {
	std := protobufInfo(t, codecs(t)).Serializer
	d := newDecoder()
	for _, tc := range decodeCases() {
		m, err := meta.Accessor(tc.obj)
		if err != nil || m.GetAnnotations()[metav1.InitialEventsAnnotationKey] != "true" {
			continue
		}
		obj, _, ok := d.decode(encode(t, std, tc.obj))
		if !ok {
			t.Fatalf("%s: not taken", tc.name)
		}
		got, err := meta.Accessor(obj)
		if err != nil {
			t.Fatal(err)
		}
		if got.GetAnnotations()[metav1.InitialEventsAnnotationKey] != "true" || got.GetResourceVersion() != "4242" {
			t.Fatalf("%s: annotations %v, version %q", tc.name, got.GetAnnotations(), got.GetResourceVersion())
		}
	}
}
