package model

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
)

// seHost is one host of one ServiceEntry and the addresses it gets.
type seHost struct {
	se       *ServiceEntry
	host     string // lowercase, no trailing dot; "*.suffix" for wildcards
	wildcard bool
	addrs    []netip.Addr // from spec.addresses or status.addresses
	claim    bool         // asks for a derived VIP
	status   bool         // addrs come from status.addresses
}

func (s *state) serviceEntries(ses []*ServiceEntry) {
	ses = sortedByKey(ses, func(x *ServiceEntry) (string, string) { return x.Namespace, x.Name })
	slices.SortStableFunc(ses, func(a, b *ServiceEntry) int { return a.CreationTimestamp.Compare(b.CreationTimestamp) })

	var hosts []*seHost
	used := map[*ServiceEntry]bool{}
	for _, se := range ses {
		if !s.o.wants(se.Namespace) {
			s.rep.ServiceEntries.Filtered++
			continue
		}
		hosts = append(hosts, s.entryHosts(se)...)
	}

	// Hosts with addresses written down get no derived VIP; those
	// addresses also keep their slots out of the pool.
	explicit := map[string]bool{}
	var reserved []netip.Addr
	for _, h := range hosts {
		if len(h.addrs) > 0 {
			explicit[h.host] = true
			reserved = append(reserved, h.addrs...)
		}
	}
	var claims []vipClaim
	if s.o.autoAlloc {
		for _, h := range hosts {
			if h.claim && !explicit[h.host] {
				claims = append(claims, vipClaim{host: h.host, created: h.se.CreationTimestamp, namespace: h.se.Namespace, name: h.se.Name})
			}
		}
	}
	vips := allocateVIPs(claims, reserved)
	autoHosts := map[string]bool{}
	for _, h := range hosts {
		if h.claim && explicit[h.host] {
			// Another entry gives this host its addresses.
			used[h.se] = true
			continue
		}
		if h.claim {
			v, ok := vips[h.host]
			if !ok {
				s.problem(kindServiceEntry, h.se.Namespace, h.se.Name, "host %s: automatic VIP pool exhausted", h.host)
				continue
			}
			h.addrs = []netip.Addr{v.v4, v.v6}
			autoHosts[h.host] = true
		}
		if h.status {
			autoHosts[h.host] = true
		}
		src := "ServiceEntry " + h.se.String()
		for _, ip := range h.addrs {
			var err error
			if h.wildcard {
				err = s.out.AddWildcardAddress(h.host, ip, src)
			} else {
				err = s.out.AddAddress(h.host+".", ip, src)
			}
			if err != nil {
				s.problem(kindServiceEntry, h.se.Namespace, h.se.Name, "%v", err)
				continue
			}
			used[h.se] = true
		}
	}
	for _, se := range ses {
		if !s.o.wants(se.Namespace) {
			continue
		}
		if used[se] {
			s.rep.ServiceEntries.Loaded++
		} else {
			s.rep.ServiceEntries.Skipped++
		}
	}
	s.rep.AutoVIPs += len(autoHosts)
}

// entryHosts checks one entry and returns its usable hosts with their
// addresses or VIP claims.
func (s *state) entryHosts(se *ServiceEntry) []*seHost {
	prob := func(format string, args ...any) {
		s.problem(kindServiceEntry, se.Namespace, se.Name, format, args...)
	}
	if len(se.Hosts) == 0 {
		prob("no spec.hosts")
		return nil
	}
	var specAddrs []netip.Addr
	for _, a := range se.Addresses {
		ip, ok := hostAddr(a)
		if !ok {
			prob("spec.addresses: %q is neither an IP address nor a single-host CIDR; not served", a)
			continue
		}
		specAddrs = append(specAddrs, ip)
	}
	if len(se.Addresses) > 0 && len(specAddrs) == 0 {
		prob("no usable address in spec.addresses")
		return nil
	}
	auto := len(se.Addresses) == 0 && !se.resolutionNone() &&
		s.o.autoAlloc && se.Labels[LabelAutoAllocate] != "false"

	var out []*seHost
	seen := map[string]bool{}
	for _, raw := range se.Hosts {
		h := normHost(raw)
		wild := strings.HasPrefix(h, "*.")
		if !validDomain(h, true) || strings.Contains(strings.TrimPrefix(h, "*."), "*") {
			prob("host %q is not a valid DNS name", raw)
			continue
		}
		if seen[h] {
			continue
		}
		seen[h] = true
		if s.knownService(h+".") || s.out.HasRecords(h+".") {
			prob("host %s is a Kubernetes Service name; the Service wins", h)
			continue
		}
		sh := &seHost{se: se, host: h, wildcard: wild}
		switch {
		case len(specAddrs) > 0:
			sh.addrs = specAddrs
		case se.resolutionNone():
			prob("host %s: no spec.addresses and resolution NONE; no DNS record", h)
			continue
		case !auto:
			prob("host %s: no spec.addresses and automatic VIPs are off; no DNS record", h)
			continue
		default:
			sh.addrs = s.statusAddrs(se, h)
			sh.status = len(sh.addrs) > 0
			if len(sh.addrs) == 0 {
				if wild {
					prob("host %s: wildcard hosts get no automatic VIP; no DNS record", h)
					continue
				}
				sh.claim = true
			}
		}
		out = append(out, sh)
	}
	return out
}

// statusAddrs returns the addresses istiod allocated for host.
func (s *state) statusAddrs(se *ServiceEntry, host string) []netip.Addr {
	var out []netip.Addr
	for _, a := range se.StatusAddresses {
		if a.Host != "" && normHost(a.Host) != host {
			continue
		}
		ip, err := netip.ParseAddr(a.Value)
		if err != nil || ip.Zone() != "" {
			s.problem(kindServiceEntry, se.Namespace, se.Name, "status.addresses: %q is not an IP address", a.Value)
			continue
		}
		out = append(out, ip.Unmap())
	}
	slices.SortFunc(out, func(a, b netip.Addr) int { return cmp.Compare(a.BitLen(), b.BitLen()) })
	return out
}

// hostAddr parses an address of spec.addresses: an IP address, or a CIDR
// covering a single host (/32, /128).
func hostAddr(s string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(s); err == nil && ip.Zone() == "" {
		return ip.Unmap(), true
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.IsSingleIP() {
		return netip.Addr{}, false
	}
	return p.Addr().Unmap(), true
}

// knownService reports whether fqdn is the name of a Service loaded.
func (s *state) knownService(fqdn string) bool {
	if s.isService != nil {
		return s.isService(fqdn)
	}
	return s.svcNames[fqdn]
}
