package netns

import (
	"log/slog"
	"net/netip"
)

// Config describes a Topology. The zero value gives the default addresses
// and a random prefix.
type Config struct {
	// Prefix makes the namespace names unique: "mdt-<Prefix>-pod" and
	// "mdt-<Prefix>-up". Empty means a random one. It may hold only
	// letters, digits, '-' and '_'.
	Prefix string

	// PodV4 and PodV6 are the pod side's addresses on its eth0
	// (default 198.18.0.2/24 and fd53::2/64).
	PodV4, PodV6 netip.Prefix
	// UpstreamV4 and UpstreamV6 are the upstream side's addresses on its
	// eth0 (default 198.18.0.1/24 and fd53::1/64).
	UpstreamV4, UpstreamV6 netip.Prefix

	// DefaultRoute adds IPv4 and IPv6 default routes in the pod namespace
	// via the upstream addresses, so a query to a nameserver address
	// outside the veth subnet (a cluster DNS ClusterIP, say) is routed
	// instead of failing with "network unreachable".
	DefaultRoute bool

	// ResolvConf, when not empty, is written to /etc/netns/<pod>/resolv.conf.
	// It can also be written later with Topology.WriteResolvConf.
	ResolvConf string

	// Runner runs the ip(8) commands. Nil means ExecRunner.
	Runner Runner

	// Logger receives debug lines for each step. Nil discards them.
	Logger *slog.Logger
}

// Default addresses of a Topology.
var (
	DefaultPodV4      = netip.MustParsePrefix("198.18.0.2/24")
	DefaultPodV6      = netip.MustParsePrefix("fd53::2/64")
	DefaultUpstreamV4 = netip.MustParsePrefix("198.18.0.1/24")
	DefaultUpstreamV6 = netip.MustParsePrefix("fd53::1/64")
)

// NamePrefix starts the name of every namespace this package creates.
const NamePrefix = "mdt-"

// withDefaults returns c with empty fields filled in.
func (c Config) withDefaults() Config {
	if !c.PodV4.IsValid() {
		c.PodV4 = DefaultPodV4
	}
	if !c.PodV6.IsValid() {
		c.PodV6 = DefaultPodV6
	}
	if !c.UpstreamV4.IsValid() {
		c.UpstreamV4 = DefaultUpstreamV4
	}
	if !c.UpstreamV6.IsValid() {
		c.UpstreamV6 = DefaultUpstreamV6
	}
	if c.Runner == nil {
		c.Runner = ExecRunner{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
