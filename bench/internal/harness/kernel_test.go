package harness

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/meshdns/meshdns/bench/internal/contender"
	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/netns/netnstest"
)

// TestKernelTuneTCP checks that tuneTCP sets tcp_tw_reuse in the pod
// namespace only, never on the host.
func TestKernelTuneTCP(t *testing.T) {
	topo := netnstest.ForTest(t, netns.Config{})
	const path = "/proc/sys/net/ipv4/tcp_tw_reuse"
	host, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := tuneTCP(topo.Pod); err != nil {
		t.Fatal(err)
	}
	out, err := contender.RunIn(context.Background(), topo.Pod, "", "cat", path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(out)) != "1" {
		t.Errorf("tcp_tw_reuse in the pod namespace is %q, want 1", out)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(host) {
		t.Errorf("the host's tcp_tw_reuse changed from %q to %q", host, after)
	}
}
