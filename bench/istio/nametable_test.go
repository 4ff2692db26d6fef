package main

import (
	"slices"
	"strings"
	"testing"
)

const objectsYAML = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: web, namespace: bench}
  spec:
    clusterIP: 198.19.0.1
    clusterIPs: [198.19.0.1, "fd53:96::1"]
    ports: [{name: http, port: 80}]
- apiVersion: v1
  kind: Service
  metadata: {name: db, namespace: ns-1}
  spec:
    clusterIP: None
    ports: [{name: pg, port: 5432}]
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata:
    name: db-abcde
    namespace: ns-1
    labels: {kubernetes.io/service-name: db}
  addressType: IPv4
  endpoints:
  - addresses: [198.19.128.1]
    hostname: db-0
    conditions: {ready: true}
  - addresses: [198.19.128.2]
    conditions: {ready: false}
  - addresses: [198.19.128.3]
- apiVersion: v1
  kind: Service
  metadata: {name: ext, namespace: bench}
  spec: {type: ExternalName, externalName: example.com}
- apiVersion: v1
  kind: Service
  metadata: {name: lonely, namespace: bench}
  spec: {clusterIP: None, ports: [{port: 1}]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: se, namespace: bench}
spec:
  hosts: [api.example.org, "*.wild.example"]
  addresses: [198.19.64.1, 198.19.64.0/24]
  resolution: STATIC
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: noaddr, namespace: bench}
spec:
  hosts: [dns.example.org]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: shadow, namespace: bench}
spec:
  hosts: [web.bench.svc.cluster.local]
  addresses: [198.19.64.9]
`

func TestBuildNameTable(t *testing.T) {
	objs, err := parseObjects(strings.NewReader(objectsYAML))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs.services) != 4 || len(objs.slices) != 1 || len(objs.serviceEntries) != 3 {
		t.Fatalf("parsed %d services, %d slices, %d serviceentries", len(objs.services), len(objs.slices), len(objs.serviceEntries))
	}
	nt := buildNameTable(objs, "cluster.local")
	want := []string{
		"*.wild.example",
		"api.example.org",
		"db-0.db.ns-1.svc.cluster.local",
		"db.ns-1.svc.cluster.local",
		"web.bench.svc.cluster.local",
	}
	if got := hostNames(nt); !slices.Equal(got, want) {
		t.Fatalf("hosts %v, want %v", got, want)
	}
	web := nt.Table["web.bench.svc.cluster.local"]
	if web.Registry != registryKubernetes || web.Shortname != "web" || web.Namespace != "bench" || !slices.Equal(web.Ips, []string{"198.19.0.1", "fd53:96::1"}) {
		t.Errorf("web: %+v (the Service must win over the ServiceEntry)", web)
	}
	db := nt.Table["db.ns-1.svc.cluster.local"]
	if !slices.Equal(db.Ips, []string{"198.19.128.1", "198.19.128.3"}) {
		t.Errorf("headless db: %v (not-ready endpoint must be left out)", db.Ips)
	}
	pod := nt.Table["db-0.db.ns-1.svc.cluster.local"]
	if pod.Shortname != "db-0.db" || pod.Namespace != "ns-1" || !slices.Equal(pod.Ips, []string{"198.19.128.1"}) {
		t.Errorf("endpoint name: %+v", pod)
	}
	se := nt.Table["api.example.org"]
	if se.Registry != registryExternal || !slices.Equal(se.Ips, []string{"198.19.64.1"}) {
		t.Errorf("ServiceEntry host: %+v (a CIDR is not an address)", se)
	}
}

func TestParseObjectsErrors(t *testing.T) {
	if _, err := parseObjects(strings.NewReader("kind: [unclosed")); err == nil {
		t.Error("bad YAML accepted")
	}
	objs, err := parseObjects(strings.NewReader("---\n---\n"))
	if err != nil || len(objs.services) != 0 {
		t.Errorf("empty stream: %v %+v", err, objs)
	}
}

func FuzzParseObjects(f *testing.F) {
	f.Add(objectsYAML)
	f.Add("kind: Service\nspec: {clusterIP: x}\n")
	f.Fuzz(func(t *testing.T, s string) {
		objs, err := parseObjects(strings.NewReader(s))
		if err != nil {
			return
		}
		nt := buildNameTable(objs, "cluster.local")
		for h, ni := range nt.Table {
			if len(ni.Ips) == 0 {
				t.Errorf("host %q without addresses", h)
			}
		}
	})
}
