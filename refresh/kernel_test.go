package refresh

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/upstream"
	"github.com/miekg/dns"
)

const testMark = 0x20000

// TestKernelRefreshMarkAndNotrack: in a pod namespace with meshdns-like
// NOTRACK rules for DNS answers and a stateful INPUT policy, the refresh
// query leaves marked (the mark rule counts it) and its answer arrives only
// when the NOTRACK rule exempts the refresh socket's port: this is the
// rule line cmd/meshdns must install (see the report in the cache docs).
func TestKernelRefreshMarkAndNotrack(t *testing.T) {
	topo := netns.ForTest(t, netns.Config{})
	ctx := context.Background()
	up, err := upstream.New(upstream.Config{Records: map[string][]string{"www.example.org": {"60 A 198.18.5.5"}}})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := netns.ListenUDP(topo.Upstream, "udp4", topo.UpstreamV4.String()+":53")
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Serve([]net.PacketConn{pc}, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Stop() })

	ipt := func(args ...string) {
		t.Helper()
		if out, err := netns.Command(ctx, topo.Pod, "iptables", args...).CombinedOutput(); err != nil {
			t.Fatalf("iptables %v: %v\n%s", args, err, out)
		}
	}
	mark := fmt.Sprintf("%#x/%#x", testMark, testMark)
	ipt("-t", "raw", "-A", "OUTPUT", "-p", "udp", "--dport", "53", "-m", "mark", "!", "--mark", mark, "-j", "CT", "--notrack")
	ipt("-t", "mangle", "-A", "OUTPUT", "-p", "udp", "--dport", "53", "-m", "mark", "--mark", mark)
	ipt("-t", "raw", "-N", "MDT-PRE")
	ipt("-t", "raw", "-A", "PREROUTING", "-j", "MDT-PRE")
	ipt("-t", "raw", "-A", "MDT-PRE", "-p", "udp", "--sport", "53", "-j", "CT", "--notrack")
	ipt("-A", "INPUT", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT")
	ipt("-A", "INPUT", "-p", "udp", "--sport", "53", "-j", "DROP")

	var r *Refresher
	if err := netns.Do(topo.Pod, func() error {
		var err error
		r, err = New(Config{Mark: testMark, Timeout: 300 * time.Millisecond})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	fake := &FakeLearner{Outcome: dnsengine.CacheLearned}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(rctx, fake) }()
	defer func() { cancel(); <-done }()

	req, err := dnsengine.NewRefreshRequest(topo.UpstreamV4, "www.example.org", dns.TypeA, false, false)
	if err != nil {
		t.Fatal(err)
	}
	// Without the exemption the answer is untracked and INPUT drops it.
	r.Refresh(req)
	waitFor(t, "the timeout", func() bool { return r.Stats().Timeouts == 1 })
	if up.Count("www.example.org", dns.TypeA) != 1 || len(fake.Calls()) != 0 {
		t.Fatalf("without the exemption: upstream saw %d, learner got %d", up.Count("www.example.org", dns.TypeA), len(fake.Calls()))
	}
	// The exemption, inserted before the NOTRACK rule.
	ipt("-t", "raw", "-I", "MDT-PRE", "1", "-p", "udp", "--sport", "53", "--dport", strconv.Itoa(int(r.LocalPort())), "-j", "RETURN")
	r.Refresh(req)
	waitFor(t, "the answer", func() bool { return len(fake.Calls()) == 1 })

	out, err := netns.Command(ctx, topo.Pod, "iptables", "-t", "mangle", "-nvxL", "OUTPUT").CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var marked int
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 2 && strings.Contains(l, "mark match") {
			marked, _ = strconv.Atoi(f[0])
		}
	}
	if marked != 2 {
		t.Fatalf("%d marked queries counted, want 2:\n%s", marked, out)
	}
}
