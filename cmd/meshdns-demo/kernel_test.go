package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/netns/netnstest"
)

func writeScript(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fake")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKernelMeshdnsProcess(t *testing.T) {
	topo := netnstest.ForTest(t, netns.Config{})
	ctx := context.Background()
	fake, _ := filepath.Abs("testdata/fake-meshdns.sh")

	t.Run("serves and stops on SIGTERM", func(t *testing.T) {
		p, err := startMeshdns(topo.Pod, fake, []string{"run", "--objects", "x"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.WaitReady(ctx, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		killed, exitErr := p.Terminate(30 * time.Second)
		if exitErr != nil || killed {
			t.Errorf("stop: %v killed=%v", exitErr, killed)
		}
		logs := logText(p)
		if !strings.Contains(logs, `args="run --objects x"`) || !strings.Contains(logs, "msg=stopped") {
			t.Errorf("log:\n%s", logs)
		}
		if killed, again := p.Terminate(time.Second); again != nil || killed {
			t.Error("second stop differs")
		}
	})
	t.Run("exits before serving", func(t *testing.T) {
		p, err := startMeshdns(topo.Pod, writeScript(t, "echo 'level=ERROR msg=\"bad objects\"'; exit 3\n"), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = p.WaitReady(ctx, 30*time.Second)
		if err == nil || !strings.Contains(err.Error(), "exited before serving") || !strings.Contains(err.Error(), "bad objects") {
			t.Errorf("waitServing: %v", err)
		}
	})
	t.Run("ignores SIGTERM", func(t *testing.T) {
		p, err := startMeshdns(topo.Pod, writeScript(t, "trap '' TERM\necho msg=serving\nwhile :; do sleep 0.05; done\n"), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.WaitReady(ctx, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		if killed, _ := p.Terminate(200 * time.Millisecond); !killed {
			t.Error("a process ignoring SIGTERM was not killed")
		}
	})
	t.Run("runs in the pod namespace", func(t *testing.T) {
		p, err := startMeshdns(topo.Pod, writeScript(t, "ip -o addr show dev eth0\necho msg=serving\nexec sleep 30\n"), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.WaitReady(ctx, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		p.Terminate(30 * time.Second)
		if logs := logText(p); !strings.Contains(logs, "198.18.0.2/24") {
			t.Errorf("not in the pod namespace:\n%s", logs)
		}
	})
}

func TestKernelQueueRules(t *testing.T) {
	topo := netnstest.ForTest(t, netns.Config{})
	ctx := context.Background()
	rules, err := queueRules(ctx, topo.Pod)
	if err != nil || len(rules) != 0 {
		t.Fatalf("fresh namespace: %q %v", rules, err)
	}
	out, err := netns.Command(ctx, topo.Pod, "iptables", "-t", "mangle", "-A", "OUTPUT", "-p", "udp", "--dport", "53",
		"-j", "NFQUEUE", "--queue-num", "7", "--queue-bypass").CombinedOutput()
	if err != nil {
		t.Fatalf("iptables: %v %s", err, out)
	}
	rules, err = queueRules(ctx, topo.Pod)
	if err != nil || len(rules) == 0 {
		t.Fatalf("after adding a rule: %q %v", rules, err)
	}
	found := false
	for _, r := range rules {
		found = found || strings.HasPrefix(r, "iptables-save: ") && strings.Contains(r, "--queue-num 7")
	}
	if !found {
		t.Errorf("rule not listed by iptables-save: %q", rules)
	}
}

// TestKernelDemoWithoutMeshdns runs the whole demo, step 1 only.
func TestKernelDemoWithoutMeshdns(t *testing.T) {
	netnstest.RequireRoot(t)
	prefix, _ := netns.RandomPrefix()
	var out, errb strings.Builder
	code := run([]string{"--no-meshdns", "--prefix", prefix}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	for _, w := range []string{"198.19.1.1 (ttl 7)", "198.19.0.10 (ttl 7)", "OK: all 16 expectations met"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
	if netns.Exists("mdt-"+prefix+"-pod") || netns.Exists("mdt-"+prefix+"-up") {
		t.Error("namespaces left behind")
	}
}

// TestKernelDemoCatchesAFakeMeshdns runs the demo with a stand-in that
// answers nothing: the demo must notice and fail.
func TestKernelDemoCatchesAFakeMeshdns(t *testing.T) {
	netnstest.RequireRoot(t)
	prefix, _ := netns.RandomPrefix()
	objects := filepath.Join(t.TempDir(), "objects.yaml")
	os.WriteFile(objects, []byte("kind: List\nitems: []\n"), 0o644)
	var out, errb strings.Builder
	code := run([]string{"--meshdns", "testdata/fake-meshdns.sh", "--objects", objects, "--prefix", prefix}, &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	for _, w := range []string{
		"no queue rule",
		"web (getent): answered by upstream, want meshdns",
		"meshdns exited: status 0",
	} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
	if strings.Contains(out.String(), "www.example.org A (dig): answered") {
		t.Errorf("external name misjudged:\n%s", out.String())
	}
	if netns.Exists("mdt-" + prefix + "-pod") {
		t.Error("namespaces left behind")
	}
}
