package dnsengine

import (
	"fmt"

	"github.com/meshdns/meshdns/dnsengine/cache"
)

// PodRecords selects how <a-b-c-d>.<ns>.pod.<zone> names are answered.
type PodRecords uint8

const (
	// PodRecordsInsecure answers any well-formed dashed address with that
	// address, as CoreDNS's "pods insecure" (kubeadm's default) does.
	PodRecordsInsecure PodRecords = iota
	// PodRecordsDisabled answers NXDOMAIN under pod.<zone>.
	PodRecordsDisabled
)

// ParsePodRecords parses "insecure" or "disabled".
func ParsePodRecords(s string) (PodRecords, error) {
	switch s {
	case "insecure":
		return PodRecordsInsecure, nil
	case "disabled":
		return PodRecordsDisabled, nil
	}
	return 0, fmt.Errorf("pod records mode %q: want insecure or disabled", s)
}

func (p PodRecords) String() string {
	if p == PodRecordsDisabled {
		return "disabled"
	}
	return "insecure"
}

// Config holds the answer policy of an Engine. The zero value is not
// useful; start from DefaultConfig.
type Config struct {
	// TTL of answers for mesh names, in seconds.
	TTL uint32
	// NegativeTTL is the SOA minimum and the TTL of the SOA record in
	// NXDOMAIN and NODATA answers, in seconds.
	NegativeTTL uint32
	// EDNSSize caps the UDP payload size advertised in and used for
	// responses to EDNS queries (512 applies to queries without EDNS).
	EDNSSize uint16
	// PodRecords selects how pod.<cluster domain> is answered.
	PodRecords PodRecords
	// Cache configures the cache of upstream answers (package cache).
	Cache cache.Config
	// PodNamespace is the namespace of the pod whose DNS the engine
	// answers (lowercase). When set, the single-label name <svc> is
	// answered as <svc>.<ns>.svc.<cluster domain>'s addresses
	// (shortname.go). Empty: single-label names go upstream.
	PodNamespace string
}

// DefaultConfig returns the defaults: TTL 30 s (Istio's and kubeadm's),
// negative TTL 5 s, EDNS size 1232 (DNS flag day 2020), pods insecure.
func DefaultConfig() Config {
	return Config{TTL: 30, NegativeTTL: 5, EDNSSize: 1232, PodRecords: PodRecordsInsecure,
		Cache: cache.DefaultConfig()}
}

func (c Config) validate() error {
	if c.EDNSSize < 512 {
		return fmt.Errorf("dnsengine: EDNS size %d is below 512", c.EDNSSize)
	}
	if c.TTL > 1<<31-1 || c.NegativeTTL > 1<<31-1 {
		return fmt.Errorf("dnsengine: TTL out of range")
	}
	if c.PodNamespace != "" && !IsLabel(c.PodNamespace) {
		return fmt.Errorf("dnsengine: pod namespace %q is not a lowercase DNS label", c.PodNamespace)
	}
	return c.Cache.Validate()
}
