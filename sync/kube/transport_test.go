package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/meshdns/meshdns/sync/kube/kubeclient"
)

type fakeRT struct {
	status int
	err    error
}

func (f *fakeRT) RoundTrip(*http.Request) (*http.Response, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &http.Response{StatusCode: f.status, Status: fmt.Sprint(f.status), Body: io.NopCloser(strings.NewReader(""))}, nil
}

func TestResourceOf(t *testing.T) {
	for path, want := range map[string]string{
		"/api/v1/services":                                             "services",
		"/api/v1/namespaces/default/services":                          "services",
		"/apis/discovery.k8s.io/v1/namespaces/a/endpointslices":        "endpointslices",
		"/apis/networking.istio.io/v1beta1/serviceentries":             "serviceentries",
		"/apis/networking.istio.io/v1":                                 "discovery",
		"/api/v1/pods":                                                 "pods",
		"/api/v1/namespaces/services/endpoints":                        "services", // a namespace named services: close enough
		"/apis/discovery.k8s.io/v1/namespaces/services/endpointslices": "services",
	} {
		if got := resourceOf(path); got != want {
			t.Errorf("resourceOf(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestAPITransportCountsFailuresAndLogsTransitions(t *testing.T) {
	obs := NewFakeObserver()
	var logs bytes.Buffer
	rt := &fakeRT{status: 200}
	tr := &apiTransport{next: rt, obs: obs, log: slog.New(slog.NewTextHandler(&logs, nil)), failing: map[string]bool{}}
	get := func(path string) {
		req, _ := http.NewRequest(http.MethodGet, "https://api"+path, nil)
		if resp, err := tr.RoundTrip(req); err == nil {
			resp.Body.Close()
		}
	}
	get("/api/v1/services")
	rt.err = errors.New("connection refused")
	get("/api/v1/services")
	get("/api/v1/services")
	rt.err, rt.status = nil, 503
	get("/apis/discovery.k8s.io/v1/endpointslices")
	rt.status = 404 // an answer, not an API failure
	get("/apis/networking.istio.io/v1")
	rt.err = fmt.Errorf("wrapped: %w", context.Canceled)
	get("/api/v1/services") // the source stopping: not counted
	rt.err, rt.status = nil, 200
	get("/api/v1/services")

	if obs.RequestErrors("services") != 2 || obs.RequestErrors("endpointslices") != 1 || obs.RequestErrors("discovery") != 0 {
		t.Errorf("request errors: services %d endpointslices %d discovery %d",
			obs.RequestErrors("services"), obs.RequestErrors("endpointslices"), obs.RequestErrors("discovery"))
	}
	out := logs.String()
	if n := strings.Count(out, "request failed"); n != 2 {
		t.Errorf("%d failure lines, want one per resource:\n%s", n, out)
	}
	if n := strings.Count(out, "reachable again"); n != 1 {
		t.Errorf("%d recovery lines, want 1:\n%s", n, out)
	}
}

func TestNewWrapsRESTConfigTransport(t *testing.T) {
	// The clients built from a RESTConfig go through apiTransport: a
	// server that answers 503 is counted.
	srv := newStatusServer(t, http.StatusServiceUnavailable)
	obs := NewFakeObserver()
	s, err := New(Config{RESTConfig: srv, Observer: obs, Discovery: NewFakeDiscovery()})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = s.client.ListWatch(kubeclient.Services, "", "").List(listOpts())
	if obs.RequestErrors("services") == 0 {
		t.Fatal("503 from the API server not counted")
	}
}

func listOpts() metav1.ListOptions { return metav1.ListOptions{} }

func newStatusServer(t *testing.T, status int) *rest.Config {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return &rest.Config{Host: srv.URL}
}
