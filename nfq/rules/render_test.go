package rules

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s--- want\n%s", p, got, want)
	}
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustAddrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

// dualNameservers has both families, a zone, a mapped address and a duplicate.
func dualNameservers() []netip.Addr {
	return mustAddrs("10.96.0.10", "fd00::10", "fe80::1%eth0", "::ffff:10.96.0.11", "10.96.0.10")
}

func TestRenderInstallGolden(t *testing.T) {
	dual := Config{Nameservers: dualNameservers()}
	all := Config{CaptureAll: true, QueueNum: 2, Queues: 4, Mark: 0x1, MarkMask: 0xff}
	exact := Config{Nameservers: mustAddrs("10.96.0.10"), Mark: 0x40, MarkMask: 0xffffffff}
	v4only := Config{Nameservers: mustAddrs("10.96.0.10")}
	resets := Config{Nameservers: dualNameservers(), QueueNum: 10, Queues: 2, TCPResets: true}
	filtered := Config{Nameservers: dualNameservers(), Queues: 2,
		Filter: NewQueryFilter([]string{"cluster.local", "example.com.", "api.example.com", "*.wiki.example.org"}, true)}
	mixed := readFixture(t, "saved-mixed.txt")
	tests := []struct {
		golden string
		cfg    Config
		fam    Family
		saved  []byte
	}{
		{"install-nameservers-v4.golden", dual, IPv4, nil},
		{"install-nameservers-v6.golden", dual, IPv6, nil},
		{"install-all-balance-v4.golden", all, IPv4, nil},
		{"install-all-balance-v6.golden", all, IPv6, nil},
		{"install-exact-mark-v4.golden", exact, IPv4, nil},
		{"install-over-mixed-v4.golden", v4only, IPv4, mixed},
		// The nameservers' RSTs on queue 12, after the balanced 10 and 11.
		{"install-tcp-resets-v4.golden", resets, IPv4, nil},
		{"install-tcp-resets-v6.golden", resets, IPv6, nil},
		// The UDP queries of the filter's names and of single labels only.
		{"install-filter-v4.golden", filtered, IPv4, nil},
		{"install-filter-v6.golden", filtered, IPv6, nil},
		// IPv6 gets no rules: whatever meshdns had there is removed.
		{"remove-mixed.golden", v4only, IPv6, mixed},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			got, err := RenderInstall(tt.cfg, tt.fam, tt.saved)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.golden, got)
		})
	}
}

func TestRenderRemove(t *testing.T) {
	golden(t, "remove-mixed.golden", RenderRemove(readFixture(t, "saved-mixed.txt")))
	for _, saved := range []string{"", "*mangle\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -j MARK --set-mark 1\nCOMMIT\n"} {
		if got := RenderRemove([]byte(saved)); len(got) != 0 {
			t.Errorf("RenderRemove(%q) = %q, want nothing", saved, got)
		}
	}
	// Nothing to capture in IPv6 and nothing installed: nothing to do.
	got, err := RenderInstall(Config{Nameservers: mustAddrs("10.0.0.1")}, IPv6, nil)
	if err != nil || len(got) != 0 {
		t.Errorf("RenderInstall(v4 only, IPv6) = %q, %v; want nothing", got, err)
	}
}

// Installing over what a previous install left must keep the one jump.
func TestRenderInstallKeepsJump(t *testing.T) {
	cfg := Config{Nameservers: mustAddrs("10.96.0.10")}
	first, err := RenderInstall(cfg, IPv4, nil)
	if err != nil {
		t.Fatal(err)
	}
	// What -save prints after `first` was applied, jumps included.
	saved := "*mangle\n:OUTPUT ACCEPT [0:0]\n:MESHDNS-OUTPUT - [0:0]\n-A OUTPUT -j MESHDNS-OUTPUT\nCOMMIT\n" +
		"*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:MESHDNS-NOTRACK-OUT - [0:0]\n:MESHDNS-NOTRACK-PRE - [0:0]\n" +
		"-A PREROUTING -j MESHDNS-NOTRACK-PRE\n-A OUTPUT -j MESHDNS-NOTRACK-OUT\nCOMMIT\n"
	second, err := RenderInstall(cfg, IPv4, []byte(saved))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(first), "-I "); n != 3 {
		t.Errorf("first install inserts %d jumps, want 3:\n%s", n, first)
	}
	if strings.Contains(string(second), "-I ") || strings.Contains(string(second), "-D ") {
		t.Errorf("second install touches jumps:\n%s", second)
	}
	stripJumps := func(b []byte) string {
		var out []string
		for l := range strings.Lines(string(b)) {
			if !strings.HasPrefix(l, "-I ") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "")
	}
	if stripJumps(first) != string(second) {
		t.Errorf("second install's chains differ from the first's:\n%s\nvs\n%s", first, second)
	}
}

func TestConfigErrors(t *testing.T) {
	ns := mustAddrs("10.0.0.1")
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{}, "no nameservers"},
		{Config{Nameservers: []netip.Addr{{}}}, "invalid nameserver"},
		{Config{Nameservers: ns, QueueNum: 65535, Queues: 2}, "exceed 65535"},
		// The reset queue comes after the balanced ones: 65534, 65535, 65536.
		{Config{Nameservers: ns, QueueNum: 65534, Queues: 2, TCPResets: true}, "queues 65534..65536 exceed 65535"},
		{Config{Nameservers: ns, Mark: 0x3, MarkMask: 0x1}, "within its mask"},
		{Config{Nameservers: ns, Mark: 0, MarkMask: 0x1}, "non-zero"},
		{Config{Nameservers: ns, Backend: "iptables"}, "unknown iptables backend"},
	}
	for _, tt := range tests {
		_, err := RenderInstall(tt.cfg, IPv4, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("RenderInstall(%+v) err = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestParseSave(t *testing.T) {
	got := parseSave(readFixture(t, "saved-mixed.txt"))
	if len(got) != 3 {
		t.Fatalf("tables with meshdns state = %d, want 3 (mangle, nat, raw)", len(got))
	}
	m := got["mangle"]
	if len(m.jumps) != 2 || len(m.chains) != 1 || len(m.rules[ChainQueue]) != 2 {
		t.Errorf("mangle = %+v", m)
	}
	if n := got["nat"]; len(n.jumps) != 1 || n.jumps[0] != "-A OUTPUT -p udp -m udp --dport 53 -j MESHDNS-OLD" {
		t.Errorf("nat jumps = %q", n.jumps)
	}
}

func FuzzRenderRemove(f *testing.F) {
	f.Add(readFixtureF(f, "saved-mixed.txt"))
	f.Add([]byte("*raw\n-A X -j\n-A\n:MESHDNS-\n"))
	f.Fuzz(func(t *testing.T, saved []byte) {
		check := func(what string, out []byte) {
			// Every table block is closed; only jumps to meshdns chains
			// that saved holds are deleted, and only meshdns chains.
			if len(out) > 0 && !bytes.HasSuffix(out, []byte("COMMIT\n")) {
				t.Errorf("%s: unterminated output %q", what, out)
			}
			for l := range strings.Lines(string(out)) {
				switch {
				case strings.HasPrefix(l, "-D "):
					if !bytes.Contains(saved, []byte("-A "+strings.TrimSuffix(l[3:], "\n"))) || !strings.Contains(l, ChainPrefix) {
						t.Errorf("%s: deletes a rule saved does not hold as a jump: %q", what, l)
					}
				case strings.HasPrefix(l, "-X "), strings.HasPrefix(l, ":"):
					if !strings.Contains(l, ChainPrefix) {
						t.Errorf("%s: touches a chain not meshdns's: %q", what, l)
					}
				}
			}
		}
		check("remove", RenderRemove(saved))
		out, err := RenderInstall(Config{CaptureAll: true}, IPv4, saved)
		if err != nil {
			t.Errorf("RenderInstall: %v", err)
		}
		check("install", out)
	})
}

func readFixtureF(f *testing.F, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	return b
}
