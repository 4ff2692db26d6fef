package lookupout

import (
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseDig(t *testing.T) {
	for _, c := range []struct {
		file, status, qname, qtype, server, proto string
		flags                                     []string
		answer, authority, additional             []string
		edns, do, retried                         bool
		udp                                       uint16
		queryTime                                 time.Duration
	}{
		{
			file: "dig-a.txt", status: "NOERROR", qname: "web.default.svc.cluster.local.", qtype: "A",
			server: "198.18.0.1:53", proto: "UDP", flags: []string{"qr", "aa", "rd", "ra"}, edns: true, udp: 1232,
			answer: []string{"web.default.svc.cluster.local. 30 IN A 10.96.0.10"},
		},
		{
			file: "dig-nxdomain.txt", status: "NXDOMAIN", qname: "nope.default.svc.cluster.local.", qtype: "A",
			server: "198.18.0.1:53", proto: "UDP", flags: []string{"qr", "aa", "rd", "ra"}, edns: true, udp: 1232,
			authority: []string{"cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1795703608 7200 1800 86400 5"},
		},
		{
			file: "dig-srv.txt", status: "NOERROR", qname: "_postgres._tcp.db.shop.svc.cluster.local.", qtype: "SRV",
			server: "198.18.0.1:53", proto: "UDP", flags: []string{"qr", "aa", "rd", "ra"}, edns: true, udp: 1232,
			answer: []string{
				"_postgres._tcp.db.shop.svc.cluster.local. 30 IN SRV 0 33 5432 10-244-2-12.db.shop.svc.cluster.local.",
				"_postgres._tcp.db.shop.svc.cluster.local. 30 IN SRV 0 33 5432 db-0.db.shop.svc.cluster.local.",
			},
			additional: []string{
				"10-244-2-12.db.shop.svc.cluster.local. 30 IN A 10.244.2.12",
				"db-0.db.shop.svc.cluster.local. 30 IN A 10.244.1.10",
				"db-0.db.shop.svc.cluster.local. 30 IN AAAA fd00:244::10",
			},
		},
		{
			file: "dig-tcp.txt", status: "NOERROR", qname: "WeB.default.svc.cluster.local.", qtype: "A",
			server: "198.18.0.1:53", proto: "TCP", flags: []string{"qr", "rd", "ra"}, edns: true, udp: 1232,
			answer: []string{"web.default.svc.cluster.local. 7 IN A 10.96.0.10"},
		},
		{
			file: "dig-v6.txt", status: "NOERROR", qname: "api.shop.svc.cluster.local.", qtype: "AAAA",
			// @fd53::1 is not the pod's nameserver: passed to the upstream.
			server: "[fd53::1]:53", proto: "UDP", flags: []string{"qr", "rd", "ra"}, edns: true, udp: 1232,
			answer:    []string{"api.shop.svc.cluster.local. 7 IN AAAA fd00:96::20"},
			queryTime: 11 * time.Millisecond,
		},
		{
			file: "dig-txt.txt", status: "NOERROR", qname: "dns-version.cluster.local.", qtype: "TXT",
			server: "198.18.0.1:53", proto: "UDP", flags: []string{"qr", "aa", "rd", "ra"}, edns: true, udp: 1232,
			answer: []string{`dns-version.cluster.local. 30 IN TXT "1.1.0"`},
		},
		{
			// From the demo: a CNAME to an external name, no recursion available.
			file: "dig-cname.txt", status: "NOERROR", qname: "web.default.svc.cluster.local.", qtype: "A",
			server: "198.18.0.1:53", proto: "UDP", flags: []string{"qr", "aa", "rd"}, edns: true, udp: 1232,
			answer: []string{
				"search.default.svc.cluster.local. 30 IN CNAME www.example.org.",
				"www.example.org. 7 IN A 198.19.0.10",
			},
			queryTime: 3 * time.Millisecond,
		},
		{
			// From the demo: NXDOMAIN without an authority section.
			file: "dig-nxdomain-noauth.txt", status: "NXDOMAIN", qname: "nope.example.org.", qtype: "A",
			server: "198.18.0.1:53", proto: "UDP", flags: []string{"qr", "rd", "ra"}, edns: true, udp: 1232,
		},
	} {
		t.Run(c.file, func(t *testing.T) {
			d, err := ParseDig(readTestdata(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if d.Status != c.status || d.QName != c.qname || d.QType != c.qtype || d.Server.String() != c.server || d.Proto != c.proto {
				t.Errorf("got %s %s %s from %v over %s, want %s %s %s from %s over %s",
					d.Status, d.QName, d.QType, d.Server, d.Proto, c.status, c.qname, c.qtype, c.server, c.proto)
			}
			if !slices.Equal(d.Flags, c.flags) || d.EDNS != c.edns || d.UDPSize != c.udp || d.DO != c.do || d.Retried != c.retried {
				t.Errorf("flags %v edns %v udp %d do %v retried %v, want %v %v %d %v %v",
					d.Flags, d.EDNS, d.UDPSize, d.DO, d.Retried, c.flags, c.edns, c.udp, c.do, c.retried)
			}
			if d.QueryTime != c.queryTime {
				t.Errorf("query time %v, want %v", d.QueryTime, c.queryTime)
			}
			for _, s := range []struct {
				name string
				got  []dns.RR
				want []string
			}{{"answer", d.Answer, c.answer}, {"authority", d.Authority, c.authority}, {"additional", d.Additional, c.additional}} {
				want := slices.Clone(s.want)
				slices.Sort(want)
				if got := Records(s.got, true); !slices.Equal(got, want) {
					t.Errorf("%s: got %q, want %q", s.name, got, want)
				}
			}
		})
	}
}

func TestParseDigRetry(t *testing.T) {
	d, err := ParseDig(readTestdata(t, "dig-tc-retry.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !d.Retried || d.Proto != "TCP" || len(d.Answer) != 100 || d.EDNS || d.Flag("tc") {
		t.Errorf("retried %v proto %s answers %d edns %v tc %v, want the TCP response with 100 answers",
			d.Retried, d.Proto, len(d.Answer), d.EDNS, d.Flag("tc"))
	}
}

func TestParseDigSecondResponseWins(t *testing.T) {
	first := readTestdata(t, "dig-nxdomain.txt")
	second := readTestdata(t, "dig-a.txt")
	d, err := ParseDig(first + second)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != "NOERROR" || len(d.Authority) != 0 || len(d.Answer) != 1 {
		t.Errorf("got %s answer %v authority %v, want only the second response", d.Status, d.Answer, d.Authority)
	}
}

func TestParseDigErrors(t *testing.T) {
	for name, out := range map[string]string{
		"timeout":           readTestdata(t, "dig-timeout.txt"),
		"empty":             "",
		"short answer line": ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1\n;; ANSWER SECTION:\nshort line\n",
		"bad TTL":           ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1\n;; ANSWER SECTION:\na. x IN A 1.2.3.4\n",
		"bad record":        ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1\n;; ANSWER SECTION:\nweb. 30 IN A not-an-address\n",
		"bad id":            ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 99999\n",
		"bad server":        ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1\n;; SERVER: nowhere\n",
	} {
		if d, err := ParseDig(out); err == nil {
			t.Errorf("%s: no error, got %+v", name, d)
		}
	}
}

func TestParseDigUnreachable(t *testing.T) {
	_, err := ParseDig(readTestdata(t, "dig-unreachable.txt"))
	if err == nil || !strings.Contains(err.Error(), "no servers could be reached") {
		t.Fatalf("err %v, want %q", err, "no servers could be reached")
	}
}

func TestParseServer(t *testing.T) {
	for in, want := range map[string]server{
		"198.18.0.1#53(198.18.0.1) (UDP)": {netip.MustParseAddrPort("198.18.0.1:53"), "UDP"},
		"fd53::1#5353(fd53::1) (TCP)":     {netip.MustParseAddrPort("[fd53::1]:5353"), "TCP"},
		"127.0.0.1#53(127.0.0.1)":         {netip.MustParseAddrPort("127.0.0.1:53"), ""},
	} {
		got, err := parseServer(in)
		if err != nil || got != want {
			t.Errorf("parseServer(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "198.18.0.1", "x#53(x)", "198.18.0.1#99999()"} {
		if _, err := parseServer(in); err == nil {
			t.Errorf("parseServer(%q): no error", in)
		}
	}
}

func TestParseGetent(t *testing.T) {
	for _, c := range []struct {
		file  string
		addrs []string
		names []string
	}{
		{"getent-ahosts.txt", []string{"fd00:96::20", "10.96.0.20"}, []string{"api.shop.svc.cluster.local"}},
		{"getent-hosts.txt", []string{"fd00:96::20"}, []string{"api.shop.svc.cluster.local"}},
	} {
		r, err := ParseGetent(readTestdata(t, c.file))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range r.Addrs {
			got = append(got, a.String())
		}
		if !r.Found || !slices.Equal(got, c.addrs) || !slices.Equal(r.Names, c.names) {
			t.Errorf("%s: %v %v, want %v %v", c.file, got, r.Names, c.addrs, c.names)
		}
		if len(r.Hosts) == 0 || !slices.Equal(r.Hosts[0].Names, c.names) {
			t.Errorf("%s: first line %+v, want names %v", c.file, r.Hosts, c.names)
		}
	}
	r, err := ParseGetent("10.0.0.1 a.example b c\n::ffff:10.0.0.1 a.example\n")
	if err != nil || len(r.Addrs) != 1 || !slices.Equal(r.Names, []string{"a.example", "b", "c"}) {
		t.Errorf("aliases and a v4-mapped duplicate: %+v %v", r, err)
	}
	r, err = ParseGetent("fd53:19:0:0::10 web.default.svc.cluster.local web\n10.96.0.1 x\n")
	want := []Host{
		{Addr: netip.MustParseAddr("fd53:19::10"), Names: []string{"web.default.svc.cluster.local", "web"}},
		{Addr: netip.MustParseAddr("10.96.0.1"), Names: []string{"x"}},
	}
	if err != nil || !slices.EqualFunc(r.Hosts, want, func(a, b Host) bool { return a.Addr == b.Addr && slices.Equal(a.Names, b.Names) }) {
		t.Errorf("lines: %+v %v, want %+v", r.Hosts, err, want)
	}
	for _, bad := range []string{"", "\n\n", "not-an-address name\n", "nonsense here\n"} {
		if _, err := ParseGetent(bad); err == nil {
			t.Errorf("ParseGetent(%q): no error", bad)
		}
	}
}

func TestRecordString(t *testing.T) {
	rr, err := dns.NewRR("WeB.Example. 30 IN CNAME Target.Example.")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := RecordString(rr, true), "web.example. 30 IN CNAME Target.Example."; got != want {
		t.Errorf("with TTL: %q, want %q", got, want)
	}
	if got, want := RecordString(rr, false), "web.example. IN CNAME Target.Example."; got != want {
		t.Errorf("without TTL: %q, want %q", got, want)
	}
	if rr.Header().Name != "WeB.Example." {
		t.Error("RecordString changed its argument")
	}
}

func FuzzParseDig(f *testing.F) {
	for _, name := range []string{"dig-a.txt", "dig-nxdomain.txt", "dig-srv.txt", "dig-tc-retry.txt", "dig-tcp.txt", "dig-v6.txt", "dig-timeout.txt", "dig-cname.txt", "dig-nxdomain-noauth.txt", "dig-unreachable.txt"} {
		f.Add(readTestdata(f, name))
	}
	f.Fuzz(func(t *testing.T, out string) {
		d, err := ParseDig(out)
		if err == nil && d.Status == "" {
			t.Errorf("no error and no status")
		}
	})
}

func FuzzParseGetent(f *testing.F) {
	f.Add(readTestdata(f, "getent-ahosts.txt"))
	f.Add(readTestdata(f, "getent-hosts.txt"))
	f.Add("198.19.0.10 www.example.org\nfd53::1 a b c\n")
	f.Fuzz(func(t *testing.T, out string) {
		r, err := ParseGetent(out)
		if err == nil && len(r.Addrs) == 0 {
			t.Errorf("no error and no address")
		}
	})
}
