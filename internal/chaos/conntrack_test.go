package chaos_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/podtest"
)

// TestConntrack: with conntrack active in the pod (an Istio-like nat
// REDIRECT of outbound TCP, which turns it on), sustained load of glibc
// lookups (A and AAAA from one socket, one sendmmsg) leaves no DNS entry in
// the conntrack table, and nothing stalls: no query lost, the p99.9 latency
// far below the 5 s that the conntrack insertion race costs glibc. A
// control shows the check can see DNS entries: once meshdns has stopped
// (its NOTRACK rules gone) the same queries leave entries.
func TestConntrack(t *testing.T) {
	prof := getProfile()
	rec := newRecorder(t, "6", "conntrack: no DNS entries, no 5 s stalls under A+AAAA load", prof)
	rec.note("A nat REDIRECT of outbound TCP (as Istio's sidecar installs) turns conntrack on in the pod namespace. " +
		"meshdns's raw-table NOTRACK rules keep DNS out of it, so locally answered queries leave no [UNREPLIED] " +
		"entries and the A and AAAA queries glibc sends together from one socket cannot race in conntrack " +
		"(kubernetes/kubernetes#56903, the 5 s timeouts).")
	p := podtest.Start(t, podtest.Config{NoMeshdns: true})
	// Istio's sidecar: outbound TCP to the proxy. DNS (UDP) is not
	// redirected, but conntrack now tracks every flow in the namespace.
	p.MustExec(t, "iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "!", "-d", "127.0.0.1/32", "-j", "REDIRECT", "--to-ports", "15001")
	rec.fault(time.Now(), "nat OUTPUT REDIRECT of TCP to 15001 (conntrack on) before meshdns starts")
	p.StartMeshdns(t, podObjects(t), "--queues=2")

	// Prove conntrack is live: a UDP flow to a non-DNS port is tracked.
	probe := udpProbe(t, p.Topo.Pod, "198.18.0.1:9")
	d := 3 * prof.steady
	if prof.long {
		d = 60 * time.Second
	}
	l := startLoad(t, p, prof, d, 0)
	rec.zero = l.begin
	var maxTotal, maxDNS, samples int
	for time.Since(l.begin) < d {
		total, dns := conntrackCount(t, p)
		maxTotal, maxDNS = max(maxTotal, total), max(maxDNS, dns)
		samples++
		time.Sleep(250 * time.Millisecond)
	}
	res := l.wait(t)
	rec.load(res)
	total := res.Summary()

	// Control: without meshdns (rules removed on SIGTERM) the same kind
	// of queries are tracked.
	if _, err := p.Meshdns.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		p.Dig(t, "www.example.org", "A")
	}
	_, controlDNS := conntrackCount(t, p)

	rec.figure("conntrack samples during the load", "%d, every 250 ms: at most %d entries in all (the probe flow), %d for port 53", samples, maxTotal, maxDNS)
	rec.figure("control: DNS entries after 10 queries with meshdns stopped", "%d", controlDNS)
	rec.check(probe, "conntrack active in the pod namespace (a UDP probe flow is tracked)", "")
	rec.check(maxDNS == 0, "no DNS conntrack entry under load", "at most %d", maxDNS)
	rec.check(controlDNS >= 10, "control: without meshdns's NOTRACK the queries are tracked", "%d entries", controlDNS)
	rec.check(total.Lost == 0 && total.Wrong == 0, "no query lost or wrong", "%d lost, %d wrong of %d", total.Lost, total.Wrong, total.Sent)
	rec.check(total.Latency.P999 < 500_000 && total.Latency.Max < 2_000_000, "no 5 s stall: p99.9 below 500 ms", "p99.9 %.1f ms, max %.1f ms",
		total.Latency.P999/1000, total.Latency.Max/1000)
	rec.noCrashSigns("meshdns", p.Meshdns.Logs())
}

// udpProbe sends one datagram from the pod to addr and reports whether
// conntrack then holds an entry for it.
func udpProbe(t *testing.T, ns, addr string) bool {
	t.Helper()
	c, err := netns.Dial(context.Background(), ns, "udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("probe")); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	out, _ := netns.Command(context.Background(), ns, "conntrack", "-L", "-p", "udp", "--dport", port).CombinedOutput()
	return strings.Contains(string(out), "dport="+port)
}

// conntrackCount returns the number of conntrack entries in the pod
// namespace (conntrack -C) and how many of them are DNS (port 53).
func conntrackCount(t *testing.T, p *podtest.Pod) (total, dns int) {
	t.Helper()
	out, err := p.Exec("conntrack", "-C")
	if err != nil {
		t.Fatal(err)
	}
	total, err = strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("conntrack -C: %q", out)
	}
	list, _ := p.Exec("conntrack", "-L")
	for _, l := range strings.Split(list, "\n") {
		if strings.Contains(l, "dport=53 ") || strings.Contains(l, "sport=53 ") {
			dns++
		}
	}
	return total, dns
}
