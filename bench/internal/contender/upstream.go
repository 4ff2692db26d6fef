package contender

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Upstream is a cluster DNS server variant in the upstream namespace. It
// answers every mesh and external name (and NXDOMAIN for the rest) on the
// pod's nameserver addresses, port 53.
type Upstream interface {
	Name() string
	Check(env *Env) error
	// Start starts the server, installs the query counters and returns
	// once the pod namespace gets answers.
	Start(ctx context.Context, env *Env) (*Instance, error)
}

func startUpstream(ctx context.Context, env *Env, spec ProcSpec) (*Instance, error) {
	in := &Instance{Meta: map[string]string{"upstream": spec.Name}}
	if _, err := RunIn(ctx, env.Upstream, "", "nft", "flush", "ruleset"); err != nil {
		return nil, err
	}
	if err := InstallRules(ctx, env.Upstream, CounterRules(), CounterRules()); err != nil {
		return nil, err
	}
	spec.NS = env.Upstream
	p, err := StartProc(ctx, spec)
	if err != nil {
		return nil, err
	}
	in.Procs = append(in.Procs, p)
	if err := p.WaitReady(ctx, startTimeout); err != nil {
		return nil, errors.Join(err, in.Stop())
	}
	if err := Probe(ctx, env.Pod, env.nameserver(), env.ProbeName, startTimeout); err != nil {
		return nil, errors.Join(fmt.Errorf("upstream %s: %w: %s", spec.Name, err, p.Tail()), in.Stop())
	}
	return in, nil
}

// UpstreamDnsmasq is dnsmasq answering from a hosts file with all names,
// authoritative for everything (--local=/#/: unknown names are NXDOMAIN,
// nothing is forwarded), without a cache (hosts answers need none).
type UpstreamDnsmasq struct{}

// Name implements Upstream.
func (UpstreamDnsmasq) Name() string { return "dnsmasq" }

// Check implements Upstream.
func (UpstreamDnsmasq) Check(env *Env) error { return needBin("dnsmasq", env.Bins.Dnsmasq) }

// Start implements Upstream.
func (UpstreamDnsmasq) Start(ctx context.Context, env *Env) (*Instance, error) {
	var listen []string
	for _, a := range env.Nameservers {
		listen = append(listen, a.String())
	}
	return startUpstream(ctx, env, ProcSpec{
		Name: "dnsmasq",
		Path: env.Bins.Dnsmasq,
		Args: []string{
			"--keep-in-foreground", "--conf-file=/dev/null", "--pid-file=", "--user=root",
			"--log-facility=-",
			"--no-resolv", "--no-hosts", "--addn-hosts=" + env.Files.AllHosts,
			"--listen-address=" + strings.Join(listen, ","), "--bind-interfaces", "--port=53",
			"--local=/#/", "--cache-size=0", "--local-ttl=30",
		},
		LogPath: env.logPath("upstream-dnsmasq"),
		Ready:   "started, version",
	})
}

// UpstreamCoreDNS is CoreDNS serving all names from a root zone file (file
// plugin: authoritative, NXDOMAIN for the rest).
type UpstreamCoreDNS struct{}

// Name implements Upstream.
func (UpstreamCoreDNS) Name() string { return "coredns" }

// Check implements Upstream.
func (UpstreamCoreDNS) Check(env *Env) error { return needBin("coredns", env.Bins.CoreDNS) }

// UpstreamCorefile is the Corefile UpstreamCoreDNS runs.
func UpstreamCorefile(env *Env) string {
	var listen []string
	for _, a := range env.Nameservers {
		listen = append(listen, a.String())
	}
	return fmt.Sprintf(".:53 {\n    bind %s\n    file %s .\n}\n", strings.Join(listen, " "), env.Files.AllZone)
}

// Start implements Upstream.
func (UpstreamCoreDNS) Start(ctx context.Context, env *Env) (*Instance, error) {
	conf, err := env.writeFile("Corefile.upstream", UpstreamCorefile(env))
	if err != nil {
		return nil, err
	}
	return startUpstream(ctx, env, ProcSpec{
		Name:    "coredns",
		Path:    env.Bins.CoreDNS,
		Args:    []string{"-conf", conf},
		LogPath: env.logPath("upstream-coredns"),
		Ready:   "CoreDNS-",
	})
}
