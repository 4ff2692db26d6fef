package e2e_test

// The name semantics of README.md through the kernel path: a running meshdns
// in a pod namespace queried with dig (against names.zone), the Go
// resolver and glibc.

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/meshdns/meshdns/internal/lookupout"
	"github.com/meshdns/meshdns/internal/podtest"
	"github.com/miekg/dns"
)

// TestKernelNames queries every case of names.zone with dig in the pod and
// compares the whole response: status, flags, the three sections, and that
// nothing reached the upstream.
func TestKernelNames(t *testing.T) {
	t.Parallel()
	cases, err := readGolden(namesFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 40 {
		t.Fatalf("%s: only %d cases", namesFile, len(cases))
	}
	p := startPod(t, podtest.Config{})
	for _, c := range cases {
		t.Run(c.name(), func(t *testing.T) {
			t.Parallel()
			d := p.Dig(t, c.args...)
			if d.Status != c.status {
				t.Errorf("status %s, want %s", d.Status, c.status)
			}
			if got, want := sortedFlags(d.Flags), sortedFlags(c.flags); !slices.Equal(got, want) {
				t.Errorf("flags %v, want %v", d.Flags, c.flags)
			}
			for _, s := range []struct {
				name      string
				got, want []dns.RR
			}{
				{"answer", d.Answer, c.answer},
				{"authority", d.Authority, c.authority},
				{"additional", d.Additional, c.additional},
			} {
				if got, want := normalized(s.got), normalized(s.want); !slices.Equal(got, want) {
					t.Errorf("%s section:\n got: %s\nwant: %s", s.name, strings.Join(got, "\n      "), strings.Join(want, "\n      "))
				}
			}
			if n := p.UpstreamCount(d.QName, 0); n != 0 {
				t.Errorf("%d queries for %s reached the upstream, want 0", n, d.QName)
			}
			if t.Failed() {
				t.Logf("%s:%d\n%s", namesFile, c.line, d.Raw)
			}
		})
	}
}

func sortedFlags(f []string) []string {
	f = slices.Clone(f)
	slices.Sort(f)
	return f
}

// TestKernelNamesGoResolver resolves mesh names of every kind with Go's
// own resolver in the pod, through the pod's search list, and checks that
// none of its queries (search expansions included) left the pod.
func TestKernelNamesGoResolver(t *testing.T) {
	t.Parallel()
	p := startPod(t, podtest.Config{})
	hosts := []struct {
		op, name string
		want     []string
	}{
		{podtest.OpHost, "api.shop", sorted("10.96.0.20", "fd00:96::20")},
		{podtest.OpIP6, "api.shop.svc", sorted("fd00:96::20")},
		{podtest.OpIP4, "web", sorted("10.96.0.10")},
		{podtest.OpHost, "db.shop", sorted("10.244.1.10", "10.244.2.12", "fd00:244::10")},
		{podtest.OpHost, "db-0.db.shop", sorted("10.244.1.10", "fd00:244::10")},
		{podtest.OpHost, "10-244-2-12.db.shop.svc.cluster.local", sorted("10.244.2.12")},
		{podtest.OpHost, "peer-0.peers.shop", sorted("10.244.7.1")},
		{podtest.OpHost, "payments.example.com", sorted("10.120.4.20", "fd00:120::4:20")},
		{podtest.OpHost, "foo.internal.example.com", sorted("10.120.8.1")},
		{podtest.OpHost, "legacy.example.net", sorted("240.240.242.83", "2001:2::f253")},
		{podtest.OpHost, "allocated.example.org.", sorted("240.240.0.5", "2001:2::5")},
		{podtest.OpHost, "10-244-1-5.default.pod.cluster.local", sorted("10.244.1.5")},
	}
	for _, h := range hosts {
		r := p.GoLookup(t, h.op, h.name)
		if r.Err != "" || !slices.Equal(r.Addrs, h.want) {
			t.Errorf("Go %s %q = %v, %q; want %v", h.op, h.name, r.Addrs, r.Err, h.want)
		}
	}

	if r := p.GoLookup(t, podtest.OpSRV, "_postgres._tcp.db.shop.svc.cluster.local"); r.Err != "" ||
		!slices.Equal(srvTargets(r.SRV), []string{"10-244-2-12.db.shop.svc.cluster.local.:5432", "db-0.db.shop.svc.cluster.local.:5432"}) {
		t.Errorf("Go LookupSRV(_postgres._tcp.db.shop) = %+v, %q", r.SRV, r.Err)
	}
	if r := p.GoLookup(t, podtest.OpSRV, "_http._tcp.web.default.svc.cluster.local"); r.Err != "" ||
		!slices.Equal(r.SRV, []podtest.SRV{{Target: "web.default.svc.cluster.local.", Port: 80, Priority: 0, Weight: 100}}) {
		t.Errorf("Go LookupSRV(_http._tcp.web) = %+v, %q", r.SRV, r.Err)
	}
	for addr, want := range map[string]string{
		"10.96.0.20":   "api.shop.svc.cluster.local.",
		"fd00:96::20":  "api.shop.svc.cluster.local.",
		"10.244.1.10":  "db-0.db.shop.svc.cluster.local.",
		"fd00:244::10": "db-0.db.shop.svc.cluster.local.",
	} {
		if r := p.GoLookup(t, podtest.OpAddr, addr); r.Err != "" || !slices.Equal(r.Names, []string{want}) {
			t.Errorf("Go LookupAddr(%s) = %v, %q; want %s", addr, r.Names, r.Err, want)
		}
	}
	if r := p.GoLookup(t, podtest.OpTXT, "dns-version.cluster.local."); r.Err != "" || !slices.Equal(r.TXT, []string{"1.1.0"}) {
		t.Errorf("Go LookupTXT(dns-version) = %v, %q", r.TXT, r.Err)
	}
	if n := p.Upstream.Totals().All(); n != 0 {
		t.Errorf("%d queries reached the upstream, want 0: %v", n, p.Upstream.Counts())
	}
	// Names that cannot exist: not found. Every expansion under the
	// cluster domain is decided in the pod; only the name as given (when
	// it is outside, as "empty.shop.") goes to the upstream.
	for _, name := range []string{"empty.shop", "db-1.db.shop", "nope", "x.cluster.local"} {
		if r := p.GoLookup(t, podtest.OpHost, name); !r.NotFound {
			t.Errorf("Go LookupHost(%q) = %v, %q; want not found", name, r.Addrs, r.Err)
		}
	}
	wantNoClusterQueries(t, p)
	for _, name := range []string{"empty.shop.", "nope."} {
		if p.UpstreamCount(name, 0) == 0 {
			t.Errorf("the name as given, %s, never reached the upstream", name)
		}
	}
}

func srvTargets(srvs []podtest.SRV) []string {
	var out []string
	for _, s := range srvs {
		out = append(out, s.Target+":"+strconv.Itoa(int(s.Port)))
	}
	slices.Sort(out)
	return out
}

// TestKernelTruncation: the A answer of a headless service with 100
// endpoints does not fit 512 bytes. Without EDNS meshdns answers in the pod
// with TC set; each client then retries over TCP and gets all 100, from
// whoever answers TCP (the upstream for now; meshdns once it answers TCP).
func TestKernelTruncation(t *testing.T) {
	t.Parallel()
	p := startPod(t, podtest.Config{})
	const name = "big.default.svc.cluster.local"
	all := sorted(bigAddrs()...)

	d := p.Dig(t, "+noedns", "+ignore", name, "A")
	if !d.Flag("tc") || d.Status != "NOERROR" || d.Proto != "UDP" {
		t.Fatalf("UDP without EDNS: %s flags %v over %s, want NOERROR with tc\n%s", d.Status, d.Flags, d.Proto, d.Raw)
	}
	wantLocal(t, p, d)
	if d.EDNS {
		t.Errorf("response has OPT, the query had none")
	}
	got := answerAddrs(t, d.Answer)
	if len(got) >= len(all) {
		t.Errorf("truncated answer holds %d records, want fewer than %d", len(got), len(all))
	}
	for _, a := range got {
		if !slices.Contains(all, a) {
			t.Errorf("truncated answer holds %s, not an endpoint of big", a)
		}
	}

	// With EDNS (dig's 1232 bytes) 100 records do not fit either.
	if d := p.Dig(t, "+ignore", name, "A"); !d.Flag("tc") || d.UDPSize != 1232 {
		t.Errorf("UDP with EDNS 1232: flags %v udp %d, want tc and 1232", d.Flags, d.UDPSize)
	}

	// The clients' TCP retry.
	d = p.Dig(t, "+noedns", name, "A")
	if !d.Retried || d.Proto != "TCP" {
		t.Errorf("dig did not retry over TCP (retried %v, proto %s)", d.Retried, d.Proto)
	}
	if d.Status != "NOERROR" || !slices.Equal(answerAddrs(t, d.Answer), all) {
		t.Errorf("dig TCP retry: %s with %d addresses, want all %d", d.Status, len(d.Answer), len(all))
	}
	t.Logf("TCP retry answered by %s", responder(d))

	r := p.GoLookup(t, podtest.OpHost, "big")
	if r.Err != "" || !slices.Equal(r.Addrs, all) {
		t.Errorf("Go LookupHost(big): %d addresses, %q; want all %d", len(r.Addrs), r.Err, len(all))
	}
	g, err := p.Getent("ahostsv4", "big")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(addrStrings(g.Addrs), all) {
		t.Errorf("getent ahostsv4 big: %d addresses, want all %d\n%s", len(g.Addrs), len(all), g.Raw)
	}
}

// responder says who answered a dig query, for the log.
func responder(d lookupout.Dig) string {
	if d.Flag("aa") {
		return "meshdns (aa)"
	}
	return "the upstream"
}

// TestKernelMessage: 0x20 case kept, EDNS echoed and capped, DO echoed, no
// OPT without EDNS, several addresses rotated between queries.
func TestKernelMessage(t *testing.T) {
	t.Parallel()
	p := startPod(t, podtest.Config{})

	d := p.Dig(t, "WeB.DeFault.svc.CLUSTER.local", "A")
	if d.QName != "WeB.DeFault.svc.CLUSTER.local." {
		t.Errorf("question %q, want the query's case kept", d.QName)
	}
	if len(d.Answer) != 1 || d.Answer[0].Header().Name != "WeB.DeFault.svc.CLUSTER.local." {
		t.Errorf("answer %v, want owned by the name as queried", d.Answer)
	}
	wantLocal(t, p, d)

	if d := p.Dig(t, "+bufsize=4096", "+dnssec", "web.default.svc.cluster.local", "A"); !d.EDNS || d.UDPSize != 1232 || !d.DO {
		t.Errorf("query with EDNS 4096 and DO: response EDNS %v udp %d DO %v, want OPT with 1232 (--edns-size) and DO", d.EDNS, d.UDPSize, d.DO)
	}
	if d := p.Dig(t, "+bufsize=800", "web.default.svc.cluster.local", "A"); d.UDPSize != 800 || d.DO {
		t.Errorf("query with EDNS 800: response udp %d DO %v, want 800 and no DO", d.UDPSize, d.DO)
	}
	if d := p.Dig(t, "+noedns", "web.default.svc.cluster.local", "A"); d.EDNS {
		t.Errorf("query without EDNS: response has OPT")
	}
	if d := p.Dig(t, "+ednsopt=65001:abcd", "web.default.svc.cluster.local", "A"); d.Status != "NOERROR" || len(d.Answer) != 1 {
		t.Errorf("unknown EDNS option: %s %v, want it ignored", d.Status, d.Answer)
	}

	firsts := map[string]bool{}
	for range 16 {
		d := p.Dig(t, "db.shop.svc.cluster.local", "A")
		if len(d.Answer) != 2 {
			t.Fatalf("db A: %v", d.Answer)
		}
		firsts[d.Answer[0].(*dns.A).A.String()] = true
	}
	if len(firsts) != 2 {
		t.Errorf("16 queries for db always had %v first: not rotated", firsts)
	}
}

// TestKernelPassThrough: what the mesh does not own reaches the upstream
// untouched (no aa, the upstream's answer).
func TestKernelPassThrough(t *testing.T) {
	t.Parallel()
	p := startPod(t, podtest.Config{})
	for _, args := range [][]string{
		{"-x", "10.1.2.3"},             // reverse of an address the mesh does not own
		{"-x", "10.244.1.11"},          // reverse of a not-ready endpoint
		{"payments.example.com", "MX"}, // ServiceEntry host, not an address type
		{"internal.example.com", "A"},  // the apex below a wildcard is not covered
		{"www.example.org", "AAAA"},    // external
		{"api.github.com", "A"},        // external
	} {
		d := p.Dig(t, args...)
		wantUpstream(t, p, d)
	}
	if d := p.Dig(t, "api.github.com", "A"); !slices.Equal(answerAddrs(t, d.Answer), sorted("198.19.0.12")) {
		t.Errorf("api.github.com: %s %v", d.Status, d.Answer)
	}
}

// TestKernelOptionsOff: --pod-records=disabled answers NXDOMAIN under
// pod.<zone>; --auto-allocate=false gives hosts without addresses no VIP,
// so their queries go upstream.
func TestKernelOptionsOff(t *testing.T) {
	t.Parallel()
	p := startPod(t, podtest.Config{Args: []string{"--pod-records=disabled", "--auto-allocate=false"}})
	d := p.Dig(t, "10-244-1-5.default.pod.cluster.local", "A")
	if d.Status != "NXDOMAIN" || len(d.Answer) != 0 || len(d.Authority) != 1 || d.Authority[0].Header().Rrtype != dns.TypeSOA {
		t.Errorf("pod record disabled: %s %v %v, want NXDOMAIN with the SOA\n%s", d.Status, d.Answer, d.Authority, d.Raw)
	}
	wantLocal(t, p, d)
	d = p.Dig(t, "legacy.example.net", "A")
	wantUpstream(t, p, d)
	// Addresses from spec.addresses are not allocations: still answered.
	d = p.Dig(t, "payments.example.com", "A")
	if !slices.Equal(answerAddrs(t, d.Answer), sorted("10.120.4.20")) {
		t.Errorf("payments with --auto-allocate=false: %s %v", d.Status, d.Answer)
	}
	wantLocal(t, p, d)
}

// TestKernelExternalNameStubResolvers: an ExternalName service resolves
// for the stub resolvers applications use. They do not chase a CNAME
// themselves: a cluster DNS (CoreDNS's kubernetes plugin) answers A/AAAA
// with the CNAME and the target's addresses, which it looks up upstream.
func TestKernelExternalNameStubResolvers(t *testing.T) {
	t.Parallel()
	p := startPod(t, podtest.Config{})
	want := sorted("198.19.0.10", "fd53:19::10") // www.example.org, at the upstream
	g, err := p.Getent("ahosts", "ext")
	if err != nil {
		t.Fatal(err)
	}
	if !g.Found || !slices.Equal(addrStrings(g.Addrs), want) {
		t.Errorf("glibc getent ahosts ext: found=%v %v, want %v (the addresses of www.example.org)", g.Found, g.Addrs, want)
	}
	if r := p.GoLookup(t, podtest.OpHost, "ext"); !slices.Equal(r.Addrs, want) {
		t.Errorf("Go LookupHost(ext) = %v, %q; want %v", r.Addrs, r.Err, want)
	}
	if r := p.GoLookup(t, podtest.OpCNAME, "ext"); r.CNAME != "www.example.org." {
		t.Errorf("Go LookupCNAME(ext) = %q, %q; want www.example.org.", r.CNAME, r.Err)
	}
	if t.Failed() {
		d := p.Dig(t, "ext.default.svc.cluster.local", "A")
		t.Logf("what the pod gets for ext A (upstream saw %v):\n%s", p.Upstream.Counts(), d.Raw)
	}
}
