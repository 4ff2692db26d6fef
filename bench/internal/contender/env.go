package contender

import (
	"log/slog"
	"net/netip"
)

// Bins are the programs the contenders run. Empty paths disable the
// contenders that need them.
type Bins struct {
	// Self is the harness binary, whose "runas" subcommand drops to a uid
	// and execs a program (same pid).
	Self    string
	Meshdns string
	Istio   string
	CoreDNS string
	Dnsmasq string
}

// Files are the generated inputs in the work directory.
type Files struct {
	// Objects is the objects file every contender loads.
	Objects string
	// MeshHosts holds the mesh names only (dnsmasq-local answers those).
	MeshHosts string
	// AllHosts and AllZone hold mesh and external names (the upstream).
	AllHosts, AllZone string
}

// Env is what contenders need from the harness.
type Env struct {
	// Pod and Upstream are the network namespace names.
	Pod, Upstream string
	// Nameservers are the pod's resolv.conf nameservers: the upstream's
	// addresses on the veth, IPv4 first.
	Nameservers []netip.Addr
	// PodNamespace and ClusterDomain are the Kubernetes names meshdns and
	// istio need.
	PodNamespace, ClusterDomain string
	Files                       Files
	// WorkDir holds generated config files and process logs; it must be
	// readable by uid 1337.
	WorkDir string
	Bins    Bins
	// MeshdnsArgs are appended to `meshdns run`'s arguments.
	MeshdnsArgs []string
	// ProxyUID is the uid the REDIRECT exempts (Istio's 1337).
	ProxyUID int
	// ProbeName is a mesh FQDN every contender answers, used to check a
	// started contender.
	ProbeName string
	Logger    *slog.Logger
}

// ProxyPort is where the REDIRECT sends DNS (Istio's agent port).
const ProxyPort = 15053

// DefaultProxyUID is istio-proxy's uid.
const DefaultProxyUID = 1337
