package loadgen

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/clusterdns"
	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/netns/netnstest"
)

// TestKernelNamespaceDialer sends from inside a pod namespace to an
// upstream in another one: every socket must be in the pod namespace (the
// upstream is unreachable from the test's own namespace).
func TestKernelNamespaceDialer(t *testing.T) {
	topo := netnstest.ForTest(t, netns.Config{})
	srv, err := clusterdns.New(clusterdns.Config{Zone: clusterdns.ExampleZone})
	if err != nil {
		t.Fatal(err)
	}
	var udp []net.PacketConn
	for _, a := range []string{"198.18.0.1:53", "[fd53::1]:53"} {
		pc, err := netns.ListenUDP(topo.Upstream, "udp", a)
		if err != nil {
			t.Fatal(err)
		}
		udp = append(udp, pc)
	}
	if err := srv.Serve(udp, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })

	d, err := NewNamespaceDialer(topo.Pod)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	}()
	for _, server := range []string{"198.18.0.1:53", "[fd53::1]:53"} {
		srv.Reset()
		res, err := Run(context.Background(), Config{
			Server:   netip.MustParseAddrPort(server),
			Lookups:  testLookups()[:2],
			Rate:     200,
			Duration: 100 * time.Millisecond,
			Timeout:  5 * time.Second,
			Dialer:   d,
		})
		if err != nil {
			t.Fatal(err)
		}
		s := res.Summary()
		if s.Sent != 40 || s.Upstream != 40 || res.DialErrors != 0 {
			t.Errorf("%s: %+v, dial errors %d", server, s.Counts, res.DialErrors)
		}
		if got := srv.Totals().UDP; got != 40 {
			t.Errorf("%s: upstream got %d queries, want 40", server, got)
		}
	}
	if _, err := NewNamespaceDialer("mdt-no-such-namespace"); err == nil {
		t.Error("dialer in a missing namespace: no error")
	}
}
