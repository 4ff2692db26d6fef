package nfq

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/meshdns/meshdns/internal/netns/netnstest"
	"github.com/meshdns/meshdns/nfq/rules"
)

// TestKernelFromOutside serves a pod namespace entirely from the test's own
// (root) namespace, as node mode does: the rules installed through
// rules.NetNSRunner, the batch queue's netlink socket opened inside the pod by
// Config.NetNS.
func TestKernelFromOutside(t *testing.T) {
	netnstest.RequireRoot(t)
	pod, up := newTopology(t)
	ups := startUpstream(t, up)
	cl := newClient(t, pod)
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	runner := rules.NetNSRunner{Path: "/run/netns/" + pod}
	rc := rules.Config{Nameservers: []netip.Addr{upV4, upV6}, Runner: runner, Logger: log}
	if err := rules.Install(context.Background(), rc); err != nil {
		t.Fatal(err)
	}
	saved, err := runner.Run(context.Background(), nil, "iptables-save", "-t", "mangle")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(saved), rules.ChainQueue) {
		t.Fatalf("pod's mangle table has no %s:\n%s", rules.ChainQueue, saved)
	}
	c, cancel := startConsumer(t, pod, log, OpenBatch)
	for _, srv := range []netip.Addr{upV4, upV6} {
		cl.wantMeshAnswer(t, srv)
	}
	if n := ups.count(meshName); n != 0 {
		t.Errorf("upstream saw the mesh name %d times", n)
	}
	cancel()
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := rules.Remove(context.Background(), rc); err != nil {
		t.Fatal(err)
	}
	saved, err = runner.Run(context.Background(), nil, "iptables-save")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(saved), rules.ChainPrefix) {
		t.Fatalf("rules left in the pod after Remove:\n%s", saved)
	}
}
