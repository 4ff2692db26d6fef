package cniplugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"

	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/meshdns/meshdns/nfq/rules"
)

// DefaultSocket is where the node agent listens.
const DefaultSocket = "/var/run/meshdns/cni.sock"

// Config is meshdns-cni's entry in the node's conflist.
type Config struct {
	types.PluginConf
	// AgentSocket is the node agent's socket (DefaultSocket when empty).
	AgentSocket string `json:"agentSocket,omitempty"`
	// Nameservers whose DNS is captured: the kubelet's cluster DNS.
	Nameservers []string `json:"nameservers,omitempty"`
	// CaptureAll captures port 53 to any address (pods with dnsPolicy
	// Default or None included).
	CaptureAll bool `json:"captureAll,omitempty"`
	// QueueNum is the pod's queue number (queue numbers are per network
	// namespace, so every pod uses the same); 0 means 5353.
	QueueNum uint16 `json:"queueNum,omitempty"`
	// Mark marks the agent's own packets in the pod; 0 means nfq's default.
	Mark uint32 `json:"mark,omitempty"`
	// Cache also queues the nameservers' answers for the agent's per-pod
	// cache to learn from.
	Cache bool `json:"cache,omitempty"`
	// TCPResets also queues the nameservers' TCP RSTs, on the queue after
	// QueueNum, for the agent to drop those of the TCP flows it answers
	// (rules.Config.TCPResets): set when the agent answers DNS over TCP.
	TCPResets bool `json:"tcpResets,omitempty"`
	// IptablesBackend is auto (default), nft or legacy.
	IptablesBackend string `json:"iptablesBackend,omitempty"`
}

// DefaultQueueNum is the queue of every pod (as the sidecar's default).
const DefaultQueueNum = 5353

// Parse reads the plugin's stdin configuration, prevResult included.
func Parse(stdin []byte) (*Config, error) {
	c := &Config{}
	if err := json.Unmarshal(stdin, c); err != nil {
		return nil, fmt.Errorf("meshdns-cni: config: %w", err)
	}
	if c.RawPrevResult != nil {
		if err := version.ParsePrevResult(&c.PluginConf); err != nil {
			return nil, fmt.Errorf("meshdns-cni: prevResult: %w", err)
		}
	}
	if c.AgentSocket == "" {
		c.AgentSocket = DefaultSocket
	}
	if c.QueueNum == 0 {
		c.QueueNum = DefaultQueueNum
	}
	if _, err := c.Rules(); err != nil {
		return nil, err
	}
	return c, nil
}

// Rules is the capture rule configuration of c (without a Runner).
func (c *Config) Rules() (rules.Config, error) {
	r := rules.Config{CaptureAll: c.CaptureAll, QueueNum: c.QueueNum, Mark: c.Mark,
		CaptureResponses: c.Cache, TCPResets: c.TCPResets, Backend: c.IptablesBackend}
	for _, s := range c.Nameservers {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return r, fmt.Errorf("meshdns-cni: nameserver %q: %w", s, err)
		}
		r.Nameservers = append(r.Nameservers, a)
	}
	if !c.CaptureAll && len(r.Nameservers) == 0 {
		return r, errors.New("meshdns-cni: no nameservers and captureAll not set: nothing to capture")
	}
	return r, nil
}
