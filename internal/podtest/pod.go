package podtest

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/clusterdns"
	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/netns/netnstest"
	"github.com/meshdns/meshdns/internal/nsproc"
)

// commandTimeout bounds every command a Pod runs in a namespace.
const commandTimeout = 30 * time.Second

// Pod is a pod namespace with meshdns, and the upstream that the pod's
// resolv.conf points at.
type Pod struct {
	// Topo holds the namespace names and addresses.
	Topo *netns.Topology
	// Upstream is the counting DNS server on the upstream side's port 53
	// (IPv4 and IPv6, UDP and TCP), serving in this test process.
	Upstream *clusterdns.Server
	// Meshdns is the meshdns process last started (nil with NoMeshdns
	// until StartMeshdns).
	Meshdns *Process

	cfg Config
}

// Start builds the topology and the upstream, and (unless cfg.NoMeshdns)
// starts meshdns in the pod namespace and waits until it serves. Everything
// is torn down when t ends. Any failure fails t.
func Start(t testing.TB, cfg Config) *Pod {
	t.Helper()
	if cfg.ResolvConf == "" {
		cfg.ResolvConf = DefaultResolvConf
	}
	if cfg.Zone == "" {
		cfg.Zone = clusterdns.ExampleZone
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = DefaultReadyTimeout
	}
	netnstest.RequireRoot(t)
	bin := ""
	if !cfg.NoMeshdns {
		bin = Binary(t) // before the topology: a build failure leaves nothing behind
	}
	cleanupStale(t)
	if cfg.Prefix == "" {
		prefix, err := newPrefix()
		if err != nil {
			t.Fatal(err)
		}
		cfg.Prefix = prefix
	}
	topo := netnstest.ForTest(t, netns.Config{Prefix: cfg.Prefix, ResolvConf: cfg.ResolvConf})
	p := &Pod{Topo: topo, cfg: cfg}
	p.Upstream = startUpstream(t, topo, cfg)
	if !cfg.NoMeshdns {
		p.startMeshdns(t, bin, cfg.Objects, cfg.Args)
	}
	return p
}

// startUpstream serves the upstream zone on port 53 of both upstream
// addresses, in the upstream namespace, and stops it when t ends.
func startUpstream(t testing.TB, topo *netns.Topology, cfg Config) *clusterdns.Server {
	t.Helper()
	ucfg := clusterdns.Config{Zone: cfg.Zone, Records: cfg.Records}
	if cfg.Upstream != nil {
		cfg.Upstream(&ucfg)
	}
	srv, err := clusterdns.New(ucfg)
	if err != nil {
		t.Fatalf("podtest: upstream: %v", err)
	}
	// Sockets made inside the namespace stay there.
	err = netns.Do(topo.Upstream, func() error {
		return srv.ListenAndServe(net.JoinHostPort(topo.UpstreamV4.String(), "53"), net.JoinHostPort(topo.UpstreamV6.String(), "53"))
	})
	if err != nil {
		t.Fatalf("podtest: upstream: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("podtest: %v", err)
		}
	})
	return srv
}

// StartMeshdns starts `meshdns run --objects objects args...` in the pod
// namespace (without --objects when objects is empty), waits until it
// serves, and stops it when t ends. It becomes p.Meshdns. Start it again only after the previous one has exited: two
// consumers cannot bind the same queue.
func (p *Pod) StartMeshdns(t testing.TB, objects string, args ...string) *Process {
	t.Helper()
	return p.startMeshdns(t, Binary(t), objects, args)
}

func (p *Pod) startMeshdns(t testing.TB, bin, objects string, extra []string) *Process {
	t.Helper()
	args := []string{"run"}
	if objects != "" {
		args = append(args, "--objects", objects)
	}
	args = append(args, extra...)
	proc := startIn(t, p.Topo.Pod, bin, args)
	p.Meshdns = proc
	if err := proc.WaitReady(context.Background(), p.cfg.ReadyTimeout); err != nil {
		t.Fatal(err)
	}
	return proc
}

// StartTool starts another program (a capture tool, say) with args in the
// pod namespace and returns at once. Its output is in Logs, WaitLog waits
// for a line of it, Signal and Wait end it; it is killed when t ends if it
// still runs.
func (p *Pod) StartTool(t testing.TB, name string, args ...string) *Process {
	t.Helper()
	proc, err := nsproc.Start(context.Background(), nsproc.Config{NS: p.Topo.Pod, Path: name, Args: args})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !proc.Exited() {
			proc.Kill()
		}
	})
	return proc
}

// Command returns a command that runs name with args in the pod namespace
// (with the pod's resolv.conf as /etc/resolv.conf).
func (p *Pod) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return netns.Command(ctx, p.Topo.Pod, name, args...)
}

// Exec runs name with args in the pod namespace and returns its combined
// output; a failure's error holds the command line and the output.
func (p *Pod) Exec(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	out, err := p.Command(ctx, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s in %s: %w: %s", name, strings.Join(args, " "), p.Topo.Pod, err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// MustExec is Exec that fails t on error.
func (p *Pod) MustExec(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := p.Exec(name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// UpstreamCount returns how many queries for name of type qtype (0: any
// type) reached the upstream, over UDP and TCP.
func (p *Pod) UpstreamCount(name string, qtype uint16) uint64 {
	return p.Upstream.Count(name, qtype)
}

// Rules returns what the pod namespace's rule tables hold, as
// iptables-save and ip6tables-save print them, for both the nf_tables and
// the legacy backend, under a "# <tool>" header each.
func (p *Pod) Rules(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	for _, tool := range []string{"iptables-nft-save", "ip6tables-nft-save", "iptables-legacy-save", "ip6tables-legacy-save"} {
		fmt.Fprintf(&b, "# %s\n%s", tool, p.MustExec(t, tool))
	}
	return b.String()
}
