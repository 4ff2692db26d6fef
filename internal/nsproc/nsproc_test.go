package nsproc

import (
	"bytes"
	"context"
	"strings"
	"syscall"
	"testing"
	"time"
)

func startSh(t *testing.T, script string) *Process {
	t.Helper()
	return startConfig(t, Config{Path: "sh", Args: []string{"-c", script}})
}

func startConfig(t *testing.T, cfg Config) *Process {
	t.Helper()
	p, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := p.Terminate(time.Second); err != nil && !p.Exited() {
			t.Error(err)
		}
	})
	return p
}

func TestProcessServing(t *testing.T) {
	for name, script := range map[string]string{
		"text": `echo 'time=x level=INFO msg="rules installed"' >&2; echo 'time=x level=INFO msg=serving namespace=default' >&2; exec sleep 30`,
		"json": `echo '{"time":"x","level":"INFO","msg":"serving"}' >&2; exec sleep 30`,
	} {
		t.Run(name, func(t *testing.T) {
			p := startSh(t, script)
			if err := p.WaitReady(context.Background(), 10*time.Second); err != nil {
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
	err := p.WaitReady(context.Background(), 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), "document 3: bad") {
		t.Errorf("WaitReady: %v, want an exit error holding the log", err)
	}
}

func TestProcessNotServingInTime(t *testing.T) {
	p := startSh(t, `echo starting >&2; exec sleep 30`)
	err := p.WaitReady(context.Background(), 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "not serving") || !strings.Contains(err.Error(), "starting") {
		t.Errorf("WaitReady: %v, want a timeout error holding the log", err)
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

func TestProcessTerminateKillsStubborn(t *testing.T) {
	p := startSh(t, `trap '' TERM; echo ready; while :; do sleep 1; done`)
	if _, err := p.WaitLog(10*time.Second, "ready"); err != nil {
		t.Fatal(err)
	}
	killed, _ := p.Terminate(200 * time.Millisecond)
	if !killed || !p.Exited() {
		t.Fatalf("Terminate: killed %v, exited %v, want killed after the grace", killed, p.Exited())
	}
	st, _ := p.Wait(time.Second)
	if st.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("exit state %v, want SIGKILL after the grace", st)
	}
	if killed, err := p.Terminate(time.Second); killed || err == nil {
		t.Errorf("Terminate again: %v %v, want the first exit error and no kill", killed, err)
	}
}

func TestProcessTerminateGraceful(t *testing.T) {
	p := startSh(t, `echo ready; exec sleep 30`)
	if _, err := p.WaitLog(10*time.Second, "ready"); err != nil {
		t.Fatal(err)
	}
	if killed, err := p.Terminate(5 * time.Second); killed || err == nil {
		t.Errorf("Terminate: killed %v err %v, want death by SIGTERM without a kill", killed, err)
	}
}

func TestProcessOutput(t *testing.T) {
	var copied bytes.Buffer
	var lines []string
	p := startConfig(t, Config{
		Name: "printer", Path: "sh", Args: []string{"-c", `echo one; printf 'two\nthr'; sleep 0.1; printf 'ee\nREADY-no-newline'`},
		Output: &copied,
		Line:   func(l string) { lines = append(lines, l) },
		Ready:  []string{"READY"},
	})
	if err := p.WaitReady(context.Background(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	want := "one\ntwo\nthree\nREADY-no-newline"
	if p.Logs() != want || copied.String() != want {
		t.Errorf("Logs %q, Output %q, want %q", p.Logs(), copied.String(), want)
	}
	if got := strings.Join(lines, "|"); got != "one|two|three|READY-no-newline" {
		t.Errorf("lines %q", got)
	}
}

func TestProcessKeepLog(t *testing.T) {
	p := startConfig(t, Config{Path: "sh", Args: []string{"-c", `i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done; echo msg=serving`}, KeepLog: 100})
	if err := p.WaitReady(context.Background(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	p.Wait(10 * time.Second)
	if l := p.Logs(); len(l) > 200 || !strings.HasSuffix(l, "line-199\nmsg=serving\n") {
		t.Errorf("kept %d bytes: %q", len(l), l)
	}
}

func TestProcessContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p, err := Start(ctx, Config{Path: "sh", Args: []string{"-c", `echo msg=serving; exec sleep 30`}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitReady(ctx, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	cancel()
	st, _ := p.Wait(10 * time.Second)
	if st == nil || st.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		t.Errorf("exit state %v, want death by SIGTERM on cancel", st)
	}
}
