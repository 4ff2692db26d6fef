package resolvconf

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Config
	}{
		{
			name: "kubelet ClusterFirst",
			in: "search default.svc.cluster.local svc.cluster.local cluster.local\n" +
				"nameserver 10.96.0.10\noptions ndots:5\n",
			want: Config{
				Nameservers: addrs("10.96.0.10"),
				Search:      []string{"default.svc.cluster.local", "svc.cluster.local", "cluster.local"},
				Ndots:       5,
			},
		},
		{
			name: "empty",
			in:   "",
			want: Config{Ndots: 1},
		},
		{
			name: "comments and blank lines",
			in:   "# nameserver 1.1.1.1\n; nameserver 2.2.2.2\n\n   \nnameserver 10.0.0.1\n",
			want: Config{Nameservers: addrs("10.0.0.1"), Ndots: 1},
		},
		{
			name: "ipv6 with zone, mapped v4, duplicates",
			in: "nameserver fd00::10\nnameserver fe80::1%eth0\nnameserver ::ffff:10.0.0.2\n" +
				"nameserver 10.0.0.2\nnameserver fd00::10\n",
			want: Config{Nameservers: addrs("fd00::10", "fe80::1", "10.0.0.2"), Ndots: 1},
		},
		{
			name: "more than three nameservers kept",
			in:   "nameserver 10.0.0.1\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nnameserver 10.0.0.4\n",
			want: Config{Nameservers: addrs("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"), Ndots: 1},
		},
		{
			name: "bad nameservers skipped and reported",
			in:   "nameserver\nnameserver 10.0.0.300\nnameserver 10.0.0.1 extra\n",
			want: Config{
				Nameservers: addrs("10.0.0.1"),
				Ndots:       1,
				Ignored:     []string{"line 1: nameserver: no address", `line 2: nameserver: bad address "10.0.0.300"`},
			},
		},
		{
			name: "last search or domain wins, lowercased, dots trimmed",
			in:   "search a.example b.example\ndomain Corp.Example.\nsearch X.svc.Cluster.Local. . svc.cluster.local\n",
			want: Config{Search: []string{"x.svc.cluster.local", "svc.cluster.local"}, Ndots: 1},
		},
		{
			name: "domain alone",
			in:   "domain corp.example\n",
			want: Config{Search: []string{"corp.example"}, Ndots: 1},
		},
		{
			name: "empty search clears",
			in:   "search a.example\nsearch\n",
			want: Config{Ndots: 1},
		},
		{
			name: "options accumulate, ndots last wins and is capped",
			in:   "options edns0 ndots:2 timeout:1\noptions rotate ndots:40 single-request-reopen\n",
			want: Config{Ndots: 15, Options: []string{"edns0", "timeout:1", "rotate", "single-request-reopen"}},
		},
		{
			name: "bad ndots ignored",
			in:   "options ndots:x ndots:-1 ndots:3 ndots:\n",
			want: Config{Ndots: 3, Ignored: []string{
				`line 1: options: bad ndots "ndots:x"`,
				`line 1: options: bad ndots "ndots:-1"`,
				`line 1: options: bad ndots "ndots:"`,
			}},
		},
		{
			name: "tabs, CRLF and unknown keywords",
			in:   "nameserver\t10.0.0.1\r\nsortlist 10.0.0.0/8\r\nlookup file bind\r\nsearch\tns1.svc.cluster.local\r\n",
			want: Config{Nameservers: addrs("10.0.0.1"), Search: []string{"ns1.svc.cluster.local"}, Ndots: 1},
		},
		{
			name: "no final newline",
			in:   "nameserver 10.0.0.1",
			want: Config{Nameservers: addrs("10.0.0.1"), Ndots: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseLongLine(t *testing.T) {
	in := "nameserver 10.0.0.1\nsearch " + strings.Repeat("a", maxLine) + "\n"
	_, err := Parse(strings.NewReader(in))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("Parse of an over-long line: err = %v, want an error naming line 2", err)
	}
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestParseReadError(t *testing.T) {
	if _, err := Parse(failReader{}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Parse(failing reader): err = %v, want boom", err)
	}
}

func TestLoad(t *testing.T) {
	p := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(p, []byte("nameserver fd53::1\nsearch team-a.svc.cluster.local\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if want := addrs("fd53::1"); !reflect.DeepEqual(c.Nameservers, want) {
		t.Errorf("Nameservers = %v, want %v", c.Nameservers, want)
	}
	if ns, ok := c.Namespace(""); ns != "team-a" || !ok {
		t.Errorf("Namespace = %q, %v; want team-a, true", ns, ok)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) err = %v, want ErrNotExist", err)
	}
}

func TestNamespace(t *testing.T) {
	tests := []struct {
		search []string
		cd     string
		ns     string
		ok     bool
	}{
		{[]string{"default.svc.cluster.local", "svc.cluster.local", "cluster.local"}, "cluster.local", "default", true},
		{[]string{"default.svc.cluster.local"}, "", "default", true},
		{[]string{"default.svc.cluster.local"}, "Cluster.Local.", "default", true},
		{[]string{"corp.example", "team.svc.k8s.example", "svc.k8s.example"}, "k8s.example", "team", true},
		{[]string{"team.svc.k8s.example"}, "cluster.local", "", false},
		{[]string{"svc.cluster.local", "cluster.local"}, "cluster.local", "", false},
		{[]string{".svc.cluster.local"}, "cluster.local", "", false},
		{[]string{"a.b.svc.cluster.local", "c.svc.cluster.local"}, "cluster.local", "c", true},
		{[]string{"x.svc.cluster.localx"}, "cluster.local", "", false},
		{nil, "cluster.local", "", false},
	}
	for _, tt := range tests {
		ns, ok := Config{Search: tt.search}.Namespace(tt.cd)
		if ns != tt.ns || ok != tt.ok {
			t.Errorf("Namespace(%v, %q) = %q, %v; want %q, %v", tt.search, tt.cd, ns, ok, tt.ns, tt.ok)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n")
	f.Add("nameserver fe80::1%eth0\nnameserver ::ffff:1.2.3.4\ndomain x.\noptions ndots:99 edns0\n")
	f.Add("# c\n; c\nnameserver\nsearch . ..\noptions ndots:-3 ndots:\n")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		if c.Ndots < 0 || c.Ndots > MaxNdots {
			t.Errorf("Ndots = %d out of range", c.Ndots)
		}
		seen := map[netip.Addr]bool{}
		for _, a := range c.Nameservers {
			if !a.IsValid() || a.Zone() != "" || a.Is4In6() || seen[a] {
				t.Errorf("bad or duplicate nameserver %v", a)
			}
			seen[a] = true
		}
		for _, d := range c.Search {
			if d == "" || strings.HasSuffix(d, ".") || d != lowerASCII(d) {
				t.Errorf("bad search domain %q", d)
			}
		}
		for _, o := range c.Options {
			if strings.HasPrefix(o, "ndots:") || strings.TrimSpace(o) != o || o == "" {
				t.Errorf("bad option %q", o)
			}
		}
		if ns, ok := c.Namespace(""); ok && (ns == "" || strings.Contains(ns, ".")) {
			t.Errorf("Namespace = %q", ns)
		}
	})
}
