package model

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
)

// DefaultClusterDomain is the Kubernetes default cluster domain.
const DefaultClusterDomain = "cluster.local"

// Options configures Build. Start from DefaultOptions; in the zero value
// automatic VIPs are off.
type Options struct {
	// ClusterDomain is the Kubernetes cluster domain that service names are
	// built under. Default: cluster.local.
	ClusterDomain string
	// Zones are the zones the table is authoritative for (names below them
	// that the table does not hold answer NXDOMAIN). Default: the cluster
	// domain.
	Zones []string
	// Namespaces limits the objects loaded to those namespaces. Empty means
	// every namespace. It applies to Services, EndpointSlices and
	// ServiceEntries alike.
	Namespaces []string
	// AutoAllocate gives ServiceEntry hosts without addresses an automatic
	// VIP (status.addresses or a derived one). Default: true.
	AutoAllocate bool
	// Nameservers are the addresses of ns.dns.<zone>, passed to the table.
	Nameservers []netip.Addr
	// Serial is the SOA serial of the table's zones.
	Serial uint32
	// Logger receives one debug line per problem found. Nil discards.
	Logger *slog.Logger
}

// DefaultOptions returns the defaults: cluster.local, authoritative for
// it, every namespace, automatic VIPs on.
func DefaultOptions() Options {
	return Options{ClusterDomain: DefaultClusterDomain, AutoAllocate: true}
}

// options is Options with defaults applied and names normalised.
type options struct {
	domain     string // lowercase, no trailing dot
	zones      []string
	namespaces map[string]bool // nil: all
	autoAlloc  bool
	ns         []netip.Addr
	serial     uint32
	log        *slog.Logger
}

func (o Options) normalize() (options, error) {
	n := options{
		domain:    DefaultClusterDomain,
		autoAlloc: o.AutoAllocate,
		ns:        o.Nameservers,
		serial:    o.Serial,
		log:       o.Logger,
	}
	if o.ClusterDomain != "" {
		d := strings.ToLower(strings.TrimSuffix(o.ClusterDomain, "."))
		if !validDomain(d, false) {
			return n, fmt.Errorf("model: cluster domain %q is not a valid DNS name", o.ClusterDomain)
		}
		n.domain = d
	}
	for _, z := range o.Zones {
		zl := strings.ToLower(strings.TrimSuffix(z, "."))
		if !validDomain(zl, false) {
			return n, fmt.Errorf("model: zone %q is not a valid DNS name", z)
		}
		n.zones = append(n.zones, zl)
	}
	if len(o.Namespaces) > 0 {
		n.namespaces = make(map[string]bool, len(o.Namespaces))
		for _, ns := range o.Namespaces {
			if !validLabel(ns) {
				return n, fmt.Errorf("model: namespace %q is not a valid DNS label", ns)
			}
			n.namespaces[ns] = true
		}
	}
	for _, ip := range o.Nameservers {
		if !ip.IsValid() {
			return n, fmt.Errorf("model: invalid nameserver address")
		}
	}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	return n, nil
}

// wants reports whether objects of namespace ns are loaded.
func (o *options) wants(ns string) bool {
	return o.namespaces == nil || o.namespaces[ns]
}
