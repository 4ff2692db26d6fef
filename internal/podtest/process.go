package podtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/netns"
)

// DefaultReadyTimeout bounds the wait for meshdns's `msg=serving` line.
const DefaultReadyTimeout = 30 * time.Second

// stopGrace is how long Cleanup waits after SIGTERM before SIGKILL.
const stopGrace = 3 * time.Second

// Process is a meshdns process running inside a pod namespace (started by
// `ip netns exec`, which execs meshdns in place: Pid is meshdns's).
type Process struct {
	// Args are the arguments meshdns was started with (after the binary).
	Args []string

	cmd  *exec.Cmd
	log  *logBuffer
	done chan struct{} // closed when the process has exited
	mu   sync.Mutex
	err  error // Wait's result, set before done is closed
}

// startProcess starts bin with args inside ns and returns at once.
func startProcess(ns, bin string, args []string) (*Process, error) {
	cmd := netns.Command(context.Background(), ns, bin, args...)
	// If the test binary dies without its cleanups (a -timeout panic, a
	// kill), meshdns dies with it. ip(8) execs meshdns in place, and the
	// parent-death signal survives that exec.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return startCmd(cmd, args)
}

// startCmd starts cmd, collecting its output, and returns at once.
func startCmd(cmd *exec.Cmd, args []string) (*Process, error) {
	p := &Process{Args: args, cmd: cmd, log: newLogBuffer(), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("podtest: start meshdns: %w", err)
	}
	go func() {
		err := p.cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// Pid is meshdns's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to meshdns.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Logs returns everything meshdns wrote to stdout and stderr so far.
func (p *Process) Logs() string { return p.log.String() }

// Exited reports whether meshdns has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits up to timeout for meshdns to exit and returns its exit state:
// nil for status 0, an *exec.ExitError otherwise (ExitStatus and Signaled
// tell them apart). It returns an error saying so when the time runs out.
func (p *Process) Wait(timeout time.Duration) (*os.ProcessState, error) {
	select {
	case <-p.done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.cmd.ProcessState, p.err
	case <-time.After(timeout):
		return nil, fmt.Errorf("podtest: meshdns (pid %d) still running after %v", p.Pid(), timeout)
	}
}

// Stop sends SIGTERM and waits up to timeout for meshdns to exit; it
// returns the exit state as Wait does.
func (p *Process) Stop(timeout time.Duration) (*os.ProcessState, error) {
	if err := p.Signal(syscall.SIGTERM); err != nil && !p.Exited() {
		return nil, err
	}
	return p.Wait(timeout)
}

// Kill sends SIGKILL and waits for meshdns to go.
func (p *Process) Kill() error {
	if err := p.Signal(syscall.SIGKILL); err != nil && !p.Exited() {
		return err
	}
	_, err := p.Wait(10 * time.Second)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return nil
	}
	return err
}

// WaitLog waits up to timeout for a log line containing every one of the
// substrings, and returns that line. It fails early if meshdns exits.
func (p *Process) WaitLog(timeout time.Duration, substrs ...string) (string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		text, changed := p.log.snapshot()
		if line, ok := findLine(text, substrs); ok {
			return line, nil
		}
		select {
		case <-changed:
		case <-p.done:
			text := p.Logs()
			if line, ok := findLine(text, substrs); ok {
				return line, nil
			}
			p.mu.Lock()
			err := p.err
			p.mu.Unlock()
			return "", fmt.Errorf("podtest: meshdns exited (%v) before logging %q; its log:\n%s", err, substrs, text)
		case <-deadline.C:
			return "", fmt.Errorf("podtest: no log line with %q from meshdns within %v; its log:\n%s", substrs, timeout, p.Logs())
		}
	}
}

// WaitServing waits for meshdns's "serving" line (text or JSON log format).
func (p *Process) WaitServing(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		text, changed := p.log.snapshot()
		if strings.Contains(text, "msg=serving") || strings.Contains(text, `"msg":"serving"`) {
			return nil
		}
		select {
		case <-changed:
		case <-p.done:
			if t := p.Logs(); strings.Contains(t, "msg=serving") || strings.Contains(t, `"msg":"serving"`) {
				return nil
			}
			p.mu.Lock()
			err := p.err
			p.mu.Unlock()
			return fmt.Errorf("podtest: meshdns %s exited (%v) before serving; its log:\n%s", strings.Join(p.Args, " "), err, p.Logs())
		case <-time.After(time.Until(deadline)):
			return fmt.Errorf("podtest: meshdns %s not serving after %v; its log:\n%s", strings.Join(p.Args, " "), timeout, p.Logs())
		}
	}
}

// cleanup stops meshdns if it still runs: SIGTERM, then SIGKILL after
// stopGrace. It logs meshdns's output when the test failed.
func (p *Process) cleanup(t testing.TB) {
	if !p.Exited() {
		p.Signal(syscall.SIGTERM)
		if _, err := p.Wait(stopGrace); err != nil && !p.Exited() {
			p.Signal(syscall.SIGKILL)
			if _, err := p.Wait(10 * time.Second); err != nil && !p.Exited() {
				t.Errorf("podtest: meshdns pid %d survived SIGKILL", p.Pid())
			}
		}
	}
	if t.Failed() {
		t.Logf("meshdns %s log:\n%s", strings.Join(p.Args, " "), p.Logs())
	}
}

func findLine(text string, substrs []string) (string, bool) {
	for _, line := range strings.Split(text, "\n") {
		ok := true
		for _, s := range substrs {
			if !strings.Contains(line, s) {
				ok = false
				break
			}
		}
		if ok && line != "" {
			return line, true
		}
	}
	return "", false
}
