package clusterdns

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/netns/netnstest"
	"github.com/miekg/dns"
)

// TestKernelServeInNamespace serves on sockets made inside the upstream
// namespace and queries from the pod namespace, as the demo does.
func TestKernelServeInNamespace(t *testing.T) {
	topo := netnstest.ForTest(t, netns.Config{})
	s, err := New(Config{Zone: ExampleZone})
	if err != nil {
		t.Fatal(err)
	}
	var udp []net.PacketConn
	var tcp []net.Listener
	for _, a := range []string{"198.18.0.1:53", "[fd53::1]:53"} {
		pc, err := netns.ListenUDP(topo.Upstream, "udp", a)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := netns.ListenTCP(topo.Upstream, "tcp", a)
		if err != nil {
			t.Fatal(err)
		}
		udp, tcp = append(udp, pc), append(tcp, ln)
	}
	if err := s.Serve(udp, tcp); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })

	for _, srv := range []string{"198.18.0.1:53", "[fd53::1]:53"} {
		for _, network := range []string{"udp", "tcp"} {
			conn, err := netns.Dial(context.Background(), topo.Pod, network, srv)
			if err != nil {
				t.Fatal(err)
			}
			c := &dns.Conn{Conn: conn}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			m := new(dns.Msg).SetQuestion("web.default.svc.cluster.local.", dns.TypeA)
			if err := c.WriteMsg(m); err != nil {
				t.Fatal(err)
			}
			r, err := c.ReadMsg()
			c.Close()
			if err != nil {
				t.Fatalf("%s %s: %v", network, srv, err)
			}
			if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "198.19.1.1" {
				t.Errorf("%s %s: %v", network, srv, r.Answer)
			}
		}
	}
	if got := s.Totals(); got.UDP != 2 || got.TCP != 2 {
		t.Errorf("Totals %+v, want 2 UDP and 2 TCP", got)
	}

	// getent inside the pod, through the pod's resolv.conf and search path.
	if err := topo.WriteResolvConf("nameserver 198.18.0.1\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"); err != nil {
		t.Fatal(err)
	}
	s.Reset()
	out, err := netns.Command(context.Background(), topo.Pod, "getent", "ahostsv4", "api.shop").Output()
	if err != nil {
		t.Fatalf("getent: %v", err)
	}
	if len(out) < 10 || string(out[:10]) != "198.19.1.2" {
		t.Errorf("getent ahostsv4 api.shop: %q", out)
	}
	// The search list: first api.shop.default.svc.cluster.local (NXDOMAIN),
	// then api.shop.svc.cluster.local.
	for _, n := range []string{"api.shop.default.svc.cluster.local", "api.shop.svc.cluster.local"} {
		if s.Count(n, dns.TypeA) == 0 {
			t.Errorf("upstream saw no A query for %s: %v", n, s.Counts())
		}
	}
}
