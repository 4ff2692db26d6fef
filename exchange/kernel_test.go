package exchange

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshdns/meshdns/dnsengine/cache"
	"github.com/meshdns/meshdns/internal/clusterdns"
	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/netns/netnstest"
	"github.com/meshdns/meshdns/nfq/rules"
	"github.com/miekg/dns"
)

const testMark = 0x20000

// podRunner runs the iptables tools inside the pod namespace.
type podRunner struct{ ns string }

func (r podRunner) Has(name string) bool { return rules.ExecRunner{}.Has(name) }

func (r podRunner) Run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	cmd := netns.Command(ctx, r.ns, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %v: %w", name, args, err)
	}
	return out, nil
}

// TestKernelOwnQueriesUnderRenderedRules: in a pod namespace with the rules
// nfq renders for meshdns (cache on: answers queued too) and a stateful
// INPUT firewall, meshdns's own queries (forwarded over UDP, over TCP after
// truncation, refreshes) leave marked from random ports and their answers
// come in tracked: the socket-mark rule exempts them. With that one rule
// deleted the same UDP exchange gets no answer, so the rule is what makes
// it work.
func TestKernelOwnQueriesUnderRenderedRules(t *testing.T) {
	for _, backend := range []string{rules.BackendNFT, rules.BackendLegacy} {
		t.Run(backend, func(t *testing.T) { testOwnQueriesUnderRules(t, backend) })
	}
}

func testOwnQueriesUnderRules(t *testing.T, backend string) {
	topo := netnstest.ForTest(t, netns.Config{})
	ctx := context.Background()
	recs := map[string][]string{"www.example.org": {"60 A 198.18.5.5"}}
	for i := range 80 {
		recs["big.example.org"] = append(recs["big.example.org"], fmt.Sprintf("60 A 198.19.1.%d", i))
	}
	up, err := clusterdns.New(clusterdns.Config{Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := netns.ListenUDP(topo.Upstream, "udp4", topo.UpstreamV4.String()+":53")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := netns.ListenTCP(topo.Upstream, "tcp4", topo.UpstreamV4.String()+":53")
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Serve([]net.PacketConn{pc}, []net.Listener{ln}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Stop() })

	r := podRunner{topo.Pod}
	rc := rules.Config{Nameservers: []netip.Addr{topo.UpstreamV4}, CaptureResponses: true, Mark: testMark,
		Backend: backend, Runner: r}
	if err := rules.Install(ctx, rc); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx, []byte(netnstest.StatefulFirewall), iptables(backend)+"-restore"); err != nil {
		t.Fatal(err)
	}

	// The sockets are opened in the pod (Config.NetNS), as node mode
	// opens a pod's.
	c := newClient(t, Config{Mark: testMark, Timeout: time.Second, Attempts: 1, NetNS: topo.Pod})
	server := netip.AddrPortFrom(topo.UpstreamV4, 53)
	for _, tc := range []struct {
		name    string
		records int
	}{{"www.example.org.", 1}, {"big.example.org.", 80}} {
		m, err := forward(c, query(t, tc.name, dns.TypeA, 7, false), server)
		if err != nil || len(m.Answer) != tc.records || m.Truncated {
			t.Fatalf("%s: %v %v", tc.name, m, err)
		}
	}
	fake := &FakeLearner{Outcome: cache.Learned}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(rctx, fake) }()
	defer func() { cancel(); <-done }()
	req, err := cache.NewRefreshRequest(topo.UpstreamV4, "www.example.org", dns.TypeA, false, false)
	if err != nil {
		t.Fatal(err)
	}
	c.Refresh(req)
	waitFor(t, "the refresh answer", func() bool { return len(fake.Calls()) == 1 })
	if st := c.Stats(); st.UDP != 3 || st.TCP != 1 || st.Timeouts != 0 {
		t.Fatalf("stats %+v: want 3 UDP exchanges and 1 TCP, no timeout", st)
	}
	// Three UDP queries and the TCP connection's segments left marked;
	// the three UDP answers were exempted by their socket's mark.
	if n := ruleCount(t, r, backend, "mangle", rules.ChainQueue, "mark match"); n < 3+3 {
		t.Errorf("%d marked packets seen by %s, want the 3 UDP queries and the TCP segments", n, rules.ChainQueue)
	}
	if n := ruleCount(t, r, backend, "raw", rules.ChainNotrackPre, "socket"); n != 3 {
		t.Errorf("%d answers exempted by socket mark, want 3", n)
	}

	// Without the exemption the answer is untracked and INPUT drops it.
	if _, err := r.Run(ctx, nil, iptables(backend), "-t", "raw", "-D", rules.ChainNotrackPre, "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := forward(c, query(t, "www.example.org.", dns.TypeA, 8, false), server); !errors.Is(err, ErrTimeout) {
		t.Fatalf("without the socket-mark rule: %v, want ErrTimeout", err)
	}
}

func iptables(backend string) string {
	if backend == rules.BackendLegacy {
		return "iptables-legacy"
	}
	return "iptables-nft"
}

// ruleCount returns the packet count of the first rule of chain whose
// listing contains what.
func ruleCount(t *testing.T, r podRunner, backend, table, chain, what string) int {
	t.Helper()
	out, err := r.Run(context.Background(), nil, iptables(backend), "-t", table, "-nvxL", chain)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 2 && strings.Contains(l, what) {
			n, _ := strconv.Atoi(f[0])
			return n
		}
	}
	t.Fatalf("no rule with %q in %s:\n%s", what, chain, out)
	return 0
}
