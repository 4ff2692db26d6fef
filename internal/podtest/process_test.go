package podtest

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/nsproc"
)

func TestProcessCleanupKillsStubborn(t *testing.T) {
	p, err := nsproc.Start(context.Background(), nsproc.Config{Path: "sh", Args: []string{"-c", `trap '' TERM; echo ready; while :; do sleep 1; done`}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.WaitLog(10*time.Second, "ready"); err != nil {
		t.Fatal(err)
	}
	cleanup(t, p)
	if !p.Exited() {
		t.Fatal("cleanup left the process running")
	}
	st, _ := p.Wait(time.Second)
	if st.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("exit state %v, want SIGKILL after the grace", st)
	}
}
