package nodetest

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/meshdns/meshdns/internal/clusterdns"
	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/podtest"
	"github.com/meshdns/meshdns/nfq/rules"
)

const (
	webFQDN = "web.shop.svc.cluster.local."
	apiFQDN = "api.billing.svc.cluster.local."
	webIP   = "198.19.60.10"
	apiIP   = "198.19.60.20"
)

// local checks that p's query for name was answered in the pod by meshdns:
// authoritative, with want as the only A record, and never seen by the
// cluster DNS.
func local(t *testing.T, n *Node, p *Pod, name, want string) {
	t.Helper()
	before := n.Upstream.Count(name, 0)
	d := p.Dig(t, "@"+ClusterDNS.String(), name, "A")
	if d.Status != "NOERROR" || !d.Flag("aa") || len(d.Answer) != 1 || !strings.HasSuffix(d.Answer[0].String(), want) {
		t.Errorf("%s: dig %s: want %s answered in the pod, got\n%s", p.NS, name, want, d.Raw)
	}
	if c := n.Upstream.Count(name, 0); c != before {
		t.Errorf("%s: %s reached the cluster DNS (%d times)", p.NS, name, c-before)
	}
}

// metricsAddr is the agent's pprof and metrics address, inside the node
// namespace.
const metricsAddr = "127.0.0.1:15099"

// goroutines reads the agent's goroutine count from its pprof endpoint.
func goroutines(t *testing.T, n *Node) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := netns.Dial(ctx, n.NS, "tcp4", metricsAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /debug/pprof/goroutine?debug=1 HTTP/1.0\r\nHost: x\r\n\r\n")
	b, _ := io.ReadAll(c)
	_, rest, ok := strings.Cut(string(b), "goroutine profile: total ")
	var g int
	if _, err := fmt.Sscan(rest, &g); !ok || err != nil {
		t.Fatalf("no goroutine count in\n%s", b)
	}
	return g
}

func fds(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestKernelNode is node mode end to end on a simulated node: pods created
// through libcni + bridge + meshdns-cni, one `meshdns node` answering each
// pod inside its own namespace with its own namespace's short names.
func TestKernelNode(t *testing.T) {
	n := New(t, Config{Zone: testZone, Cache: true})
	agent := n.StartAgent(t, "--objects", "testdata/objects.yaml", "--metrics-addr", metricsAddr)

	var shop, billing []*Pod
	for i := range 2 {
		shop = append(shop, n.AddPod(t, NewPodObject("shop", fmt.Sprintf("web-%d", i))))
		billing = append(billing, n.AddPod(t, NewPodObject("billing", fmt.Sprintf("api-%d", i))))
	}
	all := append(append([]*Pod(nil), shop...), billing...)
	// ADD returns once the agent serves the pod: the first query after it
	// is answered in the pod.
	for _, p := range all {
		local(t, n, p, webFQDN, webIP)
		local(t, n, p, apiFQDN, apiIP)
	}
	// Short names: each pod's own namespace (search list, glibc and Go).
	for _, c := range []struct {
		pods      []*Pod
		own, want string
		other     string
	}{{shop, "web", webIP, "api"}, {billing, "api", apiIP, "web"}} {
		for _, p := range c.pods {
			g, err := p.Getent("hosts", c.own)
			if err != nil || len(g.Addrs) != 1 || g.Addrs[0].String() != c.want {
				t.Errorf("%s: getent hosts %s = %+v %v, want %s", p.NS, c.own, g, err, c.want)
			}
			r := p.GoLookup(t, podtest.OpIP4, c.own)
			if r.Err != "" || len(r.Addrs) != 1 || r.Addrs[0] != c.want {
				t.Errorf("%s: Go lookup %s = %+v, want %s", p.NS, c.own, r, c.want)
			}
			// The other namespace's service is not a short name here.
			if g, err := p.Getent("hosts", c.other); err == nil && len(g.Addrs) > 0 {
				t.Errorf("%s: getent hosts %s resolved to %v across namespaces", p.NS, c.other, g.Addrs)
			}
			d := p.Dig(t, "+search", c.own, "A")
			if d.Status != "NOERROR" || len(d.Answer) != 1 || !strings.HasSuffix(d.Answer[0].String(), c.want) {
				t.Errorf("%s: dig +search %s:\n%s", p.NS, c.own, d.Raw)
			}
		}
	}
	// External names pass through to the cluster DNS.
	ext := "www.example.org."
	before := n.Upstream.Count(ext, dns.TypeA)
	for _, p := range all {
		g, err := p.Getent("ahostsv4", "www.example.org")
		if err != nil || len(g.Addrs) == 0 || g.Addrs[0].String() != "198.19.99.1" {
			t.Errorf("%s: external name: %+v %v", p.NS, g, err)
		}
	}
	if n.Upstream.Count(ext, dns.TypeA) == before {
		t.Error("external name never reached the cluster DNS")
	}
	// DNS over TCP, answered in the pod too; other names forwarded by the
	// agent from inside the pod.
	for _, p := range all {
		before := n.Upstream.Count(webFQDN, 0)
		d := p.Dig(t, "+tcp", "@"+ClusterDNS.String(), webFQDN, "A")
		if d.Status != "NOERROR" || !d.Flag("aa") || len(d.Answer) != 1 || !strings.HasSuffix(d.Answer[0].String(), webIP) {
			t.Errorf("%s: dig +tcp %s: want %s answered in the pod, got\n%s", p.NS, webFQDN, webIP, d.Raw)
		}
		if c := n.Upstream.Count(webFQDN, 0); c != before {
			t.Errorf("%s: %s over TCP reached the cluster DNS", p.NS, webFQDN)
		}
		extBefore := n.Upstream.Count(ext, dns.TypeA)
		d = p.Dig(t, "+tcp", "@"+ClusterDNS.String(), ext, "A")
		if d.Status != "NOERROR" || len(d.Answer) == 0 || !strings.HasSuffix(d.Answer[0].String(), "198.19.99.1") {
			t.Errorf("%s: dig +tcp %s:\n%s", p.NS, ext, d.Raw)
		}
		if n.Upstream.Count(ext, dns.TypeA) == extBefore {
			t.Errorf("%s: %s over TCP never reached the cluster DNS", p.NS, ext)
		}
	}

	// DEL releases everything the agent held for the pod: its rules and
	// its file descriptors (the queue's netlink socket).
	base := fds(t, agent.Pid())
	baseG := goroutines(t, n)
	extra := n.AddPod(t, NewPodObject("shop", "extra"))
	local(t, n, extra, webFQDN, webIP)
	if g := goroutines(t, n); g <= baseG {
		t.Errorf("serving a pod started no goroutine (%d before, %d after)", baseG, g)
	}
	if fds(t, agent.Pid()) <= base {
		t.Errorf("serving a pod opened no descriptor (%d before, %d after)", base, fds(t, agent.Pid()))
	}
	if err := n.DelPod(extra); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.WaitLog(5*time.Second, "pod released", "shop/extra"); err != nil {
		t.Fatal(err)
	}
	if got := fds(t, agent.Pid()); got != base {
		t.Errorf("agent holds %d descriptors after DEL, %d before ADD", got, base)
	}
	// Goroutines: the count of the pod's life must come back (polled: the
	// pprof request's own connection goroutine may still be closing).
	deadline := time.Now().Add(5 * time.Second)
	for g := goroutines(t, n); g != baseG; g = goroutines(t, n) {
		if time.Now().After(deadline) {
			t.Errorf("agent runs %d goroutines after DEL, %d before ADD", g, baseG)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := extra.Rules(t); strings.Contains(r, rules.ChainPrefix) {
		t.Errorf("rules left after DEL:\n%s", r)
	}

	// kill -9: the bypass keeps every pod's DNS working (mesh names go to
	// the cluster DNS, which does not know them here, but answers).
	if err := agent.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	agent.Wait(10 * time.Second)
	for _, p := range all {
		before := n.Upstream.Count(webFQDN, 0)
		d, err := p.TryDig("@"+ClusterDNS.String(), webFQDN, "A")
		if err != nil || d.Flag("aa") && len(d.Answer) > 0 {
			t.Errorf("%s: with the agent killed: %v\n%s", p.NS, err, d.Raw)
		}
		if n.Upstream.Count(webFQDN, 0) == before {
			t.Errorf("%s: with the agent killed the query did not reach the cluster DNS", p.NS)
		}
		if g, err := p.Getent("ahostsv4", "www.example.org"); err != nil || len(g.Addrs) == 0 {
			t.Errorf("%s: external name with the agent killed: %v", p.NS, err)
		}
	}

	// Restart: the pods are recovered from the runtime's CNI cache,
	// untouched, and answered again.
	start := time.Now()
	agent = n.StartAgent(t, "--objects", "testdata/objects.yaml")
	if _, err := agent.WaitLog(time.Second, "msg=serving", fmt.Sprintf("recovered=%d", len(all))); err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		local(t, n, p, webFQDN, webIP)
	}
	t.Logf("agent restart to every pod answered again: %v (%d pods)", time.Since(start).Round(time.Millisecond), len(all))

	// SIGTERM (a rolling update) under load: the agent stops, the rules
	// stay, and not one query is lost: each pod's queue stops taking new
	// packets (they go to the cluster DNS at once) while the ones already
	// queued are answered, then it is unbound.
	load := startQueryLoad(t, all, webFQDN, 4, 2*time.Second)
	time.Sleep(time.Second)
	if err := agent.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.Wait(10 * time.Second); err != nil {
		t.Fatalf("agent did not stop on SIGTERM: %v", err)
	}
	time.Sleep(500 * time.Millisecond)
	answered, lost, byAgent := load.stop()
	t.Logf("SIGTERM under load: %d queries answered (%d by the agent), %d lost", answered, byAgent, lost)
	if lost != 0 || byAgent == 0 || byAgent == answered {
		t.Errorf("SIGTERM under load: %d answered, %d of them by the agent, %d lost; want 0 lost, answers before and after", answered, byAgent, lost)
	}
	for _, p := range all {
		if !strings.Contains(p.Rules(t), rules.ChainQueue) {
			t.Errorf("%s: rules gone after the agent stopped", p.NS)
		}
		if g, err := p.Getent("ahostsv4", "www.example.org"); err != nil || len(g.Addrs) == 0 {
			t.Errorf("%s: external name after SIGTERM: %v", p.NS, err)
		}
	}
}

// TestKernelNodeServeStale: with --cache-stale an expired entry of a pod's
// cache is answered while the cluster DNS does not answer, and the agent's
// refresh query, sent from inside the pod, reaches the cluster DNS.
func TestKernelNodeServeStale(t *testing.T) {
	n := New(t, Config{Zone: testZone, Cache: true})
	n.StartAgent(t, "--objects", "testdata/objects.yaml", "--cache-stale", "3600")
	p := n.AddPod(t, NewPodObject("shop", "web-0"))
	const ext = "www.example.org."
	d := p.Dig(t, "@"+ClusterDNS.String(), ext, "A")
	if len(d.Answer) != 1 || !strings.HasSuffix(d.Answer[0].String(), "198.19.99.1") {
		t.Fatalf("first lookup:\n%s", d.Raw)
	}
	n.Upstream.SetMode(clusterdns.Drop)
	before := n.Upstream.Count(ext, dns.TypeA)
	time.Sleep(7100 * time.Millisecond) // the zone's TTL: expired
	start := time.Now()
	d = p.Dig(t, "@"+ClusterDNS.String(), ext, "A")
	if len(d.Answer) != 1 || !strings.HasSuffix(d.Answer[0].String(), "198.19.99.1") || d.Answer[0].Header().Ttl != 30 {
		t.Fatalf("cluster DNS down, entry expired: want the stale answer with TTL 30, got\n%s", d.Raw)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("the stale answer took %v: it waited for the cluster DNS", took)
	}
	deadline := time.Now().Add(5 * time.Second)
	for n.Upstream.Count(ext, dns.TypeA) == before {
		if time.Now().After(deadline) {
			t.Fatal("the agent's refresh query never reached the cluster DNS")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
