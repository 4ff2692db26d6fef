package nsproc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/meshdns/meshdns/internal/netns"
)

// How `meshdns run` says it serves, in text and JSON log formats: the
// default Config.Ready.
const (
	ServingText = "msg=serving"
	ServingJSON = `"msg":"serving"`
)

// cancelDelay is how long a cancelled Start context waits after SIGTERM
// before SIGKILL.
const cancelDelay = 3 * time.Second

// killWait bounds the wait for the exit after SIGKILL.
const killWait = 10 * time.Second

// Config describes a program to run.
type Config struct {
	// Name labels the program in errors; empty means the base name of Path
	// followed by Args.
	Name string
	// NS is the network namespace the program runs in; empty runs it in
	// the caller's.
	NS string
	// Path and Args are the program and its arguments.
	Path string
	Args []string
	// Output, when not nil, receives a copy of everything the program
	// writes to stdout and stderr.
	Output io.Writer
	// Line, when not nil, is called with each line of output (without its
	// newline; a last line without one when the program exits).
	Line func(line string)
	// Ready holds the substrings of which one, in an output line, says the
	// program is ready (WaitReady). Nil means ServingText and ServingJSON.
	Ready []string
	// KeepLog, when > 0, bounds the output kept in memory (Logs, WaitLog,
	// error messages) to about its last KeepLog bytes; 0 keeps it all.
	KeepLog int
	// Pdeathsig is the signal the program gets when the thread that
	// started it dies; 0 means SIGKILL.
	Pdeathsig syscall.Signal
	// Setpgid puts the program in a process group of its own, so that a
	// terminal's Ctrl-C does not reach it before the caller stops it.
	Setpgid bool
	// Logger, when not nil, gets a debug line when the program starts and
	// when it exits.
	Logger *slog.Logger
}

// Process is a started program.
type Process struct {
	name   string
	args   []string
	ready  []string
	cmd    *exec.Cmd
	out    *output
	logger *slog.Logger

	readyOnce sync.Once
	readyCh   chan struct{} // closed at the first ready line
	done      chan struct{} // closed when the program has exited
	mu        sync.Mutex
	err       error // Wait's result, set before done is closed
}

// Start starts the program and returns at once.
func Start(ctx context.Context, cfg Config) (*Process, error) {
	p := &Process{
		name:    cfg.Name,
		args:    cfg.Args,
		ready:   cfg.Ready,
		logger:  cfg.Logger,
		readyCh: make(chan struct{}),
		done:    make(chan struct{}),
	}
	if p.name == "" {
		p.name = strings.Join(append([]string{filepath.Base(cfg.Path)}, cfg.Args...), " ")
	}
	if p.ready == nil {
		p.ready = []string{ServingText, ServingJSON}
	}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.NS != "" {
		p.cmd = netns.Command(ctx, cfg.NS, cfg.Path, cfg.Args...)
	} else {
		p.cmd = exec.CommandContext(ctx, cfg.Path, cfg.Args...)
	}
	cmd := p.cmd
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = cancelDelay
	sig := cfg.Pdeathsig
	if sig == 0 {
		sig = syscall.SIGKILL
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: sig, Setpgid: cfg.Setpgid}
	p.out = &output{keep: cfg.KeepLog, copy: cfg.Output, line: cfg.Line, check: p.checkReady, changed: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", p.name, err)
	}
	p.logger.Debug("started", "program", p.name, "pid", cmd.Process.Pid, "netns", cfg.NS)
	go func() {
		err := cmd.Wait()
		p.out.flush()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		p.logger.Debug("exited", "program", p.name, "pid", cmd.Process.Pid, "err", err)
		close(p.done)
	}()
	return p, nil
}

func (p *Process) checkReady(line string) {
	for _, m := range p.ready {
		if strings.Contains(line, m) {
			p.readyOnce.Do(func() { close(p.readyCh) })
			return
		}
	}
}

// Name is the label of the program in errors.
func (p *Process) Name() string { return p.name }

// Args are the arguments the program was started with (after its path).
func (p *Process) Args() []string { return p.args }

// Pid is the program's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the program.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Logs returns what the program wrote to stdout and stderr so far (its end,
// with Config.KeepLog).
func (p *Process) Logs() string { return p.out.String() }

// Done is closed when the program has exited and its output is all in.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the program has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is the exit error once the program has exited (nil for status 0, an
// *exec.ExitError otherwise), and nil while it runs.
func (p *Process) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Wait waits up to timeout for the program to exit and returns its exit
// state: nil for status 0, an *exec.ExitError otherwise (ExitStatus and
// Signaled tell them apart). It returns an error saying so when the time
// runs out.
func (p *Process) Wait(timeout time.Duration) (*os.ProcessState, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return p.cmd.ProcessState, p.Err()
	case <-t.C:
		return nil, fmt.Errorf("%s (pid %d) still running after %v", p.name, p.Pid(), timeout)
	}
}

// Stop sends SIGTERM and waits up to timeout for the program to exit; it
// returns the exit state as Wait does.
func (p *Process) Stop(timeout time.Duration) (*os.ProcessState, error) {
	if err := p.Signal(syscall.SIGTERM); err != nil && !p.Exited() {
		return nil, err
	}
	return p.Wait(timeout)
}

// Kill sends SIGKILL and waits for the program to go.
func (p *Process) Kill() error {
	if err := p.Signal(syscall.SIGKILL); err != nil && !p.Exited() {
		return err
	}
	_, err := p.Wait(killWait)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return nil
	}
	return err
}

// Terminate ends the program if it still runs: SIGTERM, then SIGKILL when
// it outlives grace. It returns whether SIGKILL was needed and the exit
// error (as Err), or an error when the program survived SIGKILL too.
func (p *Process) Terminate(grace time.Duration) (killed bool, err error) {
	if p.Exited() {
		return false, p.Err()
	}
	p.Signal(syscall.SIGTERM)
	if _, err := p.Wait(grace); err == nil || p.Exited() {
		return false, p.Err()
	}
	p.Signal(syscall.SIGKILL)
	if _, err := p.Wait(killWait); err != nil && !p.Exited() {
		return true, fmt.Errorf("%s (pid %d) survived SIGKILL", p.name, p.Pid())
	}
	return true, p.Err()
}

// WaitReady waits until an output line holds one of Config.Ready, and fails
// when the program exits first, when timeout passes or when ctx ends. Its
// errors hold the program's output.
func (p *Process) WaitReady(ctx context.Context, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.readyCh:
		return nil
	case <-p.done:
		select {
		case <-p.readyCh:
			return nil
		default:
		}
		return fmt.Errorf("%s exited before serving (%v); its log:\n%s", p.name, p.Err(), p.Logs())
	case <-t.C:
		return fmt.Errorf("%s not serving after %v (no line with %q); its log:\n%s", p.name, timeout, p.ready, p.Logs())
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WaitLog waits up to timeout for an output line holding every one of
// substrs, and returns that line. It fails early if the program exits.
func (p *Process) WaitLog(timeout time.Duration, substrs ...string) (string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		text, changed := p.out.snapshot()
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
			return "", fmt.Errorf("%s exited (%v) before logging %q; its log:\n%s", p.name, p.Err(), substrs, text)
		case <-deadline.C:
			return "", fmt.Errorf("no log line with %q from %s within %v; its log:\n%s", substrs, p.name, timeout, p.Logs())
		}
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
