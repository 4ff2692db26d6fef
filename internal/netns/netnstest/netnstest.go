package netnstest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/meshdns/meshdns/internal/netns"
)

// SkipKernelEnv names the environment variable that, set to "1", lets
// kernel tests skip when not run as root. Without it they fail.
const SkipKernelEnv = "MESHDNS_SKIP_KERNEL"

// RequireRoot fails t unless the process runs as root; with
// MESHDNS_SKIP_KERNEL=1 it skips t instead.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv(SkipKernelEnv) == "1" {
		t.Skipf("kernel test needs root (skipped: %s=1)", SkipKernelEnv)
	}
	t.Fatalf("kernel test needs root; set %s=1 to skip it", SkipKernelEnv)
}

// ForTest builds a Topology for a test (RequireRoot first) and closes it when
// the test ends, failing the test if that close fails. An empty cfg.Prefix
// gets a random one.
func ForTest(t testing.TB, cfg netns.Config) *netns.Topology {
	t.Helper()
	RequireRoot(t)
	topo, err := netns.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("netns: %v", err)
	}
	t.Cleanup(func() {
		if err := topo.Close(); err != nil {
			t.Errorf("netns: close: %v", err)
		}
	})
	return topo
}

// Run runs a command on the host and returns its combined output; it fails
// t, with the output, when the command fails.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
