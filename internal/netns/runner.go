package netns

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
)

// Runner runs one external command and returns its combined output. It is
// the boundary between this package and ip(8); FakeRunner stands in for it
// in tests that only check which commands would run.
type Runner interface {
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

// ExecRunner runs commands with os/exec.
type ExecRunner struct{}

// Run runs name with args and returns its combined output. A failure's error
// includes the command line and its output.
func (ExecRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out.Bytes()))
	}
	return out.Bytes(), nil
}

// FakeRunner records the commands it is asked to run and runs none of them.
type FakeRunner struct {
	// Fail, when set, is consulted for each command; a non-nil error is
	// returned as that command's failure.
	Fail func(cmdline []string) error
	// Output, when set, gives each command's output. Without it, the
	// address listings New waits on report ready addresses.
	Output func(cmdline []string) []byte

	mu    sync.Mutex
	calls [][]string
}

// Run records the command line and returns Fail's verdict.
func (f *FakeRunner) Run(_ context.Context, name string, args ...string) ([]byte, error) {
	line := append([]string{name}, args...)
	f.mu.Lock()
	f.calls = append(f.calls, line)
	f.mu.Unlock()
	if f.Fail != nil {
		if err := f.Fail(line); err != nil {
			return nil, err
		}
	}
	if f.Output != nil {
		return f.Output(line), nil
	}
	if slices.Contains(line, "addr") && slices.Contains(line, "show") {
		return []byte("2: eth0    inet6 fe80::1/64 scope link \\       valid_lft forever preferred_lft forever\n"), nil
	}
	return nil, nil
}

// Calls returns the command lines run so far, each joined with spaces.
func (f *FakeRunner) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.calls))
	for i, c := range f.calls {
		out[i] = strings.Join(c, " ")
	}
	return out
}
