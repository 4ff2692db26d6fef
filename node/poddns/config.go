package poddns

// Limits of a pod's resolver configuration the kubelet applies (Kubernetes'
// core validation, ExpandedDNSConfig being GA).
const (
	MaxNameservers     = 3
	MaxSearchPaths     = 32
	MaxSearchListChars = 2048
	// MaxSearchDomainLen is DNS-1123's subdomain limit: longer search
	// domains are dropped (glibc 2.28 aborts on them).
	MaxSearchDomainLen = 253
)

// DefaultOptions are the options of a ClusterFirst pod.
var DefaultOptions = []string{"ndots:5"}

// Kubelet is the node's DNS configuration as the kubelet holds it: its
// --cluster-dns, --cluster-domain and --resolv-conf.
type Kubelet struct {
	// ClusterDNS are the cluster DNS addresses (--cluster-dns), as written.
	ClusterDNS []string
	// ClusterDomain is the cluster domain (--cluster-domain); empty means
	// the cluster search domains are not added.
	ClusterDomain string
	// Host is the node's resolv.conf (--resolv-conf) as ParseHost reads
	// it; HostFile false means the kubelet has no resolv.conf ("").
	Host     Host
	HostFile bool
	// NodeIPs are the node's addresses as strings, for the loopback
	// nameserver of a host-DNS pod when HostFile is false.
	NodeIPs []string
}

// DNS is a pod's resolver configuration: what its resolv.conf holds.
type DNS struct {
	Nameservers []string
	Searches    []string
	Options     []string
	// Warnings say what the limits cut, as the kubelet's DNSConfigForming
	// events do; empty when nothing was cut.
	Warnings []string
}
