// Package model turns Kubernetes objects (Services, EndpointSlices and Istio
// ServiceEntries) into an immutable *dnsengine.Table. It is the one place
// that knows the Kubernetes DNS specification (schema 1.1.0), the CoreDNS
// kubernetes plugin's reading of it, and Istio's ServiceEntry DNS rules.
// Name sources (the objects file in sync/objects, the API server in
// sync/kube) produce an *Objects through the Source interface; Build turns
// one into a table. The same objects always give the same table.
// Incremental keeps a table in step with a source's updates, complete
// objects or deltas (Objects.Changes): it rebuilds only the groups of the
// Services a change touches (incremental.go), and its table answers
// exactly as Build's would (dnsengine's TestIncrementalMatchesBuild).
//
// # Kubernetes Services
//
// Every name is built under Options.ClusterDomain and is lowercase. An object
// whose names would not be valid DNS names is skipped and listed in the
// Report; Build never fails because of an object.
//
//   - ClusterIP (and NodePort, LoadBalancer) services: <svc>.<ns>.svc.<domain>
//     holds an A or AAAA record for each address in spec.clusterIPs
//     (spec.clusterIP when that list is empty), and each ClusterIP has a PTR
//     record pointing at that name.
//   - Headless services (clusterIP None): <svc>.<ns>.svc.<domain> holds the
//     addresses of the ready endpoints. An endpoint is ready when its
//     conditions.ready is true or unset (as CoreDNS reads it), or when the
//     service sets publishNotReadyAddresses. A headless service without a
//     ready endpoint gets no records at all, so it answers NXDOMAIN.
//   - Endpoint names, for every service with ready endpoints (CoreDNS answers
//     them for ClusterIP services too): <hostname>.<svc>.<ns>.svc.<domain>
//     for an endpoint with a hostname, otherwise the address with '.' or ':'
//     replaced by '-' (10-0-0-1, 2001-db8--1). Each endpoint address has a PTR
//     record pointing at its endpoint name, unless the address is also a
//     ClusterIP (the service name wins, as in CoreDNS). EndpointSlices join
//     their service through the kubernetes.io/service-name label in the same
//     namespace; an address seen in several slices counts once.
//   - ExternalName services: a CNAME from the service name to
//     spec.externalName. An ExternalName that is an IP address gives no
//     record (CoreDNS does the same).
//
// # SRV records
//
// SRV records are what CoreDNS answers, with its weights (priority 0, weight
// floor(100/n) and at least 1, where n is the number of (address, port)
// pairs behind the name, records with the same target and port merged):
//
//   - _<port>._<proto>.<svc>.<ns>.svc.<domain> for each named port, protocol
//     lowercase. A ClusterIP service answers 0 w <port> <svc FQDN> with n the
//     number of ClusterIPs (100 single-stack, 50 dual-stack); a headless
//     service answers one record per ready endpoint whose EndpointSlice has a
//     port of that name and protocol, target the endpoint name, port the
//     EndpointSlice port.
//   - <svc>.<ns>.svc.<domain> itself answers SRV for all ports, named or not
//     (CoreDNS treats a query without _port._proto as matching every port).
//   - An endpoint name answers SRV for all ports of its EndpointSlice.
//
// # ServiceEntries
//
// Each host of a ServiceEntry gets the entry's spec.addresses (IP addresses;
// a CIDR counts only when it is a single host, /32 or /128). A wildcard host
// "*.example.com" answers for every name below example.com that has no
// record of its own. Short hosts and hosts under the cluster domain are added
// as written. When a Kubernetes Service already owns a host, the Service
// wins and the ServiceEntry host is skipped and reported.
//
// A host of an entry without spec.addresses whose resolution is not NONE
// gets an automatic VIP, as Istio's DNS proxy hands out, unless
// Options.AutoAllocate is off or the entry carries the label
// networking.istio.io/enable-autoallocate-ip: "false". Wildcard hosts never
// get one. The addresses istiod 1.25+ writes to status.addresses for that
// host are used when present. Otherwise one IPv4 address from 240.240.0.0/16
// and one IPv6 address from 2001:2::/48 are derived from the host name, by
// a rule that gives every pod seeing the same objects the same addresses and
// keeps them in place while other entries come and go:
//
//   - The pair is a slot s in 1..65534: 240.240.0.0+s and 2001:2::+s.
//   - Slots used by addresses written into ServiceEntries are never handed
//     out.
//   - Hosts are served oldest entry first (creationTimestamp, then
//     namespace, name, host). A host's preferred slot is the first 8 bytes
//     of SHA-256(host), big-endian, mod 65534, plus 1. If an older host
//     holds it, the host tries SHA-256(host + "\x00" + i) for i = 1..7,
//     then the following slots in order.
//
// A host's VIP therefore depends only on older claims: adding an entry never
// moves another's address, and removing one moves only a younger host that
// had lost its preferred slot to it (rare: among 1,000 hosts about 8 lost
// theirs).
// istiod's status.addresses, when present, make even that stable.
package model
