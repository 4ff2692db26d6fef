package e2e_test

// The packet path on the real kernel: a meshdns process in a pod
// namespace, its rules, its answers to dig, glibc and the Go resolver, what
// passes through to the upstream, and what is left after it stops.

import (
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/podtest"
	"github.com/miekg/dns"
)

// glibcTimeout is glibc's default per-query timeout (resolv.conf "timeout",
// 5 s). A getaddrinfo whose A or AAAA answer is lost returns only after it;
// one that takes less than glibcWaitBound did not wait for a lost answer.
const (
	glibcTimeout   = 5 * time.Second
	glibcWaitBound = glibcTimeout - time.Second
)

// TestKernelMainFlow runs the main flow once per iptables backend: mesh
// names answered in the pod (dig, glibc, Go resolver; short name and FQDN),
// AAAA NODATA for a v4-only service without a glibc timeout, an external
// name passed through, a TCP query, and the rules gone after SIGTERM.
func TestKernelMainFlow(t *testing.T) {
	for _, backend := range []struct{ name, v4save, other string }{
		{"nft", "iptables-nft-save", "iptables-legacy-save"},
		{"legacy", "iptables-legacy-save", "iptables-nft-save"},
	} {
		t.Run(backend.name, func(t *testing.T) {
			t.Parallel()
			p := startPod(t, podtest.Config{Args: []string{"--iptables-backend", backend.name}})

			t.Run("rules installed with the backend", func(t *testing.T) {
				got := ruleLines(save(t, p, backend.v4save))
				if !strings.Contains(strings.Join(got, "\n"), "-A OUTPUT -j MESHDNS-OUTPUT") ||
					!strings.Contains(strings.Join(got, "\n"), "-d 198.18.0.1/32 -p udp -m udp --dport 53 -j NFQUEUE") {
					t.Errorf("%s: no NFQUEUE capture of 198.18.0.1 port 53:\n%s", backend.v4save, strings.Join(got, "\n"))
				}
				if other := ruleLines(save(t, p, backend.other)); len(other) > 0 {
					t.Errorf("%s: meshdns rules in the other backend too:\n%s", backend.other, strings.Join(other, "\n"))
				}
			})

			t.Run("dig mesh A answered in the pod", func(t *testing.T) {
				d := p.Dig(t, "web.default.svc.cluster.local", "A")
				if d.Status != "NOERROR" || !equal(answerAddrs(t, d.Answer), sorted("10.96.0.10")) {
					t.Fatalf("got %s %v, want NOERROR 10.96.0.10\n%s", d.Status, d.Answer, d.Raw)
				}
				if d.Server.Addr().String() != "198.18.0.1" || d.Server.Port() != 53 || d.Proto != "UDP" {
					t.Errorf("responder %v over %s, want 198.18.0.1#53 over UDP (the nameserver, as the client sees it)", d.Server, d.Proto)
				}
				wantLocal(t, p, d)
			})

			t.Run("dig AAAA of a v4-only service is NODATA", func(t *testing.T) {
				d := p.Dig(t, "web.default.svc.cluster.local", "AAAA")
				if d.Status != "NOERROR" || len(d.Answer) != 0 {
					t.Fatalf("got %s with %d answers, want NOERROR and none (NODATA)\n%s", d.Status, len(d.Answer), d.Raw)
				}
				wantLocal(t, p, d)
			})

			t.Run("glibc short name via search list, v4 only, no timeout", func(t *testing.T) {
				g, err := p.Getent("ahosts", "web")
				if err != nil {
					t.Fatal(err)
				}
				if !g.Found || !equal(addrStrings(g.Addrs), sorted("10.96.0.10")) {
					t.Fatalf("getent ahosts web: found=%v %v, want 10.96.0.10 only\n%s", g.Found, g.Addrs, g.Raw)
				}
				if len(g.Names) == 0 || g.Names[0] != "web.default.svc.cluster.local" {
					t.Errorf("canonical name %v, want web.default.svc.cluster.local", g.Names)
				}
				// glibc sends A and AAAA together; had either answer been
				// lost it would have waited for its 5 s timeout.
				if g.Took >= glibcWaitBound {
					t.Errorf("getent ahosts web took %v: glibc waited for a lost answer (its timeout is %v)", g.Took, glibcTimeout)
				}
				for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
					if n := p.UpstreamCount("web.default.svc.cluster.local", qt); n != 0 {
						t.Errorf("%d %s queries for web reached the upstream", n, dns.TypeToString[qt])
					}
				}
			})

			t.Run("glibc FQDN", func(t *testing.T) {
				g, err := p.Getent("ahosts", "web.default.svc.cluster.local.")
				if err != nil {
					t.Fatal(err)
				}
				if !g.Found || !equal(addrStrings(g.Addrs), sorted("10.96.0.10")) {
					t.Fatalf("found=%v %v, want 10.96.0.10\n%s", g.Found, g.Addrs, g.Raw)
				}
			})

			t.Run("Go resolver short name and FQDN", func(t *testing.T) {
				for _, name := range []string{"web", "web.default", "web.default.svc", "web.default.svc.cluster.local", "web.default.svc.cluster.local."} {
					r := p.GoLookup(t, podtest.OpHost, name)
					if r.Err != "" || !equal(r.Addrs, sorted("10.96.0.10")) {
						t.Errorf("Go LookupHost(%q) = %v, %q; want [10.96.0.10]", name, r.Addrs, r.Err)
					}
				}
				wantNoClusterQueries(t, p)
			})

			t.Run("external name passed through to the upstream", func(t *testing.T) {
				d := p.Dig(t, "www.example.org", "A")
				if d.Status != "NOERROR" || !equal(answerAddrs(t, d.Answer), sorted("198.19.0.10")) {
					t.Fatalf("got %s %v, want the upstream's 198.19.0.10\n%s", d.Status, d.Answer, d.Raw)
				}
				wantUpstream(t, p, d)
				g, err := p.Getent("ahosts", "www.example.org")
				if err != nil {
					t.Fatal(err)
				}
				if !equal(addrStrings(g.Addrs), sorted("198.19.0.10", "fd53:19::10")) {
					t.Errorf("getent ahosts www.example.org: %v, want the upstream's 198.19.0.10 fd53:19::10", g.Addrs)
				}
				r := p.GoLookup(t, podtest.OpHost, "www.example.org")
				if !equal(r.Addrs, sorted("198.19.0.10", "fd53:19::10")) {
					t.Errorf("Go LookupHost(www.example.org) = %v, %q", r.Addrs, r.Err)
				}
				// The search expansions (www.example.org.default.svc.cluster.local...)
				// never left the pod.
				wantNoClusterQueries(t, p)
			})

			// TCP: meshdns takes the flow over at the SYN; a mesh
			// name is answered in the pod, an external one forwarded over
			// meshdns's own sockets (UDP first), never by the client's flow.
			t.Run("TCP query answered in the pod, external name forwarded", func(t *testing.T) {
				before := p.Upstream.Totals()
				d := p.Dig(t, "+tcp", "web.default.svc.cluster.local", "A")
				if d.Proto != "TCP" {
					t.Errorf("dig used %s, want TCP", d.Proto)
				}
				if d.Status != "NOERROR" || !d.Flag("aa") || !equal(answerAddrs(t, d.Answer), sorted("10.96.0.10")) {
					t.Fatalf("got %s aa=%v %v, want NOERROR aa 10.96.0.10\n%s", d.Status, d.Flag("aa"), d.Answer, d.Raw)
				}
				if n := p.Upstream.Totals().All() - before.All(); n != 0 {
					t.Errorf("mesh name over TCP: %d queries reached the upstream, want 0", n)
				}
				before = p.Upstream.Totals()
				d = p.Dig(t, "+tcp", "www.example.org", "A")
				if d.Status != "NOERROR" || !equal(answerAddrs(t, d.Answer), sorted("198.19.0.10")) {
					t.Fatalf("+tcp www.example.org: %s %v\n%s", d.Status, d.Answer, d.Raw)
				}
				if n := p.Upstream.Totals().All() - before.All(); n == 0 {
					t.Errorf("+tcp www.example.org was answered without reaching the upstream")
				}
			})

			t.Run("rules gone after SIGTERM", func(t *testing.T) {
				st, err := p.Meshdns.Stop(15 * time.Second)
				if err != nil {
					t.Fatalf("meshdns after SIGTERM: %v", err)
				}
				if !st.Success() {
					t.Errorf("meshdns exit state %v, want status 0", st)
				}
				if _, err := p.Meshdns.WaitLog(time.Second, "rules removed"); err != nil {
					t.Error(err)
				}
				for _, tool := range []string{"iptables-nft-save", "ip6tables-nft-save", "iptables-legacy-save", "ip6tables-legacy-save"} {
					if left := ruleLines(save(t, p, tool)); len(left) > 0 {
						t.Errorf("%s after SIGTERM still shows:\n%s", tool, strings.Join(left, "\n"))
					}
				}
				// DNS works without meshdns: the upstream answers.
				d := p.Dig(t, "web.default.svc.cluster.local", "A")
				if !equal(answerAddrs(t, d.Answer), sorted("10.96.0.10")) {
					t.Fatalf("after stop: %v", d.Answer)
				}
				wantUpstream(t, p, d)
			})
		})
	}
}

// TestKernelIPv6Nameserver: a pod whose only nameserver is IPv6 (fd53::1):
// queries travel over IPv6, meshdns captures them with ip6tables and
// answers A and AAAA in place; external names pass through.
func TestKernelIPv6Nameserver(t *testing.T) {
	t.Parallel()
	p := startPod(t, podtest.Config{ResolvConf: "nameserver fd53::1\n" +
		"search default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"})

	v6 := ruleLines(save(t, p, "ip6tables-save"))
	if !strings.Contains(strings.Join(v6, "\n"), "-d fd53::1/128 -p udp -m udp --dport 53 -j NFQUEUE") {
		t.Errorf("ip6tables-save: no capture of fd53::1 port 53:\n%s", strings.Join(v6, "\n"))
	}
	for _, c := range []struct {
		qtype string
		want  []string
	}{
		{"A", sorted("10.96.0.20")},
		{"AAAA", sorted("fd00:96::20")},
	} {
		d := p.Dig(t, "api.shop.svc.cluster.local", c.qtype)
		if d.Server.Addr().String() != "fd53::1" || d.Proto != "UDP" {
			t.Errorf("responder %v over %s, want fd53::1 over UDP", d.Server, d.Proto)
		}
		if d.Status != "NOERROR" || !equal(answerAddrs(t, d.Answer), c.want) {
			t.Errorf("api %s: %s %v, want %v\n%s", c.qtype, d.Status, d.Answer, c.want, d.Raw)
		}
		wantLocal(t, p, d)
	}
	d := p.Dig(t, "web.default.svc.cluster.local", "AAAA")
	if d.Status != "NOERROR" || len(d.Answer) != 0 {
		t.Errorf("web AAAA over IPv6: %s %v, want NODATA", d.Status, d.Answer)
	}
	wantLocal(t, p, d)

	g, err := p.Getent("ahosts", "api.shop")
	if err != nil {
		t.Fatal(err)
	}
	if !equal(addrStrings(g.Addrs), sorted("10.96.0.20", "fd00:96::20")) || g.Took >= glibcWaitBound {
		t.Errorf("getent ahosts api.shop: %v in %v, want 10.96.0.20 fd00:96::20 without a timeout", g.Addrs, g.Took)
	}
	r := p.GoLookup(t, podtest.OpHost, "api.shop")
	if !equal(r.Addrs, sorted("10.96.0.20", "fd00:96::20")) {
		t.Errorf("Go LookupHost(api.shop) = %v, %q", r.Addrs, r.Err)
	}
	wantNoClusterQueries(t, p)

	d = p.Dig(t, "www.example.org", "AAAA")
	if !equal(answerAddrs(t, d.Answer), sorted("fd53:19::10")) {
		t.Errorf("www.example.org AAAA over IPv6: %s %v", d.Status, d.Answer)
	}
	wantUpstream(t, p, d)

	// SIGINT stops meshdns as SIGTERM does: rules removed.
	if err := p.Meshdns.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if st, err := p.Meshdns.Wait(15 * time.Second); err != nil || !st.Success() {
		t.Fatalf("meshdns after SIGINT: %v %v, want exit status 0", st, err)
	}
	if left := ruleLines(save(t, p, "ip6tables-save")); len(left) > 0 {
		t.Errorf("ip6tables-save after SIGINT still shows:\n%s", strings.Join(left, "\n"))
	}
}

// TestKernelKill9Bypass: after SIGKILL meshdns cannot remove its rules;
// --queue-bypass lets DNS through to the upstream while no consumer is
// bound. A new meshdns takes over the same rules without duplicating them.
func TestKernelKill9Bypass(t *testing.T) {
	t.Parallel()
	p := startPod(t, podtest.Config{})
	wantLocal(t, p, p.Dig(t, "web.default.svc.cluster.local", "A"))

	if err := p.Meshdns.Kill(); err != nil {
		t.Fatal(err)
	}
	st, _ := p.Meshdns.Wait(time.Second)
	if ws, ok := st.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("meshdns exit state %v, want killed by SIGKILL", st)
	}
	if rules := ruleLines(save(t, p, "iptables-save")); len(rules) == 0 {
		t.Fatal("no meshdns rules after kill -9: the bypass is not being tested")
	}

	d := p.Dig(t, "web.default.svc.cluster.local", "A")
	if d.Status != "NOERROR" || !equal(answerAddrs(t, d.Answer), sorted("10.96.0.10")) {
		t.Fatalf("with meshdns killed: %s %v, want the upstream's answer\n%s", d.Status, d.Answer, d.Raw)
	}
	wantUpstream(t, p, d)
	g, err := p.Getent("ahosts", "web")
	if err != nil || !equal(addrStrings(g.Addrs), sorted("10.96.0.10")) {
		t.Errorf("getent ahosts web with meshdns killed: %v %v", g.Addrs, err)
	}
	r := p.GoLookup(t, podtest.OpHost, "www.example.org")
	if !equal(r.Addrs, sorted("198.19.0.10", "fd53:19::10")) {
		t.Errorf("Go LookupHost(www.example.org) with meshdns killed: %v %q", r.Addrs, r.Err)
	}
	if d := p.Dig(t, "+tcp", "api.shop.svc.cluster.local", "AAAA"); !equal(answerAddrs(t, d.Answer), sorted("fd00:96::20")) {
		t.Errorf("TCP with meshdns killed: %s %v", d.Status, d.Answer)
	}

	// A new meshdns converges on the rules left behind and answers again.
	p.StartMeshdns(t, objectsFile)
	saved := save(t, p, "iptables-save")
	if n := strings.Count(saved, "-A OUTPUT -j MESHDNS-OUTPUT"); n != 1 {
		t.Errorf("after restart, %d jumps to MESHDNS-OUTPUT, want 1:\n%s", n, strings.Join(ruleLines(saved), "\n"))
	}
	before := p.UpstreamCount("api.shop.svc.cluster.local", dns.TypeA)
	d = p.Dig(t, "api.shop.svc.cluster.local", "A")
	if !d.Flag("aa") || !equal(answerAddrs(t, d.Answer), sorted("10.96.0.20")) || p.UpstreamCount("api.shop.svc.cluster.local", dns.TypeA) != before {
		t.Errorf("after restart: %s %v flags %v, want meshdns's answer\n%s", d.Status, d.Answer, d.Flags, d.Raw)
	}
}

// Istio-like sidecar rules: every outbound TCP connection is redirected to
// a local proxy port, except the proxy's own (uid 1337). A nat rule turns
// conntrack on in the namespace.
const sidecarRules = `*nat
:ISTIO_OUTPUT - [0:0]
-A OUTPUT -p tcp -j ISTIO_OUTPUT
-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN
-A ISTIO_OUTPUT -p tcp -j REDIRECT --to-ports 15001
COMMIT
`

// TestKernelConntrackWithSidecarNAT: with a mesh sidecar's nat rules keeping
// conntrack active in the pod namespace, DNS to the nameserver (answered in
// place or passed through) leaves no conntrack entry, and answers stay
// right.
func TestKernelConntrackWithSidecarNAT(t *testing.T) {
	t.Parallel()
	p := startPod(t, podtest.Config{NoMeshdns: true})
	cmd := p.Command(t.Context(), "iptables-restore", "--noflush")
	cmd.Stdin = strings.NewReader(sidecarRules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("iptables-restore: %v\n%s", err, out)
	}
	p.StartMeshdns(t, objectsFile)

	// A "sidecar proxy" on 15001 and an outbound connection it captures:
	// a tracked, NATed TCP entry proves conntrack is on in the namespace.
	ln, err := netns.ListenTCP(p.Topo.Pod, "tcp4", "127.0.0.1:15001")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	conn, err := netns.Dial(t.Context(), p.Topo.Pod, "tcp4", "198.18.0.1:80")
	if err != nil {
		t.Fatalf("outbound TCP through the sidecar redirect: %v", err)
	}
	defer conn.Close()
	select {
	case c := <-accepted:
		defer c.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("the sidecar listener never got the redirected connection")
	}
	// And a UDP flow that no meshdns rule touches (port 5300): tracked.
	uc, err := netns.Dial(t.Context(), p.Topo.Pod, "udp4", "198.18.0.1:5300")
	if err != nil {
		t.Fatal(err)
	}
	uc.Write([]byte("x"))
	uc.Close()

	// DNS: mesh names answered in place, external names passed through,
	// with dig, glibc (A and AAAA on one socket) and the Go resolver.
	for range 3 {
		d := p.Dig(t, "web.default.svc.cluster.local", "A")
		if !equal(answerAddrs(t, d.Answer), sorted("10.96.0.10")) {
			t.Errorf("web A with sidecar rules: %s %v", d.Status, d.Answer)
		}
		wantLocal(t, p, d)
	}
	if d := p.Dig(t, "www.example.org", "A"); !equal(answerAddrs(t, d.Answer), sorted("198.19.0.10")) {
		t.Errorf("www.example.org with sidecar rules: %s %v", d.Status, d.Answer)
	}
	if g, err := p.Getent("ahosts", "api.shop"); err != nil || !equal(addrStrings(g.Addrs), sorted("10.96.0.20", "fd00:96::20")) || g.Took >= glibcWaitBound {
		t.Errorf("getent ahosts api.shop with sidecar rules: %v in %v, %v", g.Addrs, g.Took, err)
	}
	if g, err := p.Getent("ahosts", "www.example.org"); err != nil || !equal(addrStrings(g.Addrs), sorted("198.19.0.10", "fd53:19::10")) {
		t.Errorf("getent ahosts www.example.org with sidecar rules: %v, %v", g.Addrs, err)
	}
	if r := p.GoLookup(t, podtest.OpHost, "web"); !equal(r.Addrs, sorted("10.96.0.10")) {
		t.Errorf("Go LookupHost(web) with sidecar rules: %v %q", r.Addrs, r.Err)
	}

	entries := p.MustExec(t, "conntrack", "-L")
	var dnsEntries []string
	tcpProxied, udpOther := false, false
	for _, l := range strings.Split(entries, "\n") {
		switch {
		case strings.Contains(l, "port=53 "):
			dnsEntries = append(dnsEntries, l)
		case strings.HasPrefix(l, "tcp") && strings.Contains(l, "dport=80 ") && strings.Contains(l, "sport=15001 "):
			tcpProxied = true
		case strings.HasPrefix(l, "udp") && strings.Contains(l, "dport=5300 "):
			udpOther = true
		}
	}
	if !tcpProxied || !udpOther {
		t.Fatalf("conntrack is not active in the pod namespace (redirected TCP tracked: %v, UDP to 5300 tracked: %v): the test proves nothing\n%s", tcpProxied, udpOther, entries)
	}
	if len(dnsEntries) > 0 {
		t.Errorf("%d conntrack entries for DNS in the pod namespace, want 0:\n%s", len(dnsEntries), strings.Join(dnsEntries, "\n"))
	}
	// conntrack -C counts every entry: the TCP and UDP ones above only.
	if out, err := exec.Command("ip", "netns", "exec", p.Topo.Pod, "conntrack", "-C").Output(); err != nil || strings.TrimSpace(string(out)) == "" {
		t.Errorf("conntrack -C: %q %v", out, err)
	} else if n := strings.TrimSpace(string(out)); n != "2" {
		t.Errorf("conntrack -C = %s, want 2 (the proxied TCP flow and the UDP flow to 5300)\n%s", n, entries)
	}
}
