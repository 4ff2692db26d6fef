package nfq

import (
	"context"
	"fmt"

	"github.com/meshdns/meshdns/internal/netns"
	"golang.org/x/sys/unix"
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

// netlinkSocket opens the queue's netfilter netlink socket, inside the
// network namespace of file descriptor nsfd when it is not 0. A socket
// belongs to the namespace it was created in for its whole life, so the
// queue it binds is that namespace's (queue numbers are per namespace).
func netlinkSocket(nsfd int) (int, error) {
	open := func() (int, error) {
		return unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	}
	if nsfd == 0 {
		return open()
	}
	fd := -1
	err := netns.Do(fmt.Sprintf("/proc/self/fd/%d", nsfd), func() error {
		var err error
		fd, err = open()
		return err
	})
	return fd, err
}
