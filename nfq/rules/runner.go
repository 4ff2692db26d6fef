package rules

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Runner runs the iptables tools. ExecRunner runs them for real; FakeRunner
// records what would have run.
type Runner interface {
	// Run runs the command name with args, feeding it stdin when stdin is
	// not nil, and returns its standard output. An error names the command
	// and quotes its standard error.
	Run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error)
	// Has reports whether the command name exists (in $PATH).
	Has(name string) bool
}

// ExecRunner runs commands with os/exec in the caller's network namespace.
type ExecRunner struct{}

// Has implements Runner.
func (ExecRunner) Has(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// Run implements Runner.
func (ExecRunner) Run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), commandError(name, args, err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// commandError builds the error for a failed command: the command line, the
// cause, its standard error, and a hint when the cause is a missing binary
// or a missing capability.
func commandError(name string, args []string, err error, stderr string) error {
	line := strings.TrimSpace(name + " " + strings.Join(args, " "))
	if errors.Is(err, exec.ErrNotFound) {
		return fmt.Errorf("%s: %w (is the iptables package installed in the image?)", line, err)
	}
	msg := strings.TrimSpace(stderr)
	hint := ""
	switch l := strings.ToLower(msg); {
	case strings.Contains(l, "permission denied") || strings.Contains(l, "not permitted"):
		hint = " (meshdns needs CAP_NET_ADMIN in the pod's network namespace)"
	case strings.Contains(l, "initialize table"):
		hint = " (CAP_NET_ADMIN missing, or the kernel lacks this table)"
	}
	if msg == "" {
		return fmt.Errorf("%s: %w%s", line, err, hint)
	}
	return fmt.Errorf("%s: %w: %s%s", line, err, msg, hint)
}
