package podtest

import (
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/meshdns/meshdns/internal/lookupout"
	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/netns/netnstest"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { Main(m) }

// TestKernelPod checks the harness itself: the upstream answers and counts
// in the upstream namespace, the query helpers run in the pod namespace
// with its resolv.conf, meshdns runs there and answers, and everything is
// gone when the test ends.
func TestKernelPod(t *testing.T) {
	var pod, up string
	var pid int
	t.Run("pod", func(t *testing.T) {
		p := Start(t, Config{NoMeshdns: true})
		pod, up = p.Topo.Pod, p.Topo.Upstream

		// Without meshdns the upstream answers (the example zone's decoys).
		d := p.Dig(t, "web.default.svc.cluster.local", "A")
		if d.Status != "NOERROR" || len(d.Answer) != 1 || lookupout.RecordString(d.Answer[0], true) != "web.default.svc.cluster.local. 7 IN A 198.19.1.1" {
			t.Fatalf("dig without meshdns: %s %v\n%s", d.Status, d.Answer, d.Raw)
		}
		if d.Server.String() != "198.18.0.1:53" || d.Flag("aa") {
			t.Errorf("responder %v flags %v", d.Server, d.Flags)
		}
		if n := p.UpstreamCount("web.default.svc.cluster.local", 1); n != 1 {
			t.Errorf("upstream count %d, want 1", n)
		}
		g, err := p.Getent("ahosts", "www.example.org")
		if err != nil || !g.Found || len(g.Addrs) != 2 {
			t.Errorf("getent: %+v %v", g, err)
		}
		if g, err := p.Getent("hosts", "no.such.name.example"); err != nil || g.Found {
			t.Errorf("getent of a missing name: %+v %v, want not found", g, err)
		}
		// The Go resolver reads the pod's resolv.conf: "web" becomes
		// web.default.svc.cluster.local through its search list.
		r := p.GoLookup(t, OpIP4, "web")
		if r.Err != "" || !slices.Equal(r.Addrs, []string{"198.19.1.1"}) {
			t.Errorf("GoLookup(web) = %+v", r)
		}
		if r := p.GoLookup(t, OpHost, "no.such.name.example"); !r.NotFound {
			t.Errorf("GoLookup of a missing name: %+v, want not found", r)
		}
		if _, err := p.TryGoLookup("bogus", "x"); err == nil {
			t.Error("GoLookup with an unknown op: no error")
		}

		before := p.UpstreamCount("web.default.svc.cluster.local", 0)
		proc := p.StartMeshdns(t, "../../examples/objects.yaml")
		pid = proc.Pid()
		if got, want := nsInode(t, "/proc/"+strconv.Itoa(pid)+"/ns/net"), nsInode(t, netns.Path(p.Topo.Pod)); got != want {
			t.Errorf("meshdns runs in namespace %d, want the pod's %d", got, want)
		}
		d = p.Dig(t, "web.default.svc.cluster.local", "A")
		if !d.Flag("aa") || len(d.Answer) != 1 || lookupout.RecordString(d.Answer[0], true) != "web.default.svc.cluster.local. 30 IN A 10.96.23.17" {
			t.Errorf("dig with meshdns: %s %v", d.Status, d.Answer)
		}
		if n := p.UpstreamCount("web.default.svc.cluster.local", 0); n != before {
			t.Errorf("upstream count %d, want still %d", n, before)
		}
		if rules := p.Rules(t); !containsAll(rules, "# iptables-nft-save", "# ip6tables-legacy-save", "MESHDNS-OUTPUT") {
			t.Errorf("Rules:\n%s", rules)
		}
	})
	if pod == "" || pid == 0 {
		t.Fatal("the pod subtest did not get far enough")
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("meshdns pid %d still running after the test", pid)
	}
	if netns.Exists(pod) || netns.Exists(up) {
		t.Errorf("namespaces %s %s left after the test", pod, up)
	}
	if _, err := os.Stat("/etc/netns/" + pod); err == nil {
		t.Errorf("/etc/netns/%s left after the test", pod)
	}
}

func nsInode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestKernelRemoveStale: namespaces left by a dead test process are
// removed; those of a live one are not.
func TestKernelRemoveStale(t *testing.T) {
	netnstest.RequireRoot(t)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	live := exec.Command("sleep", "30")
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { live.Process.Kill(); live.Wait() })
	deadNS := "mdt-pt" + strconv.Itoa(dead.Process.Pid) + "-0bad-pod"
	liveNS := "mdt-pt" + strconv.Itoa(live.Process.Pid) + "-0bad-pod"
	for _, ns := range []string{deadNS, liveNS} {
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		t.Cleanup(func() { exec.Command("ip", "netns", "delete", ns).Run() })
	}
	removeStale(t)
	if netns.Exists(deadNS) {
		t.Errorf("%s (dead process) not removed", deadNS)
	}
	if !netns.Exists(liveNS) {
		t.Errorf("%s (live process) removed", liveNS)
	}
}
