package names

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
)

// Endpoint is one ready endpoint of a headless Service.
type Endpoint struct {
	Addr netip.Addr
	// Hostname is empty unless the Service names its endpoints.
	Hostname string
}

// Service is a Kubernetes Service.
type Service struct {
	Name, Namespace string
	// ClusterIPs is empty for a headless Service.
	ClusterIPs []netip.Addr
	Endpoints  []Endpoint
}

// Headless reports whether the Service has no ClusterIP.
func (s Service) Headless() bool { return len(s.ClusterIPs) == 0 }

// ServiceEntry is an Istio ServiceEntry with one host and one address.
type ServiceEntry struct {
	Name, Namespace, Host string
	Addr                  netip.Addr
}

// Host is a name with one IPv4 address, known only to the upstream.
type Host struct {
	Name string
	Addr netip.Addr
}

// Set is a generated name set.
type Set struct {
	Config         Config
	Services       []Service
	ServiceEntries []ServiceEntry
	External       []Host
}

// Address blocks, each a /18 of 198.19.0.0/16.
var (
	serviceBase  = [2]byte{198, 19}
	blockService = 0
	blockSE      = 64
	blockEP      = 128
	blockExt     = 192
)

func addr4(block, i int) netip.Addr {
	// i+1 so no address ends in .0 of the block's first /24.
	n := i + 1
	return netip.AddrFrom4([4]byte{serviceBase[0], serviceBase[1], byte(block + n/256), byte(n % 256)})
}

func addr6(i int) netip.Addr {
	n := i + 1
	return netip.AddrFrom16([16]byte{0xfd, 0x53, 0, 0x96, 14: byte(n >> 8), 15: byte(n)})
}

// Generate builds the set described by cfg.
func Generate(cfg Config) (*Set, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Set{Config: cfg}
	namespaces := make([]string, cfg.Namespaces)
	namespaces[0] = cfg.PodNamespace
	for i := 1; i < cfg.Namespaces; i++ {
		namespaces[i] = fmt.Sprintf("ns-%d", i)
	}
	ep := 0
	headless := 0
	for i := 0; i < cfg.Services; i++ {
		svc := Service{Name: fmt.Sprintf("svc-%d", i), Namespace: namespaces[i%cfg.Namespaces]}
		if cfg.HeadlessEvery > 0 && i%cfg.HeadlessEvery == cfg.HeadlessEvery-1 {
			named := headless%2 == 0
			headless++
			for e := 0; e < cfg.EndpointsPerHeadless; e++ {
				if ep >= 16000 {
					return nil, fmt.Errorf("names: more than 16000 endpoints")
				}
				var hn string
				if named {
					hn = fmt.Sprintf("%s-%d", svc.Name, e)
				}
				svc.Endpoints = append(svc.Endpoints, Endpoint{Addr: addr4(blockEP, ep), Hostname: hn})
				ep++
			}
		} else {
			svc.ClusterIPs = []netip.Addr{addr4(blockService, i)}
			if cfg.DualStackEvery > 0 && i%cfg.DualStackEvery == 0 {
				svc.ClusterIPs = append(svc.ClusterIPs, addr6(i))
			}
		}
		s.Services = append(s.Services, svc)
	}
	for i := 0; i < cfg.ServiceEntries; i++ {
		s.ServiceEntries = append(s.ServiceEntries, ServiceEntry{
			Name:      fmt.Sprintf("se-%d", i),
			Namespace: namespaces[i%cfg.Namespaces],
			Host:      fmt.Sprintf("se-%d.mesh-external.example", i),
			Addr:      addr4(blockSE, i),
		})
	}
	for i := 0; i < cfg.External; i++ {
		s.External = append(s.External, Host{Name: fmt.Sprintf("ext-%d.example.net", i), Addr: addr4(blockExt, i)})
	}
	return s, nil
}

// FQDN returns the Service's name under the cluster domain, without the
// trailing dot.
func (s *Set) FQDN(svc Service) string {
	return svc.Name + "." + svc.Namespace + ".svc." + s.Config.ClusterDomain
}

// SearchList is the pod's resolv.conf search list, as the kubelet writes it
// for ClusterFirst pods, plus the node's domain.
func (s *Set) SearchList() []string {
	c := s.Config
	return []string{
		c.PodNamespace + ".svc." + c.ClusterDomain,
		"svc." + c.ClusterDomain,
		c.ClusterDomain,
		c.NodeDomain,
	}
}

// ResolvConf is the pod's resolv.conf with the given nameservers.
func (s *Set) ResolvConf(nameservers ...netip.Addr) string {
	var out string
	for _, ns := range nameservers {
		out += "nameserver " + ns.String() + "\n"
	}
	out += "search"
	for _, d := range s.SearchList() {
		out += " " + d
	}
	return out + "\noptions ndots:5\n"
}

func (s *Set) rng(salt uint64) *rand.Rand {
	return rand.New(rand.NewPCG(s.Config.Seed, salt))
}
