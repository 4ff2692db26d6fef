package contender

import (
	"context"
	"fmt"
	"strings"
)

// CoreDNSNodeLocal is CoreDNS configured like NodeLocal DNSCache (cache
// with its success/denial caps, forward to the cluster DNS) but inside the
// pod namespace behind istio-init's REDIRECT, as uid 1337: a per-pod cache.
// Unlike node-local-dns it forwards the cluster zone over UDP, not
// force_tcp, so the upstream's counter sees every query it forwards.
type CoreDNSNodeLocal struct{}

// Name implements Contender.
func (CoreDNSNodeLocal) Name() string { return "coredns-nodelocal" }

// Check implements Contender.
func (CoreDNSNodeLocal) Check(env *Env) error { return needBin("coredns", env.Bins.CoreDNS) }

// NodeLocalCorefile is the Corefile CoreDNSNodeLocal runs.
func NodeLocalCorefile(env *Env) string {
	var up []string
	for _, a := range env.Nameservers {
		up = append(up, a.String())
	}
	ups := strings.Join(up, " ")
	return fmt.Sprintf(`%[1]s:%[2]d {
    bind 127.0.0.1 ::1
    cache {
        success 9984 30
        denial 9984 5
    }
    forward . %[3]s
}
.:%[2]d {
    bind 127.0.0.1 ::1
    cache 30
    forward . %[3]s
}
`, env.ClusterDomain, ProxyPort, ups)
}

// Start implements Contender.
func (CoreDNSNodeLocal) Start(ctx context.Context, env *Env) (*Instance, error) {
	conf, err := env.writeFile("Corefile.nodelocal", NodeLocalCorefile(env))
	if err != nil {
		return nil, err
	}
	return startLocal(ctx, env, ProcSpec{
		Name:    "coredns-nodelocal",
		Path:    env.Bins.CoreDNS,
		Args:    []string{"-conf", conf},
		LogPath: env.logPath("coredns-nodelocal"),
		Ready:   "CoreDNS-",
	}, env.ProbeName)
}
