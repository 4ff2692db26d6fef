package nodetest

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/meshdns/meshdns/nfq/rules"
	"github.com/meshdns/meshdns/node/podevent"
)

const testZone = `$ORIGIN example.org.
@ 7 IN SOA ns hostmaster 1 60 60 60 7
www 7 IN A 198.19.99.1
`

// fakeAgent records the events meshdns-cni sends.
type fakeAgent struct {
	mu     sync.Mutex
	events []podevent.Event
}

func (a *fakeAgent) handle(_ context.Context, e podevent.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
	return nil
}

func (a *fakeAgent) got() []podevent.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]podevent.Event(nil), a.events...)
}

func startAgent(t *testing.T, socket string) *fakeAgent {
	a := &fakeAgent{}
	s, err := podevent.Listen(socket, a.handle, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return a
}

// TestKernelCNI runs meshdns-cni the way a container runtime does (libcni,
// a conflist chaining Debian's bridge), in namespaces the test made.
func TestKernelCNI(t *testing.T) {
	n := New(t, Config{Zone: testZone, Cache: true})
	agent := startAgent(t, n.Socket)

	p := n.AddPod(t, NewPodObject("shop", "web-1"))
	if !Subnet.Contains(p.IP) {
		t.Fatalf("pod IP %v outside %v", p.IP, Subnet)
	}
	saved := p.Rules(t)
	for _, want := range []string{rules.ChainQueue, "--queue-bypass", "-d " + ClusterDNS.String() + "/32", rules.ChainNotrackOut, rules.ChainResponses} {
		if !strings.Contains(saved, want) {
			t.Errorf("pod rules lack %q:\n%s", want, saved)
		}
	}
	ev := agent.got()
	if len(ev) != 1 || ev[0].Op != podevent.OpAdd || ev[0].Namespace != "shop" || ev[0].Name != "web-1" ||
		ev[0].UID != string(p.Object.UID) || ev[0].NetNS != p.Path || ev[0].ContainerID != p.ContainerID {
		t.Fatalf("agent events after ADD: %+v", ev)
	}

	// Rules in, no consumer bound: the bypass takes the query to the
	// cluster DNS, by dig and by glibc.
	d := p.Dig(t, "@"+ClusterDNS.String(), "www.example.org", "A")
	if d.Status != "NOERROR" || len(d.Answer) != 1 {
		t.Fatalf("dig through the bypass: %s\n%s", d.Status, d.Raw)
	}
	if g, err := p.Getent("hosts", "www.example.org"); err != nil || len(g.Addrs) == 0 || g.Addrs[0].String() != "198.19.99.1" {
		t.Fatalf("getent through the bypass: %+v %v", g, err)
	}

	if err := n.DelPod(p); err != nil {
		t.Fatal(err)
	}
	if saved := p.Rules(t); strings.Contains(saved, rules.ChainPrefix) {
		t.Fatalf("rules left after DEL:\n%s", saved)
	}
	ev = agent.got()
	if len(ev) != 2 || ev[1].Op != podevent.OpDel || ev[1].ContainerID != p.ContainerID {
		t.Fatalf("agent events after DEL: %+v", ev)
	}

	// DEL of a namespace already gone succeeds (and still tells the agent).
	q := n.AddPod(t, NewPodObject("shop", "web-2"))
	q.RemoveNS()
	if err := n.DelPod(q); err != nil {
		t.Fatalf("DEL after the namespace went: %v", err)
	}
	if ev = agent.got(); len(ev) != 4 || ev[3].Op != podevent.OpDel {
		t.Fatalf("agent events: %+v", ev)
	}
}

// TestKernelCNINoAgent: an agent that is not there fails no pod.
func TestKernelCNINoAgent(t *testing.T) {
	n := New(t, Config{Zone: testZone})
	p := n.AddPod(t, NewPodObject("shop", "web-1"))
	if !strings.Contains(p.Rules(t), rules.ChainQueue) {
		t.Fatal("no rules installed without an agent")
	}
	if d := p.Dig(t, "@"+ClusterDNS.String(), "www.example.org", "A"); d.Status != "NOERROR" {
		t.Fatalf("dig: %s", d.Raw)
	}
	if err := n.DelPod(p); err != nil {
		t.Fatalf("DEL without an agent: %v", err)
	}
}
