package names

import "fmt"

// Config sizes the name set. Start from DefaultConfig.
type Config struct {
	// Services is the number of Kubernetes Services, headless ones included.
	Services int
	// HeadlessEvery makes every n-th Service headless (0: none).
	HeadlessEvery int
	// EndpointsPerHeadless is the number of ready endpoints of a headless
	// Service; every other headless Service gives them hostnames
	// (StatefulSet style: <svc>-<i>.<svc>.<ns>.svc.<domain>).
	EndpointsPerHeadless int
	// DualStackEvery gives every n-th ClusterIP Service an IPv6 ClusterIP
	// too (0: none), so AAAA has answers for some names.
	DualStackEvery int
	// ServiceEntries is the number of Istio ServiceEntries (one host and one
	// address each, resolution STATIC).
	ServiceEntries int
	// External is the number of names only the upstream knows.
	External int
	// Namespaces is the number of namespaces the Services spread over; the
	// first is PodNamespace.
	Namespaces int
	// PodNamespace is the namespace of the benchmark's client pod.
	PodNamespace string
	// ClusterDomain is the Kubernetes cluster domain.
	ClusterDomain string
	// NodeDomain is the extra search domain a node adds (a cloud's
	// internal domain); the upstream answers NXDOMAIN below it.
	NodeDomain string
	// Seed orders the query lists.
	Seed uint64
}

// DefaultConfig is the set the issue asks for: 1,000 Services over 10
// namespaces, every 10th headless, every 10th dual-stack, 100
// ServiceEntries, 200 external names.
func DefaultConfig() Config {
	return Config{
		Services:             1000,
		HeadlessEvery:        10,
		EndpointsPerHeadless: 3,
		DualStackEvery:       10,
		ServiceEntries:       100,
		External:             200,
		Namespaces:           10,
		PodNamespace:         "bench",
		ClusterDomain:        "cluster.local",
		NodeDomain:           "c.bench-node.internal",
		Seed:                 1,
	}
}

// Validate reports a Config that cannot be generated.
func (c Config) Validate() error {
	switch {
	case c.Services < 1 || c.Services > 16000:
		return fmt.Errorf("names: services %d: want 1..16000", c.Services)
	case c.ServiceEntries < 0 || c.ServiceEntries > 16000:
		return fmt.Errorf("names: serviceentries %d: want 0..16000", c.ServiceEntries)
	case c.External < 1 || c.External > 16000:
		return fmt.Errorf("names: external %d: want 1..16000", c.External)
	case c.Namespaces < 1 || c.Namespaces > 100:
		return fmt.Errorf("names: namespaces %d: want 1..100", c.Namespaces)
	case c.EndpointsPerHeadless < 1 && c.HeadlessEvery > 0:
		return fmt.Errorf("names: headless services need at least one endpoint")
	case c.EndpointsPerHeadless > 200:
		return fmt.Errorf("names: endpoints per headless %d: want at most 200", c.EndpointsPerHeadless)
	case c.PodNamespace == "" || c.ClusterDomain == "" || c.NodeDomain == "":
		return fmt.Errorf("names: pod namespace, cluster domain and node domain are required")
	case c.HeadlessEvery < 0 || c.DualStackEvery < 0:
		return fmt.Errorf("names: negative interval")
	}
	return nil
}
