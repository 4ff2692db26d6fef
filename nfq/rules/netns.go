package rules

import (
	"context"

	"github.com/meshdns/meshdns/internal/netns"
)

// NetNSRunner runs the iptables tools inside the network namespace at Path
// (a /run/netns/<name> or /proc/<pid>/ns/net file): node mode installs a
// pod's rules from outside the pod. Each command is started from an OS
// thread switched into the namespace, which the child process inherits.
type NetNSRunner struct {
	// Path names the namespace.
	Path string
	// Inner runs the commands; nil means ExecRunner.
	Inner Runner
}

func (r NetNSRunner) inner() Runner {
	if r.Inner == nil {
		return ExecRunner{}
	}
	return r.Inner
}

// Has implements Runner.
func (r NetNSRunner) Has(name string) bool { return r.inner().Has(name) }

// Run implements Runner.
func (r NetNSRunner) Run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	var out []byte
	err := netns.Do(r.Path, func() error {
		var err error
		out, err = r.inner().Run(ctx, stdin, name, args...)
		return err
	})
	return out, err
}
