package podtest

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func startSh(t *testing.T, script string) *Process {
	t.Helper()
	p, err := startCmd(exec.Command("sh", "-c", script), []string{"sh", "-c", script})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cleanup(t) })
	return p
}

func TestProcessServing(t *testing.T) {
	for name, script := range map[string]string{
		"text": `echo 'time=x level=INFO msg="rules installed"' >&2; echo 'time=x level=INFO msg=serving namespace=default' >&2; exec sleep 30`,
		"json": `echo '{"time":"x","level":"INFO","msg":"serving"}' >&2; exec sleep 30`,
	} {
		t.Run(name, func(t *testing.T) {
			p := startSh(t, script)
			if err := p.WaitServing(10 * time.Second); err != nil {
				t.Fatal(err)
			}
			if p.Exited() {
				t.Error("exited")
			}
			st, err := p.Stop(5 * time.Second)
			if err == nil || st == nil || st.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
				t.Errorf("Stop: %v %v, want death by SIGTERM", st, err)
			}
		})
	}
}

func TestProcessExitsBeforeServing(t *testing.T) {
	p := startSh(t, `echo 'meshdns run: objects.yaml: document 3: bad' >&2; exit 1`)
	err := p.WaitServing(10 * time.Second)
	if err == nil || !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), "document 3: bad") {
		t.Errorf("WaitServing: %v, want an exit error holding the log", err)
	}
}

func TestProcessNotServingInTime(t *testing.T) {
	p := startSh(t, `echo starting >&2; exec sleep 30`)
	err := p.WaitServing(200 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "not serving") || !strings.Contains(err.Error(), "starting") {
		t.Errorf("WaitServing: %v, want a timeout error holding the log", err)
	}
	if err := p.Kill(); err != nil {
		t.Error(err)
	}
	if !p.Exited() {
		t.Error("still running after Kill")
	}
}

func TestProcessWaitLog(t *testing.T) {
	p := startSh(t, `echo 'a=1'; sleep 0.1; echo 'msg="rules removed" b=2'; exec sleep 30`)
	line, err := p.WaitLog(10*time.Second, "rules removed", "b=2")
	if err != nil || line != `msg="rules removed" b=2` {
		t.Errorf("WaitLog = %q, %v", line, err)
	}
	if _, err := p.WaitLog(100*time.Millisecond, "never"); err == nil {
		t.Error("WaitLog for a missing line: no error")
	}
}

func TestProcessCleanupKillsStubborn(t *testing.T) {
	p, err := startCmd(exec.Command("sh", "-c", `trap '' TERM; echo ready; while :; do sleep 1; done`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.WaitLog(10*time.Second, "ready"); err != nil {
		t.Fatal(err)
	}
	p.cleanup(t)
	if !p.Exited() {
		t.Fatal("cleanup left the process running")
	}
	st, _ := p.Wait(time.Second)
	if st.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("exit state %v, want SIGKILL after the grace", st)
	}
}
