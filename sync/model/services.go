package model

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/internal/carve"
)

const (
	kindService       = "Service"
	kindEndpointSlice = "EndpointSlice"
	kindServiceEntry  = "ServiceEntry"
)

type svcKind uint8

const (
	svcClusterIP svcKind = iota
	svcHeadless
	svcExternalName
)

// svcInfo is a service that passed the checks.
type svcInfo struct {
	svc      *corev1.Service
	ns, name string
	fqdn     string // <svc>.<ns>.svc.<domain>.
	src      string
	kind     svcKind
	ips      []netip.Addr // ClusterIPs
}

// epAddr is one ready endpoint address of a service, merged over its
// EndpointSlices.
type epAddr struct {
	label string // hostname or dashed address
	owner string // <label>.<svc FQDN>: its name
	ip    netip.Addr
	ports []epPort
	src   string
	host  string // its key's (epKey)
	// Where its label and owner end in the Service's names, written one
	// after the other and made strings at once.
	labelEnd, end int
}

// epKey identifies an endpoint address of a service: merged by it. Its
// label is the hostname, or empty for the dashed address (a function of
// the address): a hostname that is the address dashed is keyed empty.
type epKey struct {
	host string
	ip   netip.Addr
}

// labelGroup is the SRV pairs of one endpoint label of a service.
type labelGroup struct {
	owner string
	pairs []srvPair
	done  bool // its SRV records added
}

// buildScratch is what building reuses from Service to Service.
type buildScratch struct {
	eps      []epAddr // the arena of endpoints' addresses
	ports    []epPort // the arena of their slices' ports
	out      []*epAddr
	epIdx    map[epKey]*epAddr
	labelIdx map[string]int
	groups   []labelGroup
	name     []byte // an endpoint's name being made
	// A Service's SRV pairs: all its own, those of one named port, and
	// (headless) those of every named port with the port.
	all, pairs []srvPair
	named      []namedPair
	seen       map[srvPair]bool // addSRVs' repeats, made when first needed
	// A group's EndpointSlices with their Services, and the slices
	// sorted (emitServices).
	refs   []svcSlice
	slices []*discoveryv1.EndpointSlice
}

// namedPair is an SRV pair of a headless Service's named port.
type namedPair struct {
	port portKey
	pair srvPair
}

// portKey is a named port of a Service.
type portKey struct{ name, proto string }

type epPort struct {
	name, proto string
	port        int32 // -1: the slice has no ports
}

// labelledSlices returns eps, all labelled for a Service, as svcSlices, in
// the builder's scratch.
func (s *state) labelledSlices(eps []*discoveryv1.EndpointSlice) []svcSlice {
	l := s.scratch.refs[:0]
	for i, es := range eps {
		l = append(l, newSvcSlice(es.Namespace, es.Labels[discoveryv1.LabelServiceName], i, es))
	}
	s.scratch.refs = l
	return l
}

func (s *state) services(svcs []*corev1.Service, eps []*discoveryv1.EndpointSlice) {
	svcs = sortedByKey(svcs, func(x *corev1.Service) (string, string) { return x.Namespace, x.Name })

	infos := s.checkServices(svcs)
	clusterIPs := make(ipCounts, len(infos))
	for _, si := range infos {
		s.svcNames[si.fqdn] = true
		for _, ip := range si.ips {
			clusterIPs.add(ip)
			s.ipRange.add(ip)
		}
	}

	// The EndpointSlices labelled for a Service; the others are counted.
	l := make([]svcSlice, 0, len(eps))
	for i, es := range eps {
		if es == nil {
			continue
		}
		if !s.o.wants(es.Namespace) {
			s.rep.EndpointSlices.Filtered++
			continue
		}
		svcName := es.Labels[discoveryv1.LabelServiceName]
		if svcName == "" {
			s.rep.EndpointSlices.Skipped++
			s.problem(kindEndpointSlice, es.Namespace, es.Name, "no %s label", discoveryv1.LabelServiceName)
			continue
		}
		l = append(l, newSvcSlice(es.Namespace, svcName, i, es))
	}

	s.emitServices(infos, l, clusterIPs)
}

// emitServices writes the names of the checked Services infos, sorted by
// namespace and name, each with its EndpointSlices from eps (labelled
// for it, in any order), and reports the slices no Service took.
func (s *state) emitServices(infos []svcInfo, eps []svcSlice, clusterIPs ipCounts) {
	// Both sorted by namespace and Service: a Service's slices are the
	// next ones of eps with its key, those before it no Service's.
	list := sortSlices(eps, s.scratch.slices)
	s.scratch.slices = list[:0]
	var orphans []*discoveryv1.EndpointSlice
	j := 0
	for i := range infos {
		si := &infos[i]
		ns, name := si.svc.Namespace, si.svc.Name
		for ; j < len(eps) && cmp.Or(cmp.Compare(eps[j].ns.s, ns), cmp.Compare(eps[j].svc.s, name)) < 0; j++ {
			orphans = append(orphans, list[j])
		}
		first := j
		for ; j < len(eps) && eps[j].ns.s == ns && eps[j].svc.s == name; j++ {
		}
		slices := list[first:j:j]
		s.rep.Services.Loaded++
		switch si.kind {
		case svcExternalName:
			// CoreDNS ignores the endpoints of ExternalName services.
			s.rep.EndpointSlices.Loaded += len(slices)
			s.externalName(si)
		case svcClusterIP:
			s.clusterIP(si, s.endpoints(si, slices), clusterIPs)
		case svcHeadless:
			s.headless(si, s.endpoints(si, slices), clusterIPs)
		}
	}
	// Slices whose service is missing, filtered or skipped.
	orphans = append(orphans, list[j:]...)
	for _, es := range orphans {
		s.rep.EndpointSlices.Skipped++
		s.problem(kindEndpointSlice, es.Namespace, es.Name, "no usable Service %s/%s", es.Namespace, es.Labels[discoveryv1.LabelServiceName])
	}
	// The scratch kept holds no object.
	clear(eps)
	clear(list)
}

// checkServices checks svcs, counting the filtered and the skipped and
// leaving the names of the skipped to the upstream, and returns the
// loaded ones in order.
func (s *state) checkServices(svcs []*corev1.Service) []svcInfo {
	var infos []svcInfo
	// The cluster IPs, one array for all, a Service's mostly one.
	if c := s.checkChunks; c != nil {
		infos, s.ips = carve.Take(&c.infos, len(svcs))[:0], carve.Take(&c.ips, len(svcs))[:0]
	} else {
		infos, s.ips = make([]svcInfo, 0, len(svcs)), make([]netip.Addr, 0, len(svcs))
	}
	for _, svc := range svcs {
		if !s.o.wants(svc.Namespace) {
			s.rep.Services.Filtered++
			continue
		}
		si, ok := s.checkService(svc)
		if !ok {
			s.rep.Services.Skipped++
			// Its names are not ours to deny: the cluster DNS may serve
			// them, so they go upstream rather than NXDOMAIN.
			if ns, name := strings.ToLower(svc.Namespace), strings.ToLower(svc.Name); validLabel(ns) && validLabel(name) {
				_ = s.out.AddPassThrough(name + "." + ns + ".svc." + s.o.domain)
			}
			continue
		}
		infos = append(infos, si)
	}
	return infos
}

// checkService validates a service and classifies it.
func (s *state) checkService(svc *corev1.Service) (svcInfo, bool) {
	ns, name := strings.ToLower(svc.Namespace), strings.ToLower(svc.Name)
	fail := func(format string, args ...any) (svcInfo, bool) {
		s.problem(kindService, svc.Namespace, svc.Name, format, args...)
		return svcInfo{}, false
	}
	if !validLabel(ns) {
		return fail("namespace %q is not a valid DNS label", svc.Namespace)
	}
	if !validLabel(name) {
		return fail("name %q is not a valid DNS label", svc.Name)
	}
	si := svcInfo{svc: svc, ns: ns, name: name}
	si.src, si.fqdn = serviceNames(svc.Namespace, svc.Name, name, ns, s.o.domain)
	if len(si.fqdn) > 254 {
		return fail("name %s is longer than 253 characters", si.fqdn)
	}
	switch {
	case svc.Spec.Type == corev1.ServiceTypeExternalName:
		si.kind = svcExternalName
		t := normHost(svc.Spec.ExternalName)
		switch {
		case t == "":
			return fail("ExternalName service without spec.externalName")
		case isIP(t):
			// CoreDNS answers nothing for it either.
			return fail("spec.externalName %q is an IP address, not a name", svc.Spec.ExternalName)
		case !validDomain(t, false):
			return fail("spec.externalName %q is not a valid DNS name", svc.Spec.ExternalName)
		}
	case svc.Spec.ClusterIP == corev1.ClusterIPNone || len(svc.Spec.ClusterIPs) > 0 && svc.Spec.ClusterIPs[0] == corev1.ClusterIPNone:
		si.kind = svcHeadless
	default:
		si.kind = svcClusterIP
		raw := svc.Spec.ClusterIPs
		if len(raw) == 0 && svc.Spec.ClusterIP != "" {
			raw = []string{svc.Spec.ClusterIP}
		}
		first := len(s.ips)
		for _, r := range raw {
			ip, err := netip.ParseAddr(r)
			if err != nil || ip.Zone() != "" {
				s.problem(kindService, svc.Namespace, svc.Name, "cluster IP %q is not an IP address", r)
				continue
			}
			s.ips = append(s.ips, ip.Unmap())
		}
		si.ips = s.ips[first:len(s.ips):len(s.ips)]
		if len(si.ips) == 0 {
			return fail("no cluster IP")
		}
	}
	return si, true
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

func (s *state) externalName(si *svcInfo) {
	if err := s.out.AddCNAME(si.fqdn, normHost(si.svc.Spec.ExternalName)+".", si.src); err != nil {
		s.problem(kindService, si.svc.Namespace, si.svc.Name, "%v", err)
	}
}

// endpoints returns the ready endpoint addresses of a service from its
// slices, merged by (name, address).
func (s *state) endpoints(si *svcInfo, list []*discoveryv1.EndpointSlice) []*epAddr {
	// The addresses live in the state's arena, sized first so that it does
	// not move while pointers into it are handed out; the result is used
	// before the next Service's.
	n, np := 0, 0
	for _, es := range list {
		np += max(len(es.Ports), 1)
		for _, e := range es.Endpoints {
			n += len(e.Addresses)
		}
	}
	if cap(s.scratch.eps) < n {
		s.scratch.eps = make([]epAddr, 0, n)
	}
	if cap(s.scratch.ports) < np {
		s.scratch.ports = make([]epPort, 0, np)
	}
	arena, portArena := s.scratch.eps[:0], s.scratch.ports[:0]
	out := s.scratch.out[:0]
	defer func() { s.scratch.out, s.scratch.ports = out[:0], portArena[:0] }()
	idx := s.scratch.epIdx
	clear(idx)
	// names: the endpoints' names, in the order of out; dashed: an
	// address dashed, to key a hostname that is one.
	names := s.scratch.name[:0]
	var dashed [64]byte
	for _, es := range list {
		src := "EndpointSlice " + es.Namespace + "/" + es.Name
		prob := func(format string, args ...any) {
			s.problem(kindEndpointSlice, es.Namespace, es.Name, format, args...)
		}
		if es.AddressType == discoveryv1.AddressTypeFQDN {
			s.rep.EndpointSlices.Skipped++
			prob("addressType FQDN is not served")
			continue
		}
		s.rep.EndpointSlices.Loaded++
		first := len(portArena)
		for _, p := range es.Ports {
			ep := epPort{proto: "tcp", port: -1}
			if p.Name != nil {
				ep.name = strings.ToLower(*p.Name)
			}
			if p.Protocol != nil && *p.Protocol != "" {
				ep.proto = lowerProto(string(*p.Protocol))
			}
			if p.Port != nil {
				ep.port = *p.Port
				if ep.port < 1 || ep.port > 65535 {
					prob("port %d is out of range", ep.port)
					continue
				}
			}
			portArena = append(portArena, ep)
		}
		if len(portArena) == first {
			portArena = append(portArena, epPort{port: -1})
		}
		// The slice's ports, shared by its endpoints: clipped, so that a
		// merge below appends to a copy.
		ports := portArena[first:len(portArena):len(portArena)]
		for _, e := range es.Endpoints {
			ready := e.Conditions.Ready == nil || *e.Conditions.Ready || si.svc.Spec.PublishNotReadyAddresses
			if !ready {
				continue
			}
			host := ""
			if e.Hostname != nil && *e.Hostname != "" {
				host = strings.ToLower(*e.Hostname)
				if !validLabel(host) {
					prob("hostname %q is not a valid DNS label; using the address", *e.Hostname)
					host = ""
				}
			}
			for _, a := range e.Addresses {
				ip, err := netip.ParseAddr(a)
				if err != nil || ip.Zone() != "" {
					prob("endpoint address %q is not an IP address", a)
					continue
				}
				ip = ip.Unmap()
				k := epKey{host, ip}
				if host != "" && host == string(dnsengine.AppendDashed(dashed[:0], ip)) {
					k.host = ""
				}
				if x := merged(out, idx, k, n); x != nil {
					for _, p := range ports {
						if !slices.Contains(x.ports, p) {
							x.ports = append(x.ports, p)
						}
					}
					continue
				}
				// Its name, <label>.<svc FQDN>, after the others'.
				if host != "" {
					names = append(names, host...)
				} else {
					names = dnsengine.AppendDashed(names, ip)
				}
				labelEnd := len(names)
				names = append(append(names, '.'), si.fqdn...)
				arena = append(arena, epAddr{ip: ip, ports: ports, src: src, host: k.host, labelEnd: labelEnd, end: len(names)})
				x := &arena[len(arena)-1]
				if n > fewEndpoints {
					idx[k] = x
				}
				out = append(out, x)
			}
		}
	}
	// The names, in one allocation: each endpoint's follows the one
	// before's.
	all, start := string(names), 0
	for _, x := range out {
		x.label, x.owner = all[start:x.labelEnd], all[start:x.end]
		start = x.end
	}
	s.scratch.name = names
	return out
}

// fewEndpoints is how many addresses a Service's slices may hold for
// endpoints to find a repeat by a scan rather than by a map.
const fewEndpoints = 16

// merged returns the endpoint of out with key k, or nil. A Service whose
// slices hold n addresses, more than fewEndpoints, has them in idx too.
func merged(out []*epAddr, idx map[epKey]*epAddr, k epKey, n int) *epAddr {
	if n > fewEndpoints {
		return idx[k]
	}
	for _, x := range out {
		if x.ip == k.ip && x.host == k.host {
			return x
		}
	}
	return nil
}

// clusterIP adds a ClusterIP service: its addresses and PTRs, SRV records
// and the names of its endpoints.
func (s *state) clusterIP(si *svcInfo, eps []*epAddr, clusterIPs ipCounts) {
	ns, name := si.svc.Namespace, si.svc.Name
	for _, ip := range si.ips {
		if s.addAddress(kindService, ns, name, si.fqdn, ip, si.src) {
			s.addPTR(kindService, ns, name, ip, si.fqdn, si.src)
		}
	}
	all := s.scratch.all[:0]
	for _, p := range si.svc.Spec.Ports {
		if p.Port < 1 || p.Port > 65535 {
			s.problem(kindService, ns, name, "port %d is out of range", p.Port)
			continue
		}
		named := s.scratch.pairs[:0]
		for range si.ips {
			all = append(all, srvPair{si.fqdn, p.Port})
			named = append(named, srvPair{si.fqdn, p.Port})
		}
		s.scratch.pairs = named
		if p.Name == "" {
			continue
		}
		owner, ok := s.srvOwner(kindService, ns, name, p.Name, string(p.Protocol), si.fqdn)
		if ok {
			s.addSRVs(kindService, ns, name, owner, named, si.src)
		}
	}
	if len(si.svc.Spec.Ports) == 0 {
		for range si.ips {
			all = append(all, srvPair{si.fqdn, -1})
		}
	}
	s.addSRVs(kindService, ns, name, si.fqdn, all, si.src)
	s.scratch.all = all
	s.endpointNames(si, eps, clusterIPs)
}

// headless adds a headless service: the addresses of its ready endpoints
// under the service name and their own names, PTRs and SRV records.
func (s *state) headless(si *svcInfo, eps []*epAddr, clusterIPs ipCounts) {
	ns, name := si.svc.Namespace, si.svc.Name
	for _, e := range eps {
		s.addAddress(kindService, ns, name, si.fqdn, e.ip, e.src)
	}
	all, named := s.scratch.all[:0], s.scratch.named[:0]
	for _, e := range eps {
		for _, p := range e.ports {
			all = append(all, srvPair{e.owner, p.port})
			if p.name != "" {
				named = append(named, namedPair{portKey{p.name, p.proto}, srvPair{e.owner, p.port}})
			}
		}
	}
	// Each named port's pairs, in the order added, the ports in order.
	slices.SortStableFunc(named, func(a, b namedPair) int {
		if c := strings.Compare(a.port.name, b.port.name); c != 0 {
			return c
		}
		return strings.Compare(a.port.proto, b.port.proto)
	})
	pairs := s.scratch.pairs
	for i := 0; i < len(named); {
		k := named[i].port
		pairs = pairs[:0]
		for ; i < len(named) && named[i].port == k; i++ {
			pairs = append(pairs, named[i].pair)
		}
		if owner, ok := s.srvOwner(kindService, ns, name, k.name, k.proto, si.fqdn); ok {
			s.addSRVs(kindService, ns, name, owner, pairs, si.src)
		}
	}
	s.addSRVs(kindService, ns, name, si.fqdn, all, si.src)
	s.scratch.all, s.scratch.named, s.scratch.pairs = all, named, pairs
	s.endpointNames(si, eps, clusterIPs)
}

// endpointNames adds <endpoint>.<svc FQDN>: its addresses, the PTR of each
// (unless the address is a ClusterIP), and SRV for its ports.
func (s *state) endpointNames(si *svcInfo, eps []*epAddr, clusterIPs ipCounts) {
	ns, name := si.svc.Namespace, si.svc.Name
	// Without hostnames, every endpoint's label is its own address
	// dashed: no two share one, and each endpoint's SRV records go in
	// with its address, while its name is the builder's latest.
	hosts := false
	for _, e := range eps {
		if e.host != "" {
			hosts = true
			break
		}
	}
	// Else the SRV pairs of each label, labels in the order first seen;
	// the groups and the index are the state's, reused from Service to
	// Service. A label's group is found by a scan of the groups' names
	// (one label, one name) when the Service has few endpoints, else by
	// the index.
	few := len(eps) <= fewEndpoints
	if hosts && !few {
		clear(s.scratch.labelIdx)
	}
	groups := s.scratch.groups[:0]
	for i, e := range eps {
		owner := e.owner
		if !s.addAddress(kindService, ns, name, owner, e.ip, e.src) {
			continue
		}
		if s.ipRange.outside(e.ip) || !clusterIPs.has(e.ip) {
			s.addPTR(kindService, ns, name, e.ip, owner, e.src)
		} else {
			s.shadowed = append(s.shadowed, e.ip)
		}
		if !hosts {
			pairs := s.scratch.pairs[:0]
			for _, p := range e.ports {
				pairs = append(pairs, srvPair{owner, p.port})
			}
			s.scratch.pairs = pairs
			s.addSRVs(kindService, ns, name, owner, pairs, si.src)
			continue
		}
		gi, ok := 0, false
		if few {
			for i := range groups {
				if groups[i].owner == owner {
					gi, ok = i, true
					break
				}
			}
		} else {
			gi, ok = s.scratch.labelIdx[e.label]
		}
		if !ok {
			gi = len(groups)
			if !few {
				s.scratch.labelIdx[e.label] = gi
			}
			if len(groups) < cap(groups) {
				groups = groups[:gi+1]
				groups[gi].owner, groups[gi].pairs, groups[gi].done = owner, groups[gi].pairs[:0], false
			} else {
				groups = append(groups, labelGroup{owner: owner})
			}
		}
		for _, p := range e.ports {
			groups[gi].pairs = append(groups[gi].pairs, srvPair{owner, p.port})
		}
		// The SRV records of a label no later endpoint has go in now, as
		// above: they go to its node after its addresses either way.
		if few && !labelIn(eps[i+1:], e.label) {
			s.addSRVs(kindService, ns, name, owner, groups[gi].pairs, si.src)
			groups[gi].done = true
		}
	}
	for _, g := range groups {
		if !g.done {
			s.addSRVs(kindService, ns, name, g.owner, g.pairs, si.src)
		}
	}
	s.scratch.groups = groups
}

// labelIn reports whether an endpoint of eps has the label l.
func labelIn(eps []*epAddr, l string) bool {
	for _, e := range eps {
		if e.label == l {
			return true
		}
	}
	return false
}

// srvOwner returns _<port>._<proto>.<svc FQDN>.
func (s *state) srvOwner(kind, ns, name, port, proto, svcFQDN string) (string, bool) {
	port = strings.ToLower(port)
	proto = lowerProto(proto)
	if proto == "" {
		proto = "tcp"
	}
	if !validPortName(port) {
		s.problem(kind, ns, name, "port name %q cannot make an SRV name", port)
		return "", false
	}
	if !validPortName(proto) {
		s.problem(kind, ns, name, "protocol %q cannot make an SRV name", proto)
		return "", false
	}
	return "_" + port + "._" + proto + "." + svcFQDN, true
}

// addrRange is the least and the greatest of a set of addresses.
type addrRange struct {
	lo, hi netip.Addr
	ok     bool // addresses added
}

func (r *addrRange) add(ip netip.Addr) {
	switch {
	case !r.ok:
		r.lo, r.hi, r.ok = ip, ip, true
	case ip.Less(r.lo):
		r.lo = ip
	case r.hi.Less(ip):
		r.hi = ip
	}
}

// outside reports whether ip is known not to be one of the addresses
// added: r holds their bounds and ip lies outside them. A zero r knows
// nothing.
func (r *addrRange) outside(ip netip.Addr) bool {
	return r.ok && (ip.Less(r.lo) || r.hi.Less(ip))
}
