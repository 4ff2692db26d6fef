package podevent

import (
	"errors"
	"fmt"
	"time"
)

// Ops of an Event.
const (
	OpAdd = "add"
	OpDel = "del"
)

// PluginType is meshdns-cni's type in a conflist.
const PluginType = "meshdns-cni"

// MaxLine bounds one message.
const MaxLine = 16 << 10

// Timeout bounds one exchange.
const Timeout = 2 * time.Second

// Event says that a pod's network namespace was set up (OpAdd) or torn
// down (OpDel).
type Event struct {
	Op          string `json:"op"`
	Namespace   string `json:"namespace"`
	Name        string `json:"name"`
	UID         string `json:"uid,omitempty"`
	ContainerID string `json:"containerID"`
	// NetNS is the namespace's path (CNI_NETNS); it may be empty on OpDel.
	NetNS string `json:"netns,omitempty"`
}

// Reply is the agent's answer.
type Reply struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// Ignored: the pod's DNS is not captured (it is not labelled, or it
	// has its own sidecar); the plugin installs nothing in it.
	Ignored bool `json:"ignored,omitempty"`
}

// ErrNotCaptured is what a Handler returns for a pod whose DNS is not
// captured, and what Send returns when the agent said so.
var ErrNotCaptured = errors.New("podevent: the pod's DNS is not captured")

// Check reports what is wrong with e.
func (e Event) Check() error {
	switch {
	case e.Op != OpAdd && e.Op != OpDel:
		return fmt.Errorf("podevent: op %q: want add or del", e.Op)
	case e.ContainerID == "":
		return errors.New("podevent: no container id")
	case e.Op == OpAdd && e.NetNS == "":
		return errors.New("podevent: add without a netns")
	case e.Op == OpAdd && (e.Namespace == "" || e.Name == ""):
		return errors.New("podevent: add without the pod's namespace and name")
	}
	return nil
}
