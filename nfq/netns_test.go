package nfq

import (
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"testing"

	"github.com/meshdns/meshdns/internal/netns/netnstest"
	"golang.org/x/sys/unix"
)

// randomID returns n random hex digits, for namespace and link names.
func randomID(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// newNetns creates the network namespace mdt-nfq-<tag>-<random> with lo up
// and deletes it when the test ends.
func newNetns(t testing.TB, tag string) string {
	t.Helper()
	name := "mdt-nfq-" + tag + "-" + randomID(6)
	netnstest.Run(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", name, err, out)
		}
	})
	netnstest.Run(t, "ip", "-n", name, "link", "set", "lo", "up")
	return name
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
