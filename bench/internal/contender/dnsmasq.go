package contender

import (
	"context"
	"fmt"
)

// DnsmasqLocal is dnsmasq in the pod namespace behind istio-init's
// REDIRECT, as uid 1337, answering the mesh names from a hosts file
// (authoritative for the cluster domain) and forwarding the rest to the
// upstream without a cache: the reference for CPU per answered query.
type DnsmasqLocal struct{}

// Name implements Contender.
func (DnsmasqLocal) Name() string { return "dnsmasq-local" }

// Check implements Contender.
func (DnsmasqLocal) Check(env *Env) error { return needBin("dnsmasq", env.Bins.Dnsmasq) }

// Start implements Contender.
func (DnsmasqLocal) Start(ctx context.Context, env *Env) (*Instance, error) {
	args := []string{
		"--keep-in-foreground", "--conf-file=/dev/null", "--pid-file=",
		"--log-facility=-",
		"--no-resolv", "--no-hosts", "--addn-hosts=" + env.Files.MeshHosts,
		"--listen-address=127.0.0.1,::1", "--bind-interfaces",
		fmt.Sprintf("--port=%d", ProxyPort),
		"--local=/" + env.ClusterDomain + "/",
		"--cache-size=0", "--local-ttl=30", "--dns-forward-max=1000",
	}
	for _, a := range env.Nameservers {
		args = append(args, "--server="+a.String())
	}
	return startLocal(ctx, env, ProcSpec{
		Name:    "dnsmasq-local",
		Path:    env.Bins.Dnsmasq,
		Args:    args,
		LogPath: env.logPath("dnsmasq-local"),
		Ready:   "started, version",
	}, env.ProbeName)
}
