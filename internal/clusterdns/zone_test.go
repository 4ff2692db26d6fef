package clusterdns

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

const testZone = `
$ORIGIN example.org.
www        A     198.19.0.10
www        AAAA  fd53:19::10
www        TXT   "hello"
alias      CNAME www
outside    CNAME somewhere.else.test.
loop1      CNAME loop2
loop2      CNAME loop1
*.wild     A     198.19.0.20
deep.a.b   A     198.19.0.30
long   60  A     198.19.0.40
`

func TestLookup(t *testing.T) {
	s, err := New(Config{
		Zone:    testZone,
		Records: map[string][]string{"web.default.svc.cluster.local": {"A 198.19.1.1"}, "Mixed.Test.": {"A 198.19.1.2"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		qtype uint16
		rcode int
		want  []string // answer records as strings
	}{
		{"www.example.org.", dns.TypeA, dns.RcodeSuccess, []string{"www.example.org.\t7\tIN\tA\t198.19.0.10"}},
		{"WWW.Example.ORG.", dns.TypeAAAA, dns.RcodeSuccess, []string{"WWW.Example.ORG.\t7\tIN\tAAAA\tfd53:19::10"}},
		{"www.example.org", dns.TypeTXT, dns.RcodeSuccess, []string{"www.example.org.\t7\tIN\tTXT\t\"hello\""}},
		{"www.example.org.", dns.TypeMX, dns.RcodeSuccess, nil},
		{"nope.example.org.", dns.TypeA, dns.RcodeNameError, nil},
		{"example.org.", dns.TypeA, dns.RcodeSuccess, nil}, // empty non-terminal
		{"a.b.example.org.", dns.TypeA, dns.RcodeSuccess, nil},
		{"alias.example.org.", dns.TypeA, dns.RcodeSuccess, []string{
			"alias.example.org.\t7\tIN\tCNAME\twww.example.org.",
			"www.example.org.\t7\tIN\tA\t198.19.0.10",
		}},
		{"alias.example.org.", dns.TypeCNAME, dns.RcodeSuccess, []string{"alias.example.org.\t7\tIN\tCNAME\twww.example.org."}},
		{"outside.example.org.", dns.TypeA, dns.RcodeSuccess, []string{"outside.example.org.\t7\tIN\tCNAME\tsomewhere.else.test."}},
		{"loop1.example.org.", dns.TypeA, dns.RcodeServerFailure, nil},
		{"x.wild.example.org.", dns.TypeA, dns.RcodeSuccess, []string{"x.wild.example.org.\t7\tIN\tA\t198.19.0.20"}},
		{"y.x.wild.example.org.", dns.TypeA, dns.RcodeSuccess, []string{"y.x.wild.example.org.\t7\tIN\tA\t198.19.0.20"}},
		{"wild.example.org.", dns.TypeA, dns.RcodeSuccess, nil},
		{"long.example.org.", dns.TypeA, dns.RcodeSuccess, []string{"long.example.org.\t60\tIN\tA\t198.19.0.40"}},
		{"web.default.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, []string{"web.default.svc.cluster.local.\t7\tIN\tA\t198.19.1.1"}},
		{"web.default.svc.cluster.local.", dns.TypeAAAA, dns.RcodeSuccess, nil},
		{"api.default.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, nil},
		{"mixed.test.", dns.TypeA, dns.RcodeSuccess, []string{"mixed.test.\t7\tIN\tA\t198.19.1.2"}},
		{"www.example.org.", dns.TypeANY, dns.RcodeSuccess, []string{
			"www.example.org.\t7\tIN\tA\t198.19.0.10",
			"www.example.org.\t7\tIN\tTXT\t\"hello\"",
			"www.example.org.\t7\tIN\tAAAA\tfd53:19::10",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name+"/"+dns.TypeToString[tc.qtype], func(t *testing.T) {
			rcode, ans := s.Lookup(tc.name, tc.qtype)
			if rcode != tc.rcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[rcode], dns.RcodeToString[tc.rcode])
			}
			var got []string
			for _, rr := range ans {
				got = append(got, rr.String())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("answer\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestLookupDoesNotAliasZone(t *testing.T) {
	s, err := New(Config{Records: map[string][]string{"a.test": {"A 198.19.0.1"}}})
	if err != nil {
		t.Fatal(err)
	}
	_, ans := s.Lookup("A.TEST.", dns.TypeA)
	ans[0].(*dns.A).A[0] = 1
	_, again := s.Lookup("a.test.", dns.TypeA)
	if got := again[0].(*dns.A).A.String(); got != "198.19.0.1" || again[0].Header().Name != "a.test." {
		t.Errorf("zone changed through an answer: %s", again[0])
	}
}

func TestConfigTTL(t *testing.T) {
	s, err := New(Config{TTL: 99, Zone: "a.test. A 198.19.0.1\n$TTL 5\nb.test. A 198.19.0.2\n"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]uint32{"a.test.": 99, "b.test.": 5} {
		_, ans := s.Lookup(name, dns.TypeA)
		if len(ans) != 1 || ans[0].Header().Ttl != want {
			t.Errorf("%s: %v, want TTL %d", name, ans, want)
		}
	}
}

func TestBadZone(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"bad rdata", Config{Zone: "a.test. A 300.1.1.1\n"}},
		{"bad type", Config{Zone: "a.test. BOGUS x\n"}},
		{"include", Config{Zone: "$INCLUDE /etc/passwd\n"}},
		{"bad record", Config{Records: map[string][]string{"a.test": {"A nope"}}}},
		{"bad name", Config{Records: map[string][]string{"a..test": {"A 198.19.0.1"}}}},
		{"empty name", Config{Records: map[string][]string{"": {"A 198.19.0.1"}}}},
		{"line break", Config{Records: map[string][]string{"a.test": {"A 198.19.0.1\nb.test. A 198.19.0.2"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg); err == nil {
				t.Error("New: no error")
			}
		})
	}
}

func FuzzZone(f *testing.F) {
	f.Add(testZone, "www.example.org.", uint16(dns.TypeA))
	f.Add("*.x. CNAME *.x.\n", "a.x.", uint16(dns.TypeA))
	f.Add("a. CNAME b.\nb. CNAME a.\n", "a.", uint16(dns.TypeANY))
	f.Fuzz(func(t *testing.T, text, name string, qtype uint16) {
		s, err := New(Config{Zone: text})
		if err != nil {
			return
		}
		if _, ok := dns.IsDomainName(name); !ok {
			return
		}
		rcode, ans := s.Lookup(name, qtype)
		if rcode == dns.RcodeNameError && len(ans) > 0 {
			t.Errorf("NXDOMAIN with answers: %v", ans)
		}
		if len(ans) > maxCNAMEChain+1 && qtype != dns.TypeANY {
			// Only the final node may contribute many records.
			cn := 0
			for _, rr := range ans {
				if rr.Header().Rrtype == dns.TypeCNAME {
					cn++
				}
			}
			if cn > maxCNAMEChain+1 {
				t.Errorf("followed %d CNAMEs", cn)
			}
		}
	})
}
