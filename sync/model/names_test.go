package model

import "testing"

// TestServiceNames: a Service's provenance keeps its namespace and name
// as given; its FQDN is made of the lowercased ones, with a trailing dot.
func TestServiceNames(t *testing.T) {
	src, fqdn := serviceNames("Default", "Web", "web", "default", "cluster.local")
	if src != "Service Default/Web" || fqdn != "web.default.svc.cluster.local." {
		t.Fatalf("serviceNames = %q, %q", src, fqdn)
	}
}
