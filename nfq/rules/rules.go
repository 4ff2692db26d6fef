package rules

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
)

// Chains meshdns owns. Every chain whose name starts with ChainPrefix is
// meshdns's: Install replaces their content, Remove deletes them.
const (
	ChainPrefix = "MESHDNS-"
	// ChainQueue (mangle, jumped to from OUTPUT) sends DNS queries to the queue.
	ChainQueue = "MESHDNS-OUTPUT"
	// ChainNotrackOut (raw, from OUTPUT) keeps DNS queries out of conntrack
	// and sends TCP ones to the queue, before conntrack (render.go).
	ChainNotrackOut = "MESHDNS-NOTRACK-OUT"
	// ChainNotrackPre (raw, from PREROUTING) keeps DNS answers out of conntrack.
	ChainNotrackPre = "MESHDNS-NOTRACK-PRE"
	// ChainResponses (mangle, from PREROUTING) sends the nameservers' UDP
	// answers to the queue, for the cache to learn.
	ChainResponses = "MESHDNS-PREROUTING"
)

// DefaultMark is the packet mark (and mask) meshdns puts on the packets it
// sends itself; the rules never queue nor untrack packets carrying it.
const DefaultMark = 0x20000

// Backend names for Config.Backend.
const (
	BackendAuto   = "auto"
	BackendNFT    = "nft"
	BackendLegacy = "legacy"
)

// Config says which packets the rules send to the queue.
type Config struct {
	// Nameservers whose DNS traffic (UDP and TCP to port 53) is captured,
	// usually resolv.conf's. Each address family gets rules only for its
	// own nameservers. Ignored when CaptureAll is set.
	Nameservers []netip.Addr
	// CaptureAll captures DNS to any address, in both families.
	CaptureAll bool
	// QueueNum is the first NFQUEUE queue number.
	QueueNum uint16
	// Queues is how many queues, from QueueNum on, share the packets
	// (--queue-balance, by flow hash); 0 means 1.
	Queues uint16
	// Mark and MarkMask identify meshdns's own packets, which are never
	// queued nor untracked; nor are the UDP replies delivered to a socket
	// with this mark (xt_socket --restore-skmark), so meshdns's own
	// queries may leave from any port and their replies stay tracked. Zero values mean DefaultMark; a zero MarkMask
	// with a non-zero Mark means Mark.
	Mark     uint32
	MarkMask uint32
	// CaptureResponses also queues the nameservers' UDP answers (source
	// port 53) arriving from outside (not via lo, where meshdns's own
	// answers come from), for the cache of upstream answers to learn.
	CaptureResponses bool
	// TCPResets queues the nameservers' TCP RSTs arriving from outside
	// to a queue of their own, ResetQueue (the one after the Queues
	// balanced ones), which the pod's outbound packets cannot fill. With
	// DNS over TCP answered in place, a segment of a flow meshdns holds
	// reaches the nameserver when the outbound queue is full (the queues
	// fail open), and the nameserver, which holds no such connection,
	// answers it with an RST; meshdns drops that RST and the client's TCP
	// resends the segment (dnsengine/tcpstack/server_reset.go).
	TCPResets bool
	// Filter, when set, queues only the UDP queries that may ask for a
	// name it covers (QueryFilter); nil queues every one.
	Filter *QueryFilter
	// Backend is BackendAuto ("" too), BackendNFT or BackendLegacy; see
	// ResolveBackend.
	Backend string
	// Runner runs the iptables tools; nil means ExecRunner.
	Runner Runner
	// Logger; nil discards.
	Logger *slog.Logger
}

// Family is an IP address family: IPv4 rules go to iptables, IPv6 rules to
// ip6tables.
type Family uint8

const (
	IPv4 Family = 4
	IPv6 Family = 6
)

// families lists both families in the order they are applied.
var families = [...]Family{IPv4, IPv6}

func (f Family) String() string {
	if f == IPv6 {
		return "ipv6"
	}
	return "ipv4"
}

func (f Family) has(a netip.Addr) bool { return (f == IPv6) == a.Is6() }

// withCommonDefaults fills in and checks what Install and Remove share.
func (c Config) withCommonDefaults() (Config, error) {
	if c.Queues == 0 {
		c.Queues = 1
	}
	last := int(c.QueueNum) + int(c.Queues) - 1
	if c.TCPResets {
		last++ // ResetQueue
	}
	if last > 0xffff {
		return c, fmt.Errorf("rules: queues %d..%d exceed 65535", c.QueueNum, last)
	}
	switch {
	case c.Mark == 0 && c.MarkMask == 0:
		c.Mark, c.MarkMask = DefaultMark, DefaultMark
	case c.MarkMask == 0:
		c.MarkMask = c.Mark
	}
	if c.Mark&c.MarkMask == 0 || c.Mark&^c.MarkMask != 0 {
		return c, fmt.Errorf("rules: mark %#x/%#x: the mark must be non-zero and within its mask", c.Mark, c.MarkMask)
	}
	switch c.Backend {
	case "":
		c.Backend = BackendAuto
	case BackendAuto, BackendNFT, BackendLegacy:
	default:
		return c, fmt.Errorf("rules: unknown iptables backend %q (want auto, nft or legacy)", c.Backend)
	}
	if c.Runner == nil {
		c.Runner = ExecRunner{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// ResetQueue is the queue of the nameservers' TCP RSTs (TCPResets): the
// one after the balanced queues.
func (c Config) ResetQueue() uint16 { return c.QueueNum + max(c.Queues, 1) }

// withDefaults returns c with defaults filled in, validated for Install:
// there must be something to capture.
func (c Config) withDefaults() (Config, error) {
	c, err := c.withCommonDefaults()
	if err != nil {
		return c, err
	}
	if err := c.Filter.validate(c.CaptureResponses); err != nil {
		return c, err
	}
	if !c.CaptureAll {
		if len(c.Nameservers) == 0 {
			return c, errors.New("rules: no nameservers to capture (and capture-all not set)")
		}
		var ns []netip.Addr
		for _, a := range c.Nameservers {
			if !a.IsValid() {
				return c, errors.New("rules: invalid nameserver address")
			}
			a = a.WithZone("").Unmap()
			if !containsAddr(ns, a) {
				ns = append(ns, a)
			}
		}
		c.Nameservers = ns
	}
	return c, nil
}

func containsAddr(as []netip.Addr, a netip.Addr) bool {
	for _, b := range as {
		if a == b {
			return true
		}
	}
	return false
}

// wants reports whether family f gets any rules under c.
func (c Config) wants(f Family) bool {
	if c.CaptureAll {
		return true
	}
	for _, a := range c.Nameservers {
		if f.has(a) {
			return true
		}
	}
	return false
}
