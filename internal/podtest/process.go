package podtest

import (
	"context"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/nsproc"
)

// DefaultReadyTimeout bounds the wait for meshdns's `msg=serving` line.
const DefaultReadyTimeout = 30 * time.Second

// stopGrace is how long cleanup waits after SIGTERM before SIGKILL.
const stopGrace = 3 * time.Second

// Process is a program running inside a namespace (started by `ip netns
// exec`, which execs it in place: Pid is the program's), meshdns or a tool.
type Process = nsproc.Process

// startIn starts bin with args inside ns and returns at once; t's cleanup
// stops it (SIGTERM, SIGKILL after stopGrace) and logs its output if t
// failed.
func startIn(t testing.TB, ns, bin string, args []string) *Process {
	t.Helper()
	proc, err := nsproc.Start(context.Background(), nsproc.Config{NS: ns, Path: bin, Args: args})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanup(t, proc) })
	return proc
}

// cleanup stops p if it still runs: SIGTERM, then SIGKILL after
// stopGrace. It logs p's output when the test failed.
func cleanup(t testing.TB, p *Process) {
	if _, err := p.Terminate(stopGrace); err != nil && !p.Exited() {
		t.Errorf("podtest: %v", err)
	}
	if t.Failed() {
		t.Logf("%s log:\n%s", p.Name(), p.Logs())
	}
}
