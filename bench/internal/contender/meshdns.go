package contender

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
)

// Meshdns is the project: `meshdns run` in the pod namespace, installing
// its own NFQUEUE rules as in production. The zero value is the default
// configuration ("meshdns"); Variant and Args make the variants of the
// registry: without the cache (the pure pass-through path), without the
// cache nor the query filter, and with go-nfqueue's queue reader.
type Meshdns struct {
	// Variant is appended to the name ("meshdns-<Variant>").
	Variant string
	// Args are appended to the `meshdns run` command line.
	Args []string
}

// Meshdns variants. Without the cache, --queue-filter auto (the default)
// keeps the queries for names meshdns does not own in the kernel;
// nocache-queue-all queues them too, as before the filter: the round
// trip through the queue that the filter saves.
var (
	MeshdnsNoCache         = Meshdns{Variant: "nocache", Args: []string{"--cache-size", "0"}}
	MeshdnsNoCacheQueueAll = Meshdns{Variant: "nocache-queue-all", Args: []string{"--cache-size", "0", "--queue-filter", "off"}}
	MeshdnsGoNfqueue       = Meshdns{Variant: "go-nfqueue", Args: []string{"--queue-impl", "go-nfqueue"}}
)

// Name implements Contender.
func (m Meshdns) Name() string {
	if m.Variant == "" {
		return "meshdns"
	}
	return "meshdns-" + m.Variant
}

// Check implements Contender.
func (Meshdns) Check(env *Env) error { return needBin("meshdns", env.Bins.Meshdns) }

// MeshdnsArgs returns the `meshdns run` command line the contender uses.
// The key of its TCP ISN cookie lives in the work directory, not in the
// host's /run.
func MeshdnsArgs(env *Env) []string {
	args := []string{"run",
		"--objects", env.Files.Objects,
		"--namespace", env.PodNamespace,
		"--cluster-domain", env.ClusterDomain,
		"--tcp-key-file", filepath.Join(env.WorkDir, "meshdns-tcp-isn.key"),
	}
	return append(args, env.MeshdnsArgs...)
}

// Start implements Contender.
func (m Meshdns) Start(ctx context.Context, env *Env) (*Instance, error) {
	in := &Instance{Meta: map[string]string{"rules": "meshdns NFQUEUE"}}
	if len(m.Args) > 0 {
		in.Meta["args"] = strings.Join(m.Args, " ")
	}
	in.onStop(func() error { return ResetNamespace(context.Background(), env.Pod) })
	if err := ResetNamespace(ctx, env.Pod); err != nil {
		return nil, err
	}
	p, err := StartProc(ctx, ProcSpec{
		Name:    m.Name(),
		NS:      env.Pod,
		Path:    env.Bins.Meshdns,
		Args:    append(MeshdnsArgs(env), m.Args...),
		LogPath: env.logPath(m.Name()),
		Ready:   "msg=serving",
	})
	if err != nil {
		return nil, errors.Join(err, in.Stop())
	}
	in.Procs = append(in.Procs, p)
	if err := p.WaitReady(ctx, startTimeout); err != nil {
		return nil, errors.Join(err, in.Stop())
	}
	// With --queue-bypass an unbound queue passes queries to the upstream,
	// so a probe cannot tell meshdns from direct; "serving" is the
	// contract. The probe still checks that answers arrive.
	if err := Probe(ctx, env.Pod, env.nameserver(), env.ProbeName, startTimeout); err != nil {
		return nil, errors.Join(err, in.Stop())
	}
	return in, nil
}
