package nodetest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/meshdns/meshdns/internal/podtest"
)

// StartAgent starts `meshdns node` in the node namespace with the node's
// kubelet settings, socket and CNI cache, plus args, and waits until it
// serves. The name source is an objects file, without Pods or Namespaces
// to read labels from: every pod is answered (--pods all).
func (n *Node) StartAgent(t testing.TB, args ...string) *podtest.Process {
	t.Helper()
	rc := filepath.Join(n.Dir, "node-resolv.conf")
	if err := os.WriteFile(rc, []byte("nameserver "+ClusterDNS.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	full := append([]string{"node", "--cluster-dns", ClusterDNS.String(), "--cluster-domain", ClusterDomain,
		"--resolv-conf", rc, "--cni-socket", n.Socket, "--cni-cache-dir", n.CacheDir(), "--metrics-addr", "", "--pods", "all",
		"--tcp-key-file", filepath.Join(n.Dir, "tcp-isn.key")}, args...)
	p := podtest.StartIn(t, n.NS, podtest.Binary(t), full...)
	if err := p.WaitReady(context.Background(), podtest.DefaultReadyTimeout); err != nil {
		t.Fatal(err)
	}
	return p
}

// CacheDir is the runtime's CNI cache (libcni's), where the agent recovers
// pods from.
func (n *Node) CacheDir() string { return filepath.Join(n.Dir, "cache") }
