package e2e_test

// TCP flows meshdns does not take over go to
// the real nameserver and must work under the pod's own firewall, as
// taken-over ones do.

import (
	"strings"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/netns/netnstest"
	"github.com/meshdns/meshdns/internal/podtest"
	"github.com/miekg/dns"
)

// firewalledPod starts a pod with conntrack on, an INVALID-drop rule and
// a stateful INPUT policy (netnstest.StatefulFirewall), without meshdns;
// its upstream also holds records (podtest.Config.Records).
func firewalledPod(t *testing.T, records map[string][]string) *podtest.Pod {
	t.Helper()
	p := startPod(t, podtest.Config{NoMeshdns: true, Records: records})
	for _, cmd := range []string{"iptables-restore", "ip6tables-restore"} {
		c := netns.Command(t.Context(), p.Topo.Pod, cmd)
		c.Stdin = strings.NewReader(netnstest.StatefulFirewall)
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", cmd, err, out)
		}
	}
	return p
}

// askUpstream asks on c and wants the real nameserver's answer (not
// authoritative, one record).
func askUpstream(t *testing.T, c *dnsConn, name string, id uint16) {
	t.Helper()
	m, err := c.ask(name, dns.TypeA, id)
	if err != nil || m.Authoritative || len(m.Answer) != 1 {
		t.Fatalf("%s on a flow meshdns does not hold: %v %v, want the nameserver's answer", name, m, err)
	}
}

// TestKernelTCPForeignFirewall: under an INVALID-drop rule and a stateful
// INPUT policy, TCP flows that go to the real nameserver complete: with
// --tcp off, past --tcp-max-flows, and opened while meshdns is down (and
// still used after it is back); flows meshdns takes over still work.
func TestKernelTCPForeignFirewall(t *testing.T) {
	t.Parallel()
	t.Run("tcp-off", func(t *testing.T) {
		t.Parallel()
		p := firewalledPod(t, nil)
		p.StartMeshdns(t, objectsFile, "--tcp=off")
		c := dialDNS(t, p, "198.18.0.1:53")
		askUpstream(t, c, "www.example.org", 1)
		askUpstream(t, c, "web.default.svc.cluster.local", 2)
	})
	t.Run("max-flows", func(t *testing.T) {
		t.Parallel()
		p := firewalledPod(t, nil)
		p.StartMeshdns(t, objectsFile, tcpArgs(t, "--tcp-max-flows=1")...)
		a := dialDNS(t, p, "198.18.0.1:53")
		if m, err := a.ask("web.default.svc.cluster.local", dns.TypeA, 1); err != nil || !fromMesh(m) {
			t.Fatalf("first connection: %v %v", m, err)
		}
		b := dialDNS(t, p, "198.18.0.1:53")
		askUpstream(t, b, "web.default.svc.cluster.local", 2)
		askUpstream(t, b, "www.example.org", 3)
		if m, err := a.ask("api.shop.svc.cluster.local", dns.TypeA, 4); err != nil || !fromMesh(m) {
			t.Fatalf("first connection again: %v %v", m, err)
		}
	})
	t.Run("meshdns-down", func(t *testing.T) {
		t.Parallel()
		p := firewalledPod(t, nil)
		args := tcpArgs(t)
		p.StartMeshdns(t, objectsFile, args...)
		if err := p.Meshdns.Kill(); err != nil {
			t.Fatal(err)
		}
		p.Meshdns.Wait(5 * time.Second)
		down := dialDNS(t, p, "198.18.0.1:53")
		askUpstream(t, down, "web.default.svc.cluster.local", 1)
		p.StartMeshdns(t, objectsFile, args...)
		// Still the nameserver's after meshdns is back.
		askUpstream(t, down, "web.default.svc.cluster.local", 2)
		askUpstream(t, down, "www.example.org", 3)
		up := dialDNS(t, p, "198.18.0.1:53")
		if m, err := up.ask("web.default.svc.cluster.local", dns.TypeA, 4); err != nil || !fromMesh(m) {
			t.Fatalf("a new connection after the restart: %v %v", m, err)
		}
	})
}
