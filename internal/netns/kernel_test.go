package netns_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"os/exec"

	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/netns/netnstest"
	"golang.org/x/sys/unix"
)

// nsInode returns the inode of the namespace the calling thread is in.
func threadNetns(t *testing.T) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func fileInode(t *testing.T, p string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func TestKernelTopology(t *testing.T) {
	const resolv = "nameserver 198.18.0.1\nsearch default.svc.cluster.local\noptions ndots:5\n"
	topo := netnstest.ForTest(t, netns.Config{ResolvConf: resolv, DefaultRoute: true})
	ctx := context.Background()

	for _, ns := range []string{topo.Pod, topo.Upstream} {
		if !netns.Exists(ns) || !strings.HasPrefix(ns, "mdt-"+topo.Prefix+"-") {
			t.Fatalf("namespace %q missing or misnamed", ns)
		}
	}

	t.Run("addresses", func(t *testing.T) {
		for _, c := range []struct{ ns, want string }{
			{topo.Pod, "198.18.0.2/24"}, {topo.Pod, "fd53::2/64"},
			{topo.Upstream, "198.18.0.1/24"}, {topo.Upstream, "fd53::1/64"},
		} {
			out, err := netns.Command(ctx, c.ns, "ip", "-o", "addr", "show", "dev", "eth0").CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if !strings.Contains(string(out), c.want) {
				t.Errorf("%s eth0: no %s in\n%s", c.ns, c.want, out)
			}
			if strings.Contains(string(out), "tentative") {
				t.Errorf("%s has a tentative address (DAD on):\n%s", c.ns, out)
			}
		}
		out, err := netns.Command(ctx, topo.Pod, "ip", "-o", "link", "show", "lo").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "UP") {
			t.Errorf("pod lo not up: %v %s", err, out)
		}
		out, err = netns.Command(ctx, topo.Pod, "ip", "route", "show", "default").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "via 198.18.0.1") {
			t.Errorf("pod default route: %v %q", err, out)
		}
	})

	t.Run("resolv.conf", func(t *testing.T) {
		out, err := netns.Command(ctx, topo.Pod, "cat", "/etc/resolv.conf").Output()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != resolv {
			t.Errorf("pod /etc/resolv.conf = %q, want %q", out, resolv)
		}
		if err := topo.WriteResolvConf("nameserver fd53::1\n"); err != nil {
			t.Fatal(err)
		}
		out, _ = netns.Command(ctx, topo.Pod, "cat", "/etc/resolv.conf").Output()
		if string(out) != "nameserver fd53::1\n" {
			t.Errorf("after rewrite: %q", out)
		}
	})

	for _, fam := range []struct{ udp, tcp, up, pod string }{
		{"udp4", "tcp4", "198.18.0.1", "198.18.0.2"},
		{"udp6", "tcp6", "fd53::1", "fd53::2"},
	} {
		t.Run("udp "+fam.udp, func(t *testing.T) {
			// The upstream address exists only inside the namespace, so
			// binding it proves the socket was made there.
			srv, err := netns.ListenUDP(topo.Upstream, fam.udp, net.JoinHostPort(fam.up, "0"))
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			c, err := netns.Dial(ctx, topo.Pod, fam.udp, srv.LocalAddr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Write([]byte("ping")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 16)
			srv.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, from, err := srv.ReadFromUDP(buf)
			if err != nil {
				t.Fatal(err)
			}
			if string(buf[:n]) != "ping" || from.IP.String() != fam.pod {
				t.Errorf("got %q from %v, want ping from %s", buf[:n], from, fam.pod)
			}
		})
		t.Run("tcp "+fam.tcp, func(t *testing.T) {
			ln, err := netns.ListenTCP(topo.Upstream, fam.tcp, net.JoinHostPort(fam.up, "0"))
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				io.Copy(c, c)
			}()
			c, err := netns.Dial(ctx, topo.Pod, fam.tcp, ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprint(c, "hello")
			buf := make([]byte, 5)
			if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
				t.Errorf("echo: %q %v", buf, err)
			}
			if got := c.LocalAddr().(*net.TCPAddr).IP.String(); got != fam.pod {
				t.Errorf("client address %s, want %s", got, fam.pod)
			}
		})
	}
}

func TestKernelDo(t *testing.T) {
	topo := netnstest.ForTest(t, netns.Config{})
	want := fileInode(t, netns.Path(topo.Pod))
	before := threadNetns(t)
	if before == want {
		t.Fatal("test already in the pod namespace")
	}
	for range 20 {
		var inside uint64
		if err := netns.Do(topo.Pod, func() error {
			inside = threadNetns(t)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if inside != want {
			t.Fatalf("inside Do: namespace inode %d, want %d", inside, want)
		}
	}
	// Every thread the runtime reuses must be back home: sample a few.
	for range 20 {
		done := make(chan uint64)
		go func() { done <- threadNetns(t) }()
		if got := <-done; got != before {
			t.Fatalf("a goroutine runs in namespace %d after netns.Do, want %d", got, before)
		}
	}

	sentinel := errors.New("sentinel")
	if err := netns.Do(topo.Pod, func() error { return sentinel }); !errors.Is(err, sentinel) {
		t.Errorf("Do returned %v, want fn's error", err)
	}
	if err := netns.Do("mdt-does-not-exist", func() error { t.Error("fn ran"); return nil }); err == nil {
		t.Error("Do on a missing namespace: no error")
	}
	func() {
		defer func() {
			if v := recover(); v != "oops" {
				t.Errorf("recovered %v, want the panic re-raised", v)
			}
		}()
		netns.Do(topo.Pod, func() error { panic("oops") })
	}()
}

func TestKernelCloseAndCleanupStale(t *testing.T) {
	netnstest.RequireRoot(t)
	ctx := context.Background()
	p, err := netns.RandomPrefix()
	if err != nil {
		t.Fatal(err)
	}
	keep := netnstest.ForTest(t, netns.Config{}) // another test's topology: must survive

	topo, err := netns.New(ctx, netns.Config{Prefix: p, ResolvConf: "nameserver 198.18.0.1\n"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	if err := topo.Close(); err != nil {
		t.Fatal(err)
	}
	if err := topo.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if netns.Exists(topo.Pod) || netns.Exists(topo.Upstream) {
		t.Error("namespaces left after Close")
	}
	if _, err := os.Stat(filepath.Dir(topo.ResolvConfPath())); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("/etc/netns dir left after Close: %v", err)
	}

	// Simulate an interrupted run: a topology never closed, plus a stray
	// /etc/netns directory.
	stale, err := netns.New(ctx, netns.Config{Prefix: p, ResolvConf: "x\n"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stale.Close() })
	stray := filepath.Join(netns.EtcDir, netns.NamePrefix+p+"-extra")
	if err := os.MkdirAll(stray, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(stray) })

	removed, err := netns.CleanupStale(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{stale.Pod, stale.Upstream, filepath.Base(stray)}
	for _, w := range want {
		found := false
		for _, r := range removed {
			found = found || r == w
		}
		if !found {
			t.Errorf("CleanupStale removed %q, want %q among them", removed, w)
		}
	}
	if len(removed) != len(want) {
		t.Errorf("CleanupStale removed %q, want exactly %q", removed, want)
	}
	if netns.Exists(stale.Pod) || netns.Exists(stale.Upstream) {
		t.Error("stale namespaces still exist")
	}
	if _, err := os.Stat(stray); !errors.Is(err, os.ErrNotExist) {
		t.Error("stray /etc/netns dir still exists")
	}
	if !netns.Exists(keep.Pod) || !netns.Exists(keep.Upstream) {
		t.Error("CleanupStale removed another prefix's namespaces")
	}
	if again, err := netns.CleanupStale(ctx, p); err != nil || len(again) != 0 {
		t.Errorf("second CleanupStale: %q %v", again, err)
	}
}

func TestKernelCommandSignalsProgram(t *testing.T) {
	topo := netnstest.ForTest(t, netns.Config{})
	ctx := context.Background()
	cmd := netns.Command(ctx, topo.Pod, "sh", "-c", "echo $$; exec sleep 30")
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 32)
	n, _ := pr.Read(line)
	pid := strings.TrimSpace(string(line[:n]))
	if pid != fmt.Sprint(cmd.Process.Pid) {
		t.Errorf("program pid %s, cmd.Process.Pid %d: ip did not exec in place", pid, cmd.Process.Pid)
	}
	cmd.Process.Signal(unix.SIGTERM)
	err := cmd.Wait()
	pw.Close()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != unix.SIGTERM {
		t.Errorf("Wait: %v, want death by SIGTERM", err)
	}
}

func TestKernelNameClash(t *testing.T) {
	topo := netnstest.ForTest(t, netns.Config{ResolvConf: "nameserver 198.18.0.1\n"})
	if other, err := netns.New(context.Background(), netns.Config{Prefix: topo.Prefix}); err == nil {
		other.Close()
		t.Fatal("New with a prefix in use: no error")
	}
	if !netns.Exists(topo.Pod) || !netns.Exists(topo.Upstream) {
		t.Error("a failed netns.New removed the namespaces of the topology it clashed with")
	}
	if _, err := os.Stat(topo.ResolvConfPath()); err != nil {
		t.Errorf("resolv.conf of the first topology: %v", err)
	}
}
