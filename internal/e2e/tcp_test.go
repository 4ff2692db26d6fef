package e2e_test

// DNS over TCP answered in place (README.md "DNS over TCP"): meshdns takes every TCP flow
// to the nameserver over at its SYN, answers mesh names by rewriting the
// client's segments, and forwards other names over its own marked
// sockets. These tests need `meshdns run` with the TCP flags (--tcp,
// --tcp-key-file, --tcp-idle-timeout, --tcp-max-flows).

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/podtest"
	"github.com/miekg/dns"
)

// tcpArgs are the meshdns flags of these tests: a key file of the test's
// own.
func tcpArgs(t *testing.T, extra ...string) []string {
	return append([]string{"--tcp=on", "--tcp-key-file", filepath.Join(t.TempDir(), "tcp.key")}, extra...)
}

// dnsConn is a DNS-over-TCP client connection from inside the pod.
type dnsConn struct {
	t *testing.T
	c net.Conn
}

func dialDNS(t *testing.T, p *podtest.Pod, server string) *dnsConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	c, err := netns.Dial(ctx, p.Topo.Pod, "tcp", server)
	if err != nil {
		t.Fatalf("connecting to %s from the pod: %v", server, err)
	}
	t.Cleanup(func() { c.Close() })
	return &dnsConn{t: t, c: c}
}

func packQuery(t *testing.T, name string, qtype, id uint16) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.Id = id
	m.RecursionDesired = true
	w, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(w))), w...)
}

func (d *dnsConn) write(b []byte) error {
	d.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := d.c.Write(b)
	return err
}

// read reads one answer (5 s at most).
func (d *dnsConn) read() (*dns.Msg, int, error) {
	d.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var l [2]byte
	if _, err := io.ReadFull(d.c, l[:]); err != nil {
		return nil, 0, err
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(d.c, b); err != nil {
		return nil, 0, err
	}
	m := new(dns.Msg)
	return m, len(b), m.Unpack(b)
}

// ask sends a query and reads its answer.
func (d *dnsConn) ask(name string, qtype, id uint16) (*dns.Msg, error) {
	if err := d.write(packQuery(d.t, name, qtype, id)); err != nil {
		return nil, err
	}
	m, _, err := d.read()
	if err == nil && m.Id != id {
		err = fmt.Errorf("answer id %d, want %d", m.Id, id)
	}
	return m, err
}

// fromMesh reports whether m is meshdns's answer: authoritative, meshdns's
// TTL.
func fromMesh(m *dns.Msg) bool {
	if !m.Authoritative || len(m.Answer) == 0 {
		return false
	}
	for _, rr := range m.Answer {
		if rr.Header().Ttl != meshTTL {
			return false
		}
	}
	return true
}

// TestKernelTCP: dig +tcp for mesh and external names, dig +keepopen with
// several queries, pipelined and split queries and a truncated UDP answer
// retried over TCP, many parallel connections; the upstream never sees a
// TCP segment for a mesh name.
func TestKernelTCP(t *testing.T) {
	t.Parallel()
	p := startPod(t, podtest.Config{Args: tcpArgs(t)})

	t.Run("dig +tcp mesh name answered in the pod", func(t *testing.T) {
		before := p.Upstream.Totals()
		d := p.Dig(t, "+tcp", "web.default.svc.cluster.local", "A")
		if d.Proto != "TCP" || d.Status != "NOERROR" || !equal(answerAddrs(t, d.Answer), sorted("10.96.0.10")) {
			t.Fatalf("got %s over %s %v\n%s", d.Status, d.Proto, d.Answer, d.Raw)
		}
		wantLocal(t, p, d)
		if after := p.Upstream.Totals(); after != before {
			t.Errorf("the upstream saw queries: %+v -> %+v", before, after)
		}
		d = p.Dig(t, "+tcp", "nope.default.svc.cluster.local", "A")
		if d.Status != "NXDOMAIN" || !d.Flag("aa") {
			t.Errorf("nope: %s aa=%v, want NXDOMAIN from meshdns", d.Status, d.Flag("aa"))
		}
	})

	t.Run("dig +tcp external name forwarded", func(t *testing.T) {
		d := p.Dig(t, "+tcp", "www.example.org", "A")
		if d.Proto != "TCP" || d.Status != "NOERROR" || !equal(answerAddrs(t, d.Answer), sorted("198.19.0.10")) {
			t.Fatalf("got %s over %s %v\n%s", d.Status, d.Proto, d.Answer, d.Raw)
		}
		wantUpstream(t, p, d)
	})

	t.Run("dig +tcp +keepopen several queries on one connection", func(t *testing.T) {
		out, err := p.Exec("dig", "+tcp", "+keepopen", "+tries=1", "+time=5", "+noall", "+answer",
			"web.default.svc.cluster.local", "A", "api.shop.svc.cluster.local", "AAAA",
			"www.example.org", "A", "api.shop.svc.cluster.local", "A")
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		out = strings.Join(strings.Fields(out), " ")
		for _, want := range []string{
			"web.default.svc.cluster.local. 30 IN A 10.96.0.10",
			"api.shop.svc.cluster.local. 30 IN AAAA fd00:96::20",
			"www.example.org. 7 IN A 198.19.0.10",
			"api.shop.svc.cluster.local. 30 IN A 10.96.0.20",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("missing %q in\n%s", want, out)
			}
		}
	})

	t.Run("Go client: pipelined and split queries", func(t *testing.T) {
		c := dialDNS(t, p, "198.18.0.1:53")
		// Three queries in one write, a forwarded one among them: answers
		// may come in any order (RFC 7766).
		var b []byte
		b = append(b, packQuery(t, "web.default.svc.cluster.local", dns.TypeA, 1)...)
		b = append(b, packQuery(t, "www.example.org", dns.TypeA, 2)...)
		b = append(b, packQuery(t, "api.shop.svc.cluster.local", dns.TypeAAAA, 3)...)
		if err := c.write(b); err != nil {
			t.Fatal(err)
		}
		got := map[uint16]*dns.Msg{}
		for range 3 {
			m, _, err := c.read()
			if err != nil {
				t.Fatal(err)
			}
			got[m.Id] = m
		}
		if m := got[1]; m == nil || !fromMesh(m) || answerAddrs(t, m.Answer)[0] != "10.96.0.10" {
			t.Errorf("answer 1: %v", m)
		}
		if m := got[2]; m == nil || m.Authoritative || len(m.Answer) != 1 || m.Answer[0].Header().Ttl != upstreamTTL {
			t.Errorf("answer 2 (forwarded): %v", m)
		}
		if m := got[3]; m == nil || !fromMesh(m) {
			t.Errorf("answer 3: %v", m)
		}
		// One query in two segments (Go sets TCP_NODELAY: two writes, two
		// segments), even its length prefix split.
		for _, cut := range []int{1, 9} {
			q := packQuery(t, "web.default.svc.cluster.local", dns.TypeA, uint16(10+cut))
			if err := c.write(q[:cut]); err != nil {
				t.Fatal(err)
			}
			if err := c.write(q[cut:]); err != nil {
				t.Fatal(err)
			}
			m, _, err := c.read()
			if err != nil || m.Id != uint16(10+cut) || !fromMesh(m) {
				t.Fatalf("split at %d: %v %v", cut, m, err)
			}
		}
	})

	t.Run("truncated UDP answer retried over TCP, answered in place", func(t *testing.T) {
		before := p.UpstreamCount("big.default.svc.cluster.local.", 0)
		d := p.Dig(t, "big.default.svc.cluster.local", "A")
		if !d.Retried || d.Proto != "TCP" || len(d.Answer) != 100 {
			t.Fatalf("retried %v over %s, %d records\n%s", d.Retried, d.Proto, len(d.Answer), d.Raw)
		}
		if !d.Flag("aa") || p.UpstreamCount("big.default.svc.cluster.local.", 0) != before {
			t.Errorf("not answered in the pod: aa=%v, upstream count %d -> %d", d.Flag("aa"), before,
				p.UpstreamCount("big.default.svc.cluster.local.", 0))
		}
	})

	t.Run("many parallel connections", func(t *testing.T) {
		const conns = 200
		var wg sync.WaitGroup
		errs := make(chan error, conns)
		for i := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				defer cancel()
				c, err := netns.Dial(ctx, p.Topo.Pod, "tcp", "198.18.0.1:53")
				if err != nil {
					errs <- err
					return
				}
				defer c.Close()
				d := &dnsConn{t: t, c: c}
				for j := range 3 {
					name := "web.default.svc.cluster.local"
					if (i+j)%10 == 0 {
						name = "www.example.org"
					}
					m, err := d.ask(name, dns.TypeA, uint16(i*3+j))
					if err != nil || m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
						errs <- fmt.Errorf("connection %d query %d (%s): %v %v", i, j, name, m, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		n := 0
		for err := range errs {
			if n++; n <= 5 {
				t.Error(err)
			}
		}
		if n > 0 {
			t.Errorf("%d of %d connections failed", n, conns)
		}
	})

	t.Run("no TCP segment reaches the upstream for mesh names", func(t *testing.T) {
		tcpdumpUpstream(t, p, func() {
			for _, args := range [][]string{
				{"+tcp", "web.default.svc.cluster.local", "A"},
				{"+tcp", "api.shop.svc.cluster.local", "AAAA"},
				{"big.default.svc.cluster.local", "A"}, // truncated, retried over TCP
			} {
				if d := p.Dig(t, args...); !d.Flag("aa") {
					t.Errorf("%v: not answered in the pod\n%s", args, d.Raw)
				}
			}
		}, 0)
	})
}

// tcpdumpUpstream captures TCP port 53 on the upstream's side while fn
// runs and fails t unless it saw want packets.
func tcpdumpUpstream(t *testing.T, p *podtest.Pod, fn func(), want int) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "up.pcap")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cmd := netns.Command(ctx, p.Topo.Upstream, "tcpdump", "-n", "-i", "any", "-U", "-w", file, "tcp port 53")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// tcpdump says "listening on" once it captures.
	for i := 0; !strings.Contains(stderr.String(), "listening on"); i++ {
		if i > 500 {
			t.Fatalf("tcpdump did not start: %s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	fn()
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	out, err := netns.Command(t.Context(), p.Topo.Upstream, "tcpdump", "-n", "-r", file).CombinedOutput()
	if err != nil {
		t.Fatalf("tcpdump -r: %v\n%s", err, out)
	}
	var pkts []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" && l[0] >= '0' && l[0] <= '9' { // a packet's timestamp; not tcpdump's notes
			pkts = append(pkts, l)
		}
	}
	if len(pkts) != want {
		t.Errorf("the upstream's side saw %d TCP port-53 packets, want %d:\n%s", len(pkts), want, strings.Join(pkts, "\n"))
	}
}

// TestKernelTCPLargeAnswer: a headless service with 5000 ready endpoints:
// its answer (capped at 65535 bytes, TC set) is larger than the client's
// first window and goes out in chunks; pipelined, two of them exceed 128
// KiB on one connection.
func TestKernelTCPLargeAnswer(t *testing.T) {
	t.Parallel()
	objs := filepath.Join(t.TempDir(), "objects.yaml")
	if err := os.WriteFile(objs, []byte(hugeObjects(5000)), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startPod(t, podtest.Config{Objects: objs, Args: tcpArgs(t)})
	c := dialDNS(t, p, "198.18.0.1:53")
	if err := c.write(append(packQuery(t, "huge.default.svc.cluster.local", dns.TypeA, 1),
		packQuery(t, "huge.default.svc.cluster.local", dns.TypeA, 2)...)); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		m, n, err := c.read()
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		if n < 64000 || !m.Truncated || len(m.Answer) < 3900 || !m.Authoritative {
			t.Errorf("answer %d: %d bytes, TC %v, %d records, aa %v", i, n, m.Truncated, len(m.Answer), m.Authoritative)
		}
	}
	if m, err := c.ask("web.default.svc.cluster.local", dns.TypeA, 3); err != nil || !fromMesh(m) {
		t.Errorf("after the large answers: %v %v", m, err)
	}
}

// hugeObjects is a headless service "huge" in namespace default with n
// ready IPv4 endpoints, 1000 per EndpointSlice.
func hugeObjects(n int) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: List\nitems:\n")
	b.WriteString("- apiVersion: v1\n  kind: Service\n  metadata: {name: huge, namespace: default}\n  spec: {type: ClusterIP, clusterIP: None, clusterIPs: [None]}\n")
	b.WriteString("- apiVersion: v1\n  kind: Service\n  metadata: {name: web, namespace: default}\n  spec: {type: ClusterIP, clusterIP: 10.96.0.10, clusterIPs: [10.96.0.10]}\n")
	for s := 0; s*1000 < n; s++ {
		fmt.Fprintf(&b, "- apiVersion: discovery.k8s.io/v1\n  kind: EndpointSlice\n  metadata:\n    name: huge-%d\n    namespace: default\n"+
			"    labels: {kubernetes.io/service-name: huge}\n  addressType: IPv4\n  ports: []\n  endpoints:\n", s)
		for i := s * 1000; i < min(n, (s+1)*1000); i++ {
			fmt.Fprintf(&b, "  - addresses: [10.245.%d.%d]\n    conditions: {ready: true}\n", i/250, i%250+1)
		}
	}
	return b.String()
}

// TestKernelTCPRestart: kill -9 mid-flow makes the real server reset the
// taken-over connection (the client fails fast); a flow opened by one
// meshdns is resumed by the next (same key file); a flow opened while
// meshdns was down stays with the real server.
func TestKernelTCPRestart(t *testing.T) {
	t.Parallel()
	args := tcpArgs(t)
	p := startPod(t, podtest.Config{Args: args})

	a := dialDNS(t, p, "198.18.0.1:53")
	if m, err := a.ask("web.default.svc.cluster.local", dns.TypeA, 1); err != nil || !fromMesh(m) {
		t.Fatalf("before the crash: %v %v", m, err)
	}
	if err := p.Meshdns.Kill(); err != nil {
		t.Fatal(err)
	}
	p.Meshdns.Wait(5 * time.Second)
	// The queue is bypassed: the segment reaches the real server, which
	// knows no such connection and resets it.
	if m, err := a.ask("web.default.svc.cluster.local", dns.TypeA, 2); err == nil {
		t.Fatalf("a taken-over connection went on after kill -9: %v", m)
	} else if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
		t.Errorf("after kill -9: %v, want a reset", err)
	}
	// Opened while meshdns is down: the real server's.
	down := dialDNS(t, p, "198.18.0.1:53")
	if m, err := down.ask("web.default.svc.cluster.local", dns.TypeA, 3); err != nil || m.Authoritative {
		t.Fatalf("with meshdns down: %v %v, want the upstream's answer", m, err)
	}

	p.StartMeshdns(t, objectsFile, args...)
	b := dialDNS(t, p, "198.18.0.1:53")
	if m, err := b.ask("web.default.svc.cluster.local", dns.TypeA, 4); err != nil || !fromMesh(m) {
		t.Fatalf("after the restart: %v %v", m, err)
	}
	// The real server's connection stays the real server's.
	if m, err := down.ask("web.default.svc.cluster.local", dns.TypeA, 5); err != nil || m.Authoritative {
		t.Errorf("foreign connection after the restart: %v %v, want the upstream's answer", m, err)
	}

	// Restart again, quietly (SIGTERM: rules removed and put back): the
	// next meshdns resumes b.
	if _, err := p.Meshdns.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	p.StartMeshdns(t, objectsFile, args...)
	if m, err := b.ask("web.default.svc.cluster.local", dns.TypeA, 6); err != nil || !fromMesh(m) {
		t.Fatalf("resumed after a restart: %v %v", m, err)
	}
	if m, err := b.ask("www.example.org", dns.TypeA, 7); err != nil || len(m.Answer) != 1 || m.Authoritative {
		t.Fatalf("resumed, forwarded: %v %v", m, err)
	}
}

// TestKernelTCPFirewall: with conntrack on, an INVALID-drop rule and a
// stateful INPUT policy in the pod, mesh and forwarded names (a truncated
// one too: meshdns's own TCP to the upstream) are answered over TCP, and
// no client is left in FIN-WAIT after closing.
func TestKernelTCPFirewall(t *testing.T) {
	t.Parallel()
	p := firewalledPod(t, map[string][]string{"many.example.org": manyA(120)})
	p.StartMeshdns(t, objectsFile, tcpArgs(t)...)
	for _, q := range []struct {
		name, qtype string
		local       bool
		records     int
	}{
		{"web.default.svc.cluster.local", "A", true, 1},
		{"www.example.org", "A", false, 1},
		{"many.example.org", "A", false, 120}, // the upstream's UDP answer is truncated: meshdns asks over TCP
	} {
		before := p.Upstream.Totals().TCP
		d := p.Dig(t, "+tcp", q.name, q.qtype)
		if d.Status != "NOERROR" || len(d.Answer) != q.records || d.Flag("aa") != q.local {
			t.Errorf("%s: %s, %d records, aa %v\n%s", q.name, d.Status, len(d.Answer), d.Flag("aa"), d.Raw)
		}
		if tcp := p.Upstream.Totals().TCP - before; (q.records > 100) != (tcp == 1) {
			t.Errorf("%s: %d TCP queries reached the upstream", q.name, tcp)
		}
	}
	for i := range 5 {
		c := dialDNS(t, p, "198.18.0.1:53")
		if m, err := c.ask("web.default.svc.cluster.local", dns.TypeA, uint16(i)); err != nil || !fromMesh(m) {
			t.Fatalf("Go client: %v %v", m, err)
		}
		c.c.Close()
	}
	var out string
	for range 100 { // the last ACKs are on their way
		out, _ = p.Exec("ss", "-Htan", "state", "fin-wait-1", "state", "fin-wait-2", "state", "closing", "state", "last-ack")
		if strings.TrimSpace(out) == "" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if strings.TrimSpace(out) != "" {
		t.Errorf("connections not closed cleanly:\n%s", out)
	}
}

func manyA(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("A 198.19.2.%d", i+1))
	}
	return out
}

// TestKernelTCPIPv6: the same over an IPv6 nameserver.
func TestKernelTCPIPv6(t *testing.T) {
	t.Parallel()
	p := startPod(t, podtest.Config{Args: tcpArgs(t), ResolvConf: "nameserver fd53::1\n" +
		"search default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"})
	d := p.Dig(t, "+tcp", "api.shop.svc.cluster.local", "AAAA")
	if d.Proto != "TCP" || d.Server.Addr().String() != "fd53::1" || !equal(answerAddrs(t, d.Answer), sorted("fd00:96::20")) {
		t.Fatalf("got %s from %v over %s %v\n%s", d.Status, d.Server, d.Proto, d.Answer, d.Raw)
	}
	wantLocal(t, p, d)
	d = p.Dig(t, "+tcp", "www.example.org", "AAAA")
	if !equal(answerAddrs(t, d.Answer), sorted("fd53:19::10")) {
		t.Fatalf("external: %s %v\n%s", d.Status, d.Answer, d.Raw)
	}
	wantUpstream(t, p, d)
	d = p.Dig(t, "big.default.svc.cluster.local", "A")
	if !d.Retried || len(d.Answer) != 100 || !d.Flag("aa") {
		t.Errorf("truncated, retried: %v, %d records, aa %v", d.Retried, len(d.Answer), d.Flag("aa"))
	}
	c := dialDNS(t, p, "[fd53::1]:53")
	if m, err := c.ask("web.default.svc.cluster.local", dns.TypeA, 1); err != nil || !fromMesh(m) {
		t.Errorf("Go client over IPv6: %v %v", m, err)
	}
}

// TestKernelTCPMaxFlows: past --tcp-max-flows a new connection passes
// through to the real server, and is served by it.
func TestKernelTCPMaxFlows(t *testing.T) {
	t.Parallel()
	p := startPod(t, podtest.Config{Args: tcpArgs(t, "--tcp-max-flows=1")})
	a := dialDNS(t, p, "198.18.0.1:53")
	if m, err := a.ask("web.default.svc.cluster.local", dns.TypeA, 1); err != nil || !fromMesh(m) {
		t.Fatalf("first connection: %v %v", m, err)
	}
	b := dialDNS(t, p, "198.18.0.1:53")
	if m, err := b.ask("web.default.svc.cluster.local", dns.TypeA, 2); err != nil || m.Authoritative || len(m.Answer) != 1 {
		t.Fatalf("second connection: %v %v, want the upstream's answer", m, err)
	}
	if m, err := a.ask("api.shop.svc.cluster.local", dns.TypeA, 3); err != nil || !fromMesh(m) {
		t.Fatalf("first connection again: %v %v", m, err)
	}
}
