package rules

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// FakeRunner is a Runner for tests: it records every call and answers from
// canned outputs instead of running anything.
//
// Outputs and Errors are keyed by the command line ("iptables-nft-save", or
// "iptables-nft-restore --noflush -w"); a key of the command name alone
// matches any arguments. A command listed in Missing does not exist: Has
// reports false and Run fails as a missing binary would. Anything else
// succeeds with empty output. Set the fields before use.
type FakeRunner struct {
	Outputs map[string]string
	Errors  map[string]error
	Missing map[string]bool

	mu    sync.Mutex
	calls []FakeCall
}

// FakeCall is one recorded Run.
type FakeCall struct {
	Name  string
	Args  []string
	Stdin string
}

// String is the command line, e.g. "iptables-nft-restore --noflush -w".
func (c FakeCall) String() string {
	return strings.TrimSpace(c.Name + " " + strings.Join(c.Args, " "))
}

// ErrFakeMissing is the cause FakeRunner gives for a command in Missing.
var ErrFakeMissing = errors.New("executable file not found in $PATH")

// Has implements Runner.
func (f *FakeRunner) Has(name string) bool { return !f.Missing[name] }

// Run implements Runner.
func (f *FakeRunner) Run(_ context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	c := FakeCall{Name: name, Args: append([]string(nil), args...), Stdin: string(stdin)}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	if f.Missing[name] {
		return nil, fmt.Errorf("%s: %w", c, ErrFakeMissing)
	}
	line := c.String()
	for _, k := range []string{line, name} {
		if err, ok := f.Errors[k]; ok {
			return nil, err
		}
	}
	for _, k := range []string{line, name} {
		if out, ok := f.Outputs[k]; ok {
			return []byte(out), nil
		}
	}
	return nil, nil
}

// Calls returns the calls made so far, in order.
func (f *FakeRunner) Calls() []FakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FakeCall(nil), f.calls...)
}
