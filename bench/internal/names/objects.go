package names

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteObjects writes the Services, EndpointSlices and ServiceEntries as
// one v1 List in YAML, as `kubectl get -o yaml` prints it: the objects file
// every contender loads.
func (s *Set) WriteObjects(w io.Writer) error {
	b := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("apiVersion: v1\nkind: List\nitems:\n")
	for _, svc := range s.Services {
		p("- apiVersion: v1\n  kind: Service\n  metadata:\n    name: %s\n    namespace: %s\n  spec:\n    type: ClusterIP\n", svc.Name, svc.Namespace)
		if svc.Headless() {
			p("    clusterIP: None\n    clusterIPs:\n    - None\n")
		} else {
			p("    clusterIP: %s\n    clusterIPs:\n", svc.ClusterIPs[0])
			for _, ip := range svc.ClusterIPs {
				p("    - %s\n", ip)
			}
			if len(svc.ClusterIPs) > 1 {
				p("    ipFamilyPolicy: PreferDualStack\n    ipFamilies:\n    - IPv4\n    - IPv6\n")
			}
		}
		p("    ports:\n    - name: http\n      port: 80\n      protocol: TCP\n      targetPort: 8080\n")
		if !svc.Headless() {
			continue
		}
		p("- apiVersion: discovery.k8s.io/v1\n  kind: EndpointSlice\n  metadata:\n    name: %s-abcde\n    namespace: %s\n    labels:\n      kubernetes.io/service-name: %s\n", svc.Name, svc.Namespace, svc.Name)
		p("  addressType: IPv4\n  ports:\n  - name: http\n    port: 8080\n    protocol: TCP\n  endpoints:\n")
		for _, ep := range svc.Endpoints {
			p("  - addresses:\n    - %s\n    conditions:\n      ready: true\n", ep.Addr)
			if ep.Hostname != "" {
				p("    hostname: %s\n", ep.Hostname)
			}
		}
	}
	for _, se := range s.ServiceEntries {
		p("- apiVersion: networking.istio.io/v1\n  kind: ServiceEntry\n  metadata:\n    name: %s\n    namespace: %s\n", se.Name, se.Namespace)
		p("  spec:\n    hosts:\n    - %s\n    addresses:\n    - %s\n    location: MESH_EXTERNAL\n    resolution: STATIC\n", se.Host, se.Addr)
		p("    ports:\n    - name: https\n      number: 443\n      protocol: TLS\n    endpoints:\n    - address: %s\n", se.Addr)
	}
	return b.Flush()
}

// HostsOptions selects what WriteHosts includes.
type HostsOptions struct {
	// Mesh includes the mesh names (Services, endpoint names,
	// ServiceEntry hosts).
	Mesh bool
	// External includes the external names.
	External bool
}

// WriteHosts writes an /etc/hosts style file ("address name" lines), which
// dnsmasq (--addn-hosts) and CoreDNS (hosts plugin) answer from. Mesh names
// are written as their FQDNs; a headless Service has one line per endpoint.
func (s *Set) WriteHosts(w io.Writer, opt HostsOptions) error {
	b := bufio.NewWriter(w)
	if opt.Mesh {
		for _, svc := range s.Services {
			fqdn := s.FQDN(svc)
			for _, ip := range svc.ClusterIPs {
				fmt.Fprintf(b, "%s %s\n", ip, fqdn)
			}
			for _, ep := range svc.Endpoints {
				fmt.Fprintf(b, "%s %s\n", ep.Addr, fqdn)
				if ep.Hostname != "" {
					fmt.Fprintf(b, "%s %s.%s\n", ep.Addr, ep.Hostname, fqdn)
				}
			}
		}
		for _, se := range s.ServiceEntries {
			fmt.Fprintf(b, "%s %s\n", se.Addr, se.Host)
		}
	}
	if opt.External {
		for _, h := range s.External {
			fmt.Fprintf(b, "%s %s\n", h.Addr, h.Name)
		}
	}
	return b.Flush()
}

// WriteZone writes the same records as WriteHosts as an RFC 1035 zone
// file for the root zone ("."), TTL 30, with a SOA whose minimum (the
// negative TTL) is 5: CoreDNS's file plugin serves it authoritatively, so
// every other name is NXDOMAIN, as the cluster DNS answers.
func (s *Set) WriteZone(w io.Writer, opt HostsOptions) error {
	var hosts strings.Builder
	if err := s.WriteHosts(&hosts, opt); err != nil {
		return err
	}
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "$ORIGIN .\n$TTL 30\n. IN SOA ns.bench.invalid. hostmaster.bench.invalid. 1 7200 3600 1209600 5\n. IN NS ns.bench.invalid.\n")
	for _, line := range strings.Split(strings.TrimSpace(hosts.String()), "\n") {
		ip, name, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		t := "A"
		if strings.Contains(ip, ":") {
			t = "AAAA"
		}
		fmt.Fprintf(b, "%s. IN %s %s\n", name, t, ip)
	}
	return b.Flush()
}
