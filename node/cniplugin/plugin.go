package cniplugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"

	"github.com/meshdns/meshdns/nfq/rules"
	"github.com/meshdns/meshdns/node/podevent"
)

// Plugin is meshdns-cni's logic; cmd/meshdns-cni hands it to skel.
type Plugin struct {
	// Rules installs and removes rules in a namespace; nil means nfq's
	// Install/Remove run through rules.NetNSRunner.
	Rules Rules
	// Notify tells the agent; nil means podevent.Send.
	Notify func(ctx context.Context, socket string, e podevent.Event) error
	// Stdout receives the result (os.Stdout when nil).
	Stdout io.Writer
	// Log; nil discards.
	Log *slog.Logger
}

// Rules applies nfq's rules in a network namespace.
type Rules interface {
	Install(ctx context.Context, netns string, c rules.Config) error
	Remove(ctx context.Context, netns string, c rules.Config) error
}

// NetNSRules is Rules through rules.NetNSRunner.
type NetNSRules struct{}

// Install implements Rules.
func (NetNSRules) Install(ctx context.Context, netns string, c rules.Config) error {
	c.Runner = rules.NetNSRunner{Path: netns}
	return rules.Install(ctx, c)
}

// Remove implements Rules.
func (NetNSRules) Remove(ctx context.Context, netns string, c rules.Config) error {
	c.Runner = rules.NetNSRunner{Path: netns}
	return rules.Remove(ctx, c)
}

// opTimeout bounds one ADD or DEL.
const opTimeout = 20 * time.Second

func (p *Plugin) defaults() {
	if p.Rules == nil {
		p.Rules = NetNSRules{}
	}
	if p.Notify == nil {
		p.Notify = podevent.Send
	}
	if p.Stdout == nil {
		p.Stdout = os.Stdout
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
}

// k8sArgs are the CNI_ARGS a Kubernetes runtime passes.
type k8sArgs struct {
	types.CommonArgs
	K8S_POD_NAMESPACE          types.UnmarshallableString //nolint:revive // CNI_ARGS names
	K8S_POD_NAME               types.UnmarshallableString //nolint:revive
	K8S_POD_UID                types.UnmarshallableString //nolint:revive
	K8S_POD_INFRA_CONTAINER_ID types.UnmarshallableString //nolint:revive
}

func event(op string, a *skel.CmdArgs) podevent.Event {
	var k k8sArgs
	_ = types.LoadArgs(a.Args, &k) // IgnoreUnknown is set; a malformed pair leaves fields empty
	return podevent.Event{Op: op, Namespace: string(k.K8S_POD_NAMESPACE), Name: string(k.K8S_POD_NAME),
		UID: string(k.K8S_POD_UID), ContainerID: a.ContainerID, NetNS: a.Netns}
}

// Add tells the agent, installs the rules in the pod's namespace unless
// the agent leaves the pod alone, and prints the previous result. The
// agent is told first: it decides whether the pod is captured (its label,
// its namespace's) and binds the pod's queue before it replies, so the
// pod's first query is answered. An agent that cannot be reached decides
// nothing: the rules go in, and with --queue-bypass the pod's DNS goes to
// the cluster DNS until the agent recovers the pod.
func (p *Plugin) Add(a *skel.CmdArgs) error {
	p.defaults()
	c, err := Parse(a.StdinData)
	if err != nil {
		return err
	}
	if c.PrevResult == nil {
		return errors.New("meshdns-cni: no prevResult: it must be chained after the main plugin")
	}
	if a.Netns == "" {
		return errors.New("meshdns-cni: no CNI_NETNS")
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	capture := true
	e := event(podevent.OpAdd, a)
	if e.Namespace == "" || e.Name == "" {
		// Not a Kubernetes pod: captured, served once the agent knows it.
		p.Log.Warn("no K8S_POD_NAMESPACE/K8S_POD_NAME in CNI_ARGS; the agent is not told", "container", a.ContainerID)
	} else if err := p.Notify(ctx, c.AgentSocket, e); errors.Is(err, podevent.ErrNotCaptured) {
		capture = false
	} else if err != nil {
		p.Log.Warn("agent not told; DNS bypasses meshdns until it recovers the pod", "pod", e.Namespace+"/"+e.Name, "err", err)
	}
	if capture {
		rc, _ := c.Rules()
		if err := p.Rules.Install(ctx, a.Netns, rc); err != nil {
			return fmt.Errorf("meshdns-cni: installing the rules in %s: %w", a.Netns, err)
		}
	}
	res, err := c.PrevResult.GetAsVersion(c.CNIVersion)
	if err != nil {
		return fmt.Errorf("meshdns-cni: prevResult: %w", err)
	}
	return res.PrintTo(p.Stdout)
}

// Del removes the rules if the namespace still exists and tells the agent.
func (p *Plugin) Del(a *skel.CmdArgs) error {
	p.defaults()
	c, err := Parse(a.StdinData)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if a.Netns != "" {
		if _, err := os.Stat(a.Netns); err == nil {
			rc, _ := c.Rules()
			if err := p.Rules.Remove(ctx, a.Netns, rc); err != nil {
				return fmt.Errorf("meshdns-cni: removing the rules in %s: %w", a.Netns, err)
			}
		}
	}
	if err := p.Notify(ctx, c.AgentSocket, event(podevent.OpDel, a)); err != nil {
		p.Log.Warn("agent not told of the deletion", "container", a.ContainerID, "err", err)
	}
	return nil
}

// Check succeeds when the configuration parses: the rules are the agent's
// to verify.
func (p *Plugin) Check(a *skel.CmdArgs) error {
	_, err := Parse(a.StdinData)
	return err
}
