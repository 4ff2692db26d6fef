package contender

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/meshdns/meshdns/internal/nsproc"
)

// ProcSpec describes a long-running process in a namespace.
type ProcSpec struct {
	// Name labels the process in logs and errors.
	Name string
	// NS is the network namespace (`ip netns exec`, so the pod's
	// resolv.conf is the program's /etc/resolv.conf).
	NS string
	// UID, when > 0, runs the program as that uid and gid through the
	// harness's runas subcommand (Self), which keeps the pid.
	UID  int
	Self string
	// Path and Args are the program.
	Path string
	Args []string
	// LogPath receives stdout and stderr.
	LogPath string
	// Ready, when not empty, is a substring of an output line that
	// announces the program is serving (see Proc.WaitReady).
	Ready string
}

// Proc is a started process: an nsproc.Process with the bench's log file,
// uid switch and exit reading.
type Proc struct {
	spec ProcSpec
	p    *nsproc.Process
}

// keepLog is how much of a process's output is kept for error messages.
const keepLog = 4096

// StartProc starts spec. The process runs until Stop, until it exits, or
// until ctx is cancelled (SIGTERM, then SIGKILL 3 s later).
func StartProc(ctx context.Context, spec ProcSpec) (*Proc, error) {
	path, args := spec.Path, spec.Args
	if spec.UID > 0 {
		if spec.Self == "" {
			return nil, fmt.Errorf("%s: running as uid %d needs the harness binary", spec.Name, spec.UID)
		}
		u := strconv.Itoa(spec.UID)
		args = append([]string{"runas", u, u, "--", path}, args...)
		path = spec.Self
	}
	f, err := os.OpenFile(spec.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(f, "# %s: %s %q\n", time.Now().Format(time.RFC3339Nano), path, args)
	cfg := nsproc.Config{Name: spec.Name, NS: spec.NS, Path: path, Args: args, Output: f, KeepLog: keepLog}
	if spec.Ready != "" {
		cfg.Ready = []string{spec.Ready}
	}
	p, err := nsproc.Start(ctx, cfg)
	if err != nil {
		f.Close()
		return nil, err
	}
	go func() {
		<-p.Done()
		f.Close()
	}()
	return &Proc{spec: spec, p: p}, nil
}

// Pid is the program's process id.
func (p *Proc) Pid() int { return p.p.Pid() }

// Name is the spec's name.
func (p *Proc) Name() string { return p.spec.Name }

// Tail returns the last lines of output, for error messages.
func (p *Proc) Tail() string {
	t := p.p.Logs()
	if len(t) > 1500 {
		t = t[len(t)-1500:]
	}
	return strings.TrimSpace(t)
}

// WaitReady waits until the Ready line appears, the process exits, or
// timeout passes.
func (p *Proc) WaitReady(ctx context.Context, timeout time.Duration) error {
	if p.spec.Ready == "" {
		return nil
	}
	return p.p.WaitReady(ctx, timeout)
}

// Exited reports whether the process has ended, and how.
func (p *Proc) Exited() (bool, error) {
	if !p.p.Exited() {
		return false, nil
	}
	return true, p.p.Err()
}

// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
const stopGrace = 5 * time.Second

// Stop sends SIGTERM, waits up to 5 s, then SIGKILLs. A process that exits
// on SIGTERM is not an error.
func (p *Proc) Stop() error {
	killed, err := p.p.Terminate(stopGrace)
	if killed {
		return fmt.Errorf("%s: killed after SIGTERM was ignored for 5 s", p.spec.Name)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && (ws.Signal() == syscall.SIGTERM || ws.Signal() == syscall.SIGINT) {
			return nil
		}
	}
	return err
}
