package nfq

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// requireRoot fails the test unless it runs as root; MESHDNS_SKIP_KERNEL=1
// turns the failure into a skip.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("MESHDNS_SKIP_KERNEL") == "1" {
		t.Skip("kernel test skipped: not root and MESHDNS_SKIP_KERNEL=1")
	}
	t.Fatal("kernel test needs root (set MESHDNS_SKIP_KERNEL=1 to skip it)")
}

// randomID returns n random hex digits, for namespace and link names.
func randomID(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// run runs a command on the host and fails the test on error.
func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newNetns creates the network namespace mdt-nfq-<tag>-<random> with lo up
// and deletes it when the test ends.
func newNetns(t testing.TB, tag string) string {
	t.Helper()
	name := "mdt-nfq-" + tag + "-" + randomID(6)
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", name, err, out)
		}
	})
	run(t, "ip", "-n", name, "link", "set", "lo", "up")
	return name
}

// inNetns runs fn on a goroutine locked to an OS thread that has entered the
// network namespace ns. The thread is never unlocked, so the runtime throws
// it away when the goroutine ends instead of reusing it elsewhere.
func inNetns(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open netns %s: %w", ns, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// netnsFD opens ns for Config.NetNS; it is closed when the test ends.
func netnsFD(t testing.TB, ns string) int {
	t.Helper()
	fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}
