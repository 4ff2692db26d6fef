package protoshrink

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// fill sets every exported field of v (recursively) to a value that is not
// zero: two elements a slice, three entries a map (two of them the keys
// of the label and the annotation the shrinks keep).
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[metav1.Time]() {
			v.Set(reflect.ValueOf(metav1.Unix(int64(1_700_000_000+*n), 0)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte{byte(*n), 1})
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fill(v.Index(0), n)
		fill(v.Index(1), n)
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for _, key := range []string{discoveryv1.LabelServiceName, metav1.InitialEventsAnnotationKey, "other"} {
			val := reflect.New(v.Type().Elem()).Elem()
			fill(val, n)
			v.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), val)
		}
	case reflect.String:
		v.SetString("s" + string(rune('a'+*n%26)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*n))
	}
}

// TestDecodeFilled decodes objects with every field set. It ties the
// decoder to model's shrinks: should ShrinkService or ShrinkEndpointSlice
// keep a field the decoder does not read, the shrink of the standard decode
// has it and the fast one does not. It also checks the schemas against the
// generated encoders: a field of the wrong wire type in a schema makes the
// decoder refuse the object.
func TestDecodeFilled(t *testing.T) {
	std := protobufInfo(t, codecs(t)).Serializer
	d := newDecoder()
	var n int
	for _, obj := range []runtime.Object{
		&corev1.Service{}, &discoveryv1.EndpointSlice{},
		&corev1.ServiceList{}, &discoveryv1.EndpointSliceList{},
	} {
		t.Run(reflect.TypeOf(obj).Elem().Name(), func(t *testing.T) {
			fill(reflect.ValueOf(obj).Elem(), &n)
			// The server's types.
			switch o := obj.(type) {
			case *corev1.Service:
				o.APIVersion, o.Kind = "v1", "Service"
			case *corev1.ServiceList:
				o.APIVersion, o.Kind = "v1", "ServiceList"
			case *discoveryv1.EndpointSlice:
				o.APIVersion, o.Kind = "discovery.k8s.io/v1", "EndpointSlice"
			case *discoveryv1.EndpointSliceList:
				o.APIVersion, o.Kind = "discovery.k8s.io/v1", "EndpointSliceList"
			}
			if !checkAgainstStandard(t, d, std, encode(t, std, obj)) {
				t.Fatal("the fast decoder did not take an object with every field set")
			}
		})
	}
}
