package contender

import (
	"net/netip"
	"strings"
	"testing"
)

func TestIstioRules(t *testing.T) {
	ns := []netip.Addr{netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("fd53::1")}
	v4, v6 := IstioRules(ns, 1337, 15053)
	for _, want := range []string{
		"-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN\n",
		"-A ISTIO_OUTPUT_DNS -p udp --dport 53 -d 198.18.0.1/32 -j REDIRECT --to-ports 15053\n",
		"-A ISTIO_OUTPUT_DNS -p tcp --dport 53 -d 198.18.0.1/32 -j REDIRECT --to-ports 15053\n",
		"-A ISTIO_OUTPUT_DNS -p udp --dport 53 -m owner --uid-owner 1337 -j CT --zone 1\n",
		"-A ISTIO_INBOUND -p udp --sport 53 -s 198.18.0.1/32 -j CT --zone 1\n",
	} {
		if !strings.Contains(v4, want) {
			t.Errorf("v4 rules lack %q:\n%s", want, v4)
		}
	}
	if strings.Contains(v4, "fd53") || strings.Contains(v6, "198.18") {
		t.Error("families mixed")
	}
	if !strings.Contains(v6, "-d fd53::1/128 -j REDIRECT --to-ports 15053") {
		t.Errorf("v6 rules:\n%s", v6)
	}
	// The uid exemption must come before the jump to the redirects.
	if strings.Index(v4, "--uid-owner 1337 -j RETURN") > strings.Index(v4, "-A ISTIO_OUTPUT -j ISTIO_OUTPUT_DNS") {
		t.Error("uid RETURN after the DNS jump")
	}
	v4only, v6none := IstioRules(ns[:1], 1337, 15053)
	if strings.Contains(v6none, "REDIRECT") || !strings.Contains(v4only, "REDIRECT") {
		t.Error("v6 redirect without a v6 nameserver")
	}
}

func TestCounterRules(t *testing.T) {
	r := CounterRules()
	if !strings.HasPrefix(r, "*filter\n") || !strings.HasSuffix(r, "COMMIT\n") || !strings.Contains(r, "-p udp --dport 53\n") ||
		!strings.Contains(r, "-p tcp --dport 53 --tcp-flags PSH PSH\n") {
		t.Errorf("counter rules:\n%s", r)
	}
}

func TestParseCounts(t *testing.T) {
	out := `Chain BENCH_UPSTREAM_QUERIES (1 references)
    pkts      bytes target     prot opt in     out     source               destination
  123456  7890123            udp  --  *      *       0.0.0.0/0            0.0.0.0/0            udp dpt:53
       7      420            tcp  --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:53 flags:0x12/0x02
      19     1200            tcp  --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:53 flags:0x08/0x08
`
	c, err := ParseCounts([]byte(out))
	if err != nil || c.UDP != 123456 || c.TCPConns != 7 || c.TCPQueries != 19 || c.Queries() != 123475 {
		t.Errorf("ParseCounts = %+v, %v", c, err)
	}
	if _, err := ParseCounts([]byte("Chain X\n")); err == nil {
		t.Error("no counters accepted")
	}
	if d := (Counts{10, 3, 5}).Sub(Counts{4, 1, 2}); d != (Counts{6, 2, 3}) {
		t.Errorf("Sub = %+v", d)
	}
}

func FuzzParseCounts(f *testing.F) {
	f.Add([]byte("  5 10 udp -- * * 0/0 0/0 udp dpt:53\n"))
	f.Add([]byte("x y z w dpt:53"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCounts(b)
		if err != nil && (c != Counts{}) {
			t.Errorf("error with counts %+v", c)
		}
	})
}
