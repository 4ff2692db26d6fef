package main

import "github.com/miekg/dns"

// podNamespace is the Kubernetes namespace the demo pod lives in.
const podNamespace = "default"

// resolvConf is the demo pod's resolv.conf, as the kubelet writes it for a
// pod in the default namespace (with the upstream as its nameserver).
const resolvConf = `nameserver 198.18.0.1
search default.svc.cluster.local svc.cluster.local cluster.local
options ndots:5
`

// demoLookups are the queries made in each step, against the names in
// examples/objects.yaml (web, and the ExternalNames search and store, in
// namespace default; api and the headless db in namespace shop;
// ServiceEntries payments.example.com, *.internal.example.com and
// legacy.example.net) and upstream.ExampleZone.
func demoLookups() []lookup {
	const (
		web    = "web.default.svc.cluster.local"
		api    = "api.shop.svc.cluster.local"
		db     = "db.shop.svc.cluster.local"
		search = "search.default.svc.cluster.local"
		store  = "store.default.svc.cluster.local"
	)
	return []lookup{
		// A short name, through glibc and the search list.
		{Query: "web", Tool: toolGetent, FQDN: web, Mesh: true},
		{Query: web, Type: dns.TypeA, Tool: toolDig, FQDN: web, Mesh: true},
		{Query: web, Type: dns.TypeA, Tool: toolGo, FQDN: web, Mesh: true},
		// web has only an IPv4 ClusterIP: meshdns answers NOERROR, no data.
		{Query: web, Type: dns.TypeAAAA, Tool: toolDig, FQDN: web, Mesh: true, Empty: true},
		// Another namespace's dual-stack service, by <svc>.<ns>.
		{Query: "api.shop", Tool: toolGetent, FQDN: api, Mesh: true},
		// A headless service: one A record per ready endpoint.
		{Query: db, Type: dns.TypeA, Tool: toolDig, FQDN: db, Mesh: true},
		// ExternalName services. store is an alias of api.shop, a name
		// meshdns holds: the CNAME and api's addresses, in the pod, through
		// glibc and dig.
		{Query: "store", Tool: toolGetent, FQDN: store, Mesh: true},
		{Query: store, Type: dns.TypeA, Tool: toolDig, FQDN: store, Mesh: true},
		// search is an alias of www.example.org, which meshdns does not
		// hold: its address queries go to the cluster DNS, which chases the
		// CNAME (a CNAME alone would leave glibc and musl without an address).
		{Query: search, Type: dns.TypeA, Tool: toolDig, FQDN: search},
		// Istio ServiceEntry hosts: a fixed address, a wildcard, an
		// automatically allocated VIP.
		{Query: "payments.example.com", Type: dns.TypeA, Tool: toolDig, FQDN: "payments.example.com", Mesh: true},
		{Query: "payments.example.com", Tool: toolGetent, FQDN: "payments.example.com", Mesh: true},
		{Query: "shop.internal.example.com", Type: dns.TypeA, Tool: toolDig, FQDN: "shop.internal.example.com", Mesh: true},
		{Query: "legacy.example.net", Type: dns.TypeA, Tool: toolDig, FQDN: "legacy.example.net", Mesh: true},
		// External names: always the upstream's.
		{Query: "www.example.org", Type: dns.TypeA, Tool: toolDig, FQDN: "www.example.org"},
		{Query: "www.example.org", Tool: toolGetent, FQDN: "www.example.org"},
		{Query: "example.net", Type: dns.TypeA, Tool: toolGo, FQDN: "example.net"},
	}
}
