package model

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func seFromJSON(t testing.TB, js string) (*ServiceEntry, error) {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON([]byte(js)); err != nil {
		t.Fatalf("bad test input: %v", err)
	}
	return ServiceEntryFromUnstructured(u)
}

func TestServiceEntryFromUnstructured(t *testing.T) {
	got, err := seFromJSON(t, `{
		"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
		"metadata": {"name": "ext", "namespace": "ns", "creationTimestamp": "2026-02-03T04:05:06Z",
			"labels": {"networking.istio.io/enable-autoallocate-ip": "false"}},
		"spec": {"hosts": ["a.example.com", "*.b.example.com"], "addresses": ["10.0.0.1", "10.0.1.0/24"],
			"resolution": "dns", "location": "MESH_EXTERNAL",
			"ports": [{"number": 443, "name": "https", "protocol": "TLS", "targetPort": 8443}]},
		"status": {"addresses": [{"value": "240.240.0.9", "host": "a.example.com"}]}}`)
	if err != nil {
		t.Fatal(err)
	}
	want := &ServiceEntry{
		Namespace:         "ns",
		Name:              "ext",
		Labels:            map[string]string{LabelAutoAllocate: "false"},
		CreationTimestamp: time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC),
		Hosts:             []string{"a.example.com", "*.b.example.com"},
		Addresses:         []string{"10.0.0.1", "10.0.1.0/24"},
		Resolution:        ResolutionDNS,
		Ports:             []ServiceEntryPort{{Number: 443, Protocol: "TLS", Name: "https", TargetPort: 8443}},
		StatusAddresses:   []ServiceEntryAddress{{Value: "240.240.0.9", Host: "a.example.com"}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestServiceEntryFromUnstructuredVersions(t *testing.T) {
	for _, tc := range []struct {
		apiVersion, kind string
		resolution       string
		want             string
		wantErr          string
	}{
		{"networking.istio.io/v1", "ServiceEntry", `"STATIC"`, ResolutionStatic, ""},
		{"networking.istio.io/v1beta1", "ServiceEntry", `2`, ResolutionDNS, ""},
		{"networking.istio.io/v1alpha3", "ServiceEntry", `4`, ResolutionDynamicDNS, ""},
		{"networking.istio.io/v1", "ServiceEntry", `null`, "", ""},
		{"networking.istio.io/v1", "ServiceEntry", `9`, "", "spec.resolution: unknown value 9"},
		{"networking.istio.io/v1", "ServiceEntry", `{}`, "", "spec.resolution: want a string"},
		{"networking.istio.io/v2", "ServiceEntry", `"DNS"`, "", "not a ServiceEntry"},
		{"example.com/v1", "ServiceEntry", `"DNS"`, "", "not a ServiceEntry"},
		{"networking.istio.io/v1", "WorkloadEntry", `"DNS"`, "", "not a ServiceEntry"},
	} {
		js := `{"apiVersion": "` + tc.apiVersion + `", "kind": "` + tc.kind + `", "metadata": {"name": "x"}, "spec": {"resolution": ` + tc.resolution + `}}`
		se, err := seFromJSON(t, js)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want %q", js, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", js, err)
			continue
		}
		if se.Resolution != tc.want {
			t.Errorf("%s: resolution %q, want %q", js, se.Resolution, tc.want)
		}
	}
}

func TestServiceEntryFromUnstructuredErrors(t *testing.T) {
	const head = `"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry"`
	for _, tc := range []struct{ body, want string }{
		{`"metadata": {}`, "metadata.name: missing"},
		{`"metadata": {"name": 5}`, "metadata.name: want a string"},
		{`"metadata": {"name": "x", "labels": {"a": 1}}`, "metadata.labels.a: want a string"},
		{`"metadata": {"name": "x", "labels": []}`, "metadata.labels: want a map"},
		{`"metadata": {"name": "x", "creationTimestamp": "yesterday"}`, "metadata.creationTimestamp"},
		{`"metadata": {"name": "x"}, "spec": {"hosts": "a.example.com"}`, "spec.hosts: want a list"},
		{`"metadata": {"name": "x"}, "spec": {"hosts": ["a", 1]}`, "spec.hosts[1]: want a string"},
		{`"metadata": {"name": "x"}, "spec": {"addresses": [true]}`, "spec.addresses[0]: want a string"},
		{`"metadata": {"name": "x"}, "spec": {"ports": [{"number": 70000}]}`, "spec.ports[0].number: 70000 is not a port number"},
		{`"metadata": {"name": "x"}, "spec": {"ports": [{"number": "http"}]}`, "spec.ports[0].number"},
		{`"metadata": {"name": "x"}, "spec": {"ports": [{"number": 1.5}]}`, "spec.ports[0].number"},
		{`"metadata": {"name": "x"}, "spec": {"ports": [5]}`, "spec.ports[0]: want an object"},
		{`"metadata": {"name": "x"}, "spec": "oops"`, "spec.hosts"},
		{`"metadata": {"name": "x"}, "status": {"addresses": [{"value": 1}]}`, "status.addresses[0]: value: want a string"},
	} {
		_, err := seFromJSON(t, "{"+head+", "+tc.body+"}")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.body, err, tc.want)
		}
	}
	if _, err := ServiceEntryFromUnstructured(nil); err == nil {
		t.Error("nil: no error")
	}
}

// FuzzServiceEntry feeds arbitrary JSON through the converter and Build:
// neither may panic, and a converted entry always builds.
func FuzzServiceEntry(f *testing.F) {
	f.Add(`{"apiVersion":"networking.istio.io/v1","kind":"ServiceEntry","metadata":{"name":"a","namespace":"b"},"spec":{"hosts":["x.example.com","*.y.example.com"],"resolution":"DNS"}}`)
	f.Add(`{"apiVersion":"networking.istio.io/v1","kind":"ServiceEntry","metadata":{"name":"a"},"spec":{"hosts":["X.com."],"addresses":["10.0.0.1/32","::1/128","1.2.3.0/24"]},"status":{"addresses":[{"value":"240.240.0.1","host":"x.com"}]}}`)
	f.Add(`{"apiVersion":"networking.istio.io/v1","kind":"ServiceEntry","metadata":{"name":"a","creationTimestamp":"2026-01-01T00:00:00Z","labels":{"k":"v"}},"spec":{"hosts":["*"],"resolution":2,"ports":[{"number":80}]}}`)
	f.Fuzz(func(t *testing.T, js string) {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON([]byte(js)); err != nil {
			return
		}
		se, err := ServiceEntryFromUnstructured(u)
		if err != nil {
			return
		}
		if _, _, err := Build(&Objects{ServiceEntries: []*ServiceEntry{se}}, DefaultOptions()); err != nil {
			t.Fatalf("Build: %v", err)
		}
	})
}
