package contender

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshdns/meshdns/bench/internal/names"
	"github.com/meshdns/meshdns/bench/internal/runas"
	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/netns/netnstest"
)

// TestMain lets the test binary stand in for the harness's runas
// subcommand (ProcSpec.Self), so that the kernel tests can start
// contenders as uid 1337.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "runas" {
		err := runas.Exec(os.Args[2:])
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// kernelEnv builds a topology, a small name set and an Env for it.
func kernelEnv(t *testing.T) (*Env, *names.Set) {
	t.Helper()
	topo := netnstest.ForTest(t, netns.Config{})
	cfg := names.DefaultConfig()
	cfg.Services, cfg.ServiceEntries, cfg.External = 20, 2, 3
	set, err := names.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "mdt-bench-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil { // readable by uid 1337
		t.Fatal(err)
	}
	write := func(name string, fill func(*bytes.Buffer) error) string {
		var b bytes.Buffer
		if err := fill(&b); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	all := names.HostsOptions{Mesh: true, External: true}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dnsmasq, err := exec.LookPath("dnsmasq")
	if err != nil {
		t.Fatalf("dnsmasq (Debian dnsmasq-base) is needed: %v", err)
	}
	nameservers := []netip.Addr{topo.UpstreamV4, topo.UpstreamV6}
	if err := topo.WriteResolvConf(set.ResolvConf(nameservers...)); err != nil {
		t.Fatal(err)
	}
	env := &Env{
		Pod: topo.Pod, Upstream: topo.Upstream,
		Nameservers:   nameservers,
		PodNamespace:  cfg.PodNamespace,
		ClusterDomain: cfg.ClusterDomain,
		Files: Files{
			Objects:   write("objects.yaml", func(b *bytes.Buffer) error { return set.WriteObjects(b) }),
			MeshHosts: write("hosts.mesh", func(b *bytes.Buffer) error { return set.WriteHosts(b, names.HostsOptions{Mesh: true}) }),
			AllHosts:  write("hosts.all", func(b *bytes.Buffer) error { return set.WriteHosts(b, all) }),
			AllZone:   write("root.zone", func(b *bytes.Buffer) error { return set.WriteZone(b, all) }),
		},
		WorkDir:   dir,
		Bins:      Bins{Self: self, Dnsmasq: dnsmasq},
		ProxyUID:  DefaultProxyUID,
		ProbeName: set.MeshQueries()[0].Name,
		Logger:    slog.New(slog.DiscardHandler),
	}
	return env, set
}

func counts(t *testing.T, env *Env) Counts {
	t.Helper()
	c, err := ReadCounts(context.Background(), env.Upstream)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func probe(t *testing.T, env *Env, name string) {
	t.Helper()
	if err := Probe(context.Background(), env.Pod, env.nameserver(), name, startTimeout); err != nil {
		t.Fatal(err)
	}
}

func probeTCP(t *testing.T, env *Env, name string) {
	t.Helper()
	if err := ProbeTCP(context.Background(), env.Pod, env.nameserver(), name, startTimeout); err != nil {
		t.Fatal(err)
	}
}

// TestKernelUpstreamAndDnsmasqLocal checks the upstream's query counters
// (UDP and TCP), and that a contender behind istio-init's REDIRECT answers mesh names
// itself (over UDP and TCP) while its own forwarded queries (uid 1337) skip the REDIRECT and
// reach the upstream.
func TestKernelUpstreamAndDnsmasqLocal(t *testing.T) {
	env, set := kernelEnv(t)
	ctx := context.Background()
	up, err := UpstreamDnsmasq{}.Start(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := up.Stop(); err != nil {
			t.Errorf("upstream stop: %v", err)
		}
	})
	mesh := set.MeshQueries()[1].Name
	external := set.ExternalQueries()[0].Name

	c0 := counts(t, env)
	for range 3 {
		probe(t, env, mesh)
	}
	if d := counts(t, env).Sub(c0); d.UDP < 3 || d.UDP > 6 {
		t.Errorf("3 direct probes counted as %d upstream queries", d.UDP)
	}
	c0 = counts(t, env)
	for range 2 {
		probeTCP(t, env, mesh)
	}
	if d := counts(t, env).Sub(c0); d.TCPConns != 2 || d.TCPQueries != 2 || d.UDP != 0 || d.Queries() != 2 {
		t.Errorf("2 direct TCP probes counted as %+v", d)
	}

	local, err := DnsmasqLocal{}.Start(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			local.Stop()
		}
	})
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", local.PIDs()[0]))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(st), "\nUid:\t1337\t1337\t1337\t1337\n") {
		t.Errorf("dnsmasq-local does not run as uid 1337:\n%s", st)
	}
	c1 := counts(t, env)
	probe(t, env, mesh)
	if d := counts(t, env).Sub(c1); d.UDP != 0 {
		t.Errorf("a mesh name answered behind the REDIRECT reached the upstream %d times", d.UDP)
	}
	// istio-init's REDIRECT covers TCP too: a TCP query for a mesh name
	// is answered in the pod and no connection reaches the upstream.
	c1 = counts(t, env)
	probeTCP(t, env, mesh)
	if d := counts(t, env).Sub(c1); d.TCPConns != 0 || d.Queries() != 0 {
		t.Errorf("a TCP mesh query behind the REDIRECT reached the upstream: %+v", d)
	}
	c2 := counts(t, env)
	probe(t, env, external)
	if d := counts(t, env).Sub(c2); d.UDP < 1 {
		t.Errorf("the external name did not reach the upstream (counter +%d): uid exemption broken?", d.UDP)
	}

	if err := local.Stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	stopped = true
	out, err := RunIn(ctx, env.Pod, "", "iptables-save")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "REDIRECT") {
		t.Errorf("REDIRECT rules left after Stop:\n%s", out)
	}
	// With the rules gone, queries go straight to the upstream again.
	c3 := counts(t, env)
	probe(t, env, mesh)
	if d := counts(t, env).Sub(c3); d.UDP < 1 {
		t.Error("after Stop, a probe did not reach the upstream")
	}
}
