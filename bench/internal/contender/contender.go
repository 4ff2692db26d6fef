package contender

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// Contender is one system under test.
type Contender interface {
	// Name is the contender's name in results ("meshdns", "istio", ...).
	Name() string
	// Check reports why the contender cannot run in env (a missing
	// binary), or nil.
	Check(env *Env) error
	// Start starts the contender in env.Pod and returns once it answers.
	Start(ctx context.Context, env *Env) (*Instance, error)
}

// Instance is a running contender.
type Instance struct {
	// Procs are the processes in the pod namespace that answer queries;
	// their CPU time is charged to the contender.
	Procs []*Proc
	// Meta holds facts worth recording with the results (listen address,
	// rule mode, ...).
	Meta map[string]string

	cleanups []func() error
}

// PIDs returns the pids of Procs.
func (in *Instance) PIDs() []int {
	var out []int
	for _, p := range in.Procs {
		out = append(out, p.Pid())
	}
	return out
}

// Alive returns an error naming a process that has exited.
func (in *Instance) Alive() error {
	for _, p := range in.Procs {
		if done, err := p.Exited(); done {
			return fmt.Errorf("%s exited (%v): %s", p.Name(), err, p.Tail())
		}
	}
	return nil
}

func (in *Instance) onStop(f func() error) { in.cleanups = append(in.cleanups, f) }

// Stop stops the processes and runs the cleanups, last first.
func (in *Instance) Stop() error {
	var errs []error
	for _, p := range in.Procs {
		if err := p.Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	for i := len(in.cleanups) - 1; i >= 0; i-- {
		if err := in.cleanups[i](); err != nil {
			errs = append(errs, err)
		}
	}
	in.cleanups = nil
	return errors.Join(errs...)
}

// startTimeout bounds how long a contender may take to come up.
const startTimeout = 30 * time.Second

// nameserver returns the pod's first nameserver on port 53.
func (e *Env) nameserver() netip.AddrPort {
	return netip.AddrPortFrom(e.Nameservers[0], 53)
}

// logPath returns a log file path in the work directory.
func (e *Env) logPath(name string) string {
	return filepath.Join(e.WorkDir, name+".log")
}

// writeFile writes a config file readable by the proxy uid.
func (e *Env) writeFile(name, content string) (string, error) {
	p := filepath.Join(e.WorkDir, name)
	return p, os.WriteFile(p, []byte(content), 0o644)
}

func needBin(what, path string) error {
	if path == "" {
		return fmt.Errorf("no %s binary", what)
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s binary: %w", what, err)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("%s binary %s is not executable", what, path)
	}
	return nil
}

// startLocal is the common start of the contenders behind istio-init's
// REDIRECT: rules first (as in a pod, where istio-init runs before the
// containers), then the program as the proxy uid, then a probe through the
// REDIRECT until it answers probeName.
func startLocal(ctx context.Context, env *Env, spec ProcSpec, probeName string) (*Instance, error) {
	in := &Instance{Meta: map[string]string{"listen": fmt.Sprintf("localhost:%d", ProxyPort), "rules": "istio-init REDIRECT"}}
	v4, v6 := IstioRules(env.Nameservers, env.ProxyUID, ProxyPort)
	in.onStop(func() error { return ResetNamespace(context.Background(), env.Pod) })
	if err := InstallRules(ctx, env.Pod, v4, v6); err != nil {
		return nil, errors.Join(err, in.Stop())
	}
	spec.NS, spec.UID, spec.Self = env.Pod, env.ProxyUID, env.Bins.Self
	p, err := StartProc(ctx, spec)
	if err != nil {
		return nil, errors.Join(err, in.Stop())
	}
	in.Procs = append(in.Procs, p)
	if err := p.WaitReady(ctx, startTimeout); err != nil {
		return nil, errors.Join(err, in.Stop())
	}
	if err := Probe(ctx, env.Pod, env.nameserver(), probeName, startTimeout); err != nil {
		return nil, errors.Join(fmt.Errorf("%s: %w: %s", spec.Name, err, p.Tail()), in.Stop())
	}
	return in, nil
}
