package contender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/meshdns/meshdns/internal/netns"
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

// Proc is a started process.
type Proc struct {
	spec ProcSpec
	cmd  *exec.Cmd
	log  *os.File

	readyOnce sync.Once
	ready     chan struct{}
	done      chan struct{}
	waitErr   error

	mu   sync.Mutex
	tail []byte // the last 8 KiB of output
}

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
	cmd := netns.Command(ctx, spec.NS, path, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 3 * time.Second
	p := &Proc{spec: spec, cmd: cmd, log: f, ready: make(chan struct{}), done: make(chan struct{})}
	w := io.MultiWriter(f, (*procWriter)(p))
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	fmt.Fprintf(f, "# %s: %s %q\n", time.Now().Format(time.RFC3339Nano), path, args)
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", spec.Name, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// procWriter scans output for the ready line and keeps the tail.
type procWriter Proc

func (w *procWriter) Write(b []byte) (int, error) {
	p := (*Proc)(w)
	p.mu.Lock()
	p.tail = append(p.tail, b...)
	if p.spec.Ready != "" && bytes.Contains(p.tail, []byte(p.spec.Ready)) {
		p.readyOnce.Do(func() { close(p.ready) })
	}
	if len(p.tail) > 8192 {
		p.tail = append(p.tail[:0], p.tail[len(p.tail)-4096:]...)
	}
	p.mu.Unlock()
	return len(b), nil
}

// Pid is the program's process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Name is the spec's name.
func (p *Proc) Name() string { return p.spec.Name }

// Tail returns the last lines of output, for error messages.
func (p *Proc) Tail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.tail
	if len(t) > 1500 {
		t = t[len(t)-1500:]
	}
	return string(bytes.TrimSpace(t))
}

// WaitReady waits until the Ready line appears, the process exits, or
// timeout passes.
func (p *Proc) WaitReady(ctx context.Context, timeout time.Duration) error {
	if p.spec.Ready == "" {
		return nil
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.ready:
		return nil
	case <-p.done:
		return fmt.Errorf("%s exited before it was ready (%v): %s", p.spec.Name, p.waitErr, p.Tail())
	case <-t.C:
		return fmt.Errorf("%s not ready after %v (no %q in its output): %s", p.spec.Name, timeout, p.spec.Ready, p.Tail())
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Exited reports whether the process has ended, and how.
func (p *Proc) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// Stop sends SIGTERM, waits up to 5 s, then SIGKILLs. A process that exits
// on SIGTERM is not an error.
func (p *Proc) Stop() error {
	select {
	case <-p.done:
		return p.exitErr()
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.exitErr()
	case <-time.After(5 * time.Second):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("%s: killed after SIGTERM was ignored for 5 s", p.spec.Name)
}

func (p *Proc) exitErr() error {
	var ee *exec.ExitError
	if errors.As(p.waitErr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && (ws.Signal() == syscall.SIGTERM || ws.Signal() == syscall.SIGINT) {
			return nil
		}
	}
	return p.waitErr
}
