package rules

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/netns/netnstest"
	"golang.org/x/sys/unix"
)

// newNetns returns the pod namespace of a fresh test topology, removed when
// the test ends.
func newNetns(t *testing.T) string {
	t.Helper()
	return netnstest.ForTest(t, netns.Config{}).Pod
}

// netnsRunner runs commands inside a network namespace with ip netns exec.
type netnsRunner struct {
	ns     string
	prefix []string // extra command put before name, e.g. a capability dropper
}

func (r netnsRunner) Has(name string) bool { return ExecRunner{}.Has(name) }

func (r netnsRunner) Run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	full := append([]string{"netns", "exec", r.ns}, r.prefix...)
	full = append(append(full, name), args...)
	out, err := ExecRunner{}.Run(ctx, stdin, "ip", full...)
	if err != nil {
		return out, fmt.Errorf("in netns %s: %w", r.ns, err)
	}
	return out, nil
}

// Rules of others that Install and Remove must leave alone: an Istio-like
// nat REDIRECT, a mangle mark, a raw rule.
var otherRules = [][]string{
	{"-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-j", "REDIRECT", "--to-ports", "15001"},
	{"-t", "mangle", "-A", "OUTPUT", "-p", "udp", "-j", "MARK", "--set-mark", "0x1"},
	{"-t", "raw", "-A", "PREROUTING", "-p", "tcp", "--dport", "80", "-j", "CT", "--notrack"},
}

// ruleLines returns the -A lines of a -save output, per table ("mangle -A ...").
func ruleLines(saved string) []string {
	var out []string
	table := ""
	for l := range strings.Lines(saved) {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "*") {
			table = l[1:]
		}
		if strings.HasPrefix(l, "-A ") {
			out = append(out, table+" "+l)
		}
	}
	return out
}

func notMeshdns(lines []string) []string {
	return slices.DeleteFunc(slices.Clone(lines), func(l string) bool { return strings.Contains(l, ChainPrefix) })
}

// wantLines is what -save should print of meshdns's rules for f: the -A
// lines RenderInstall writes, plus one jump per chain.
func wantLines(t *testing.T, cfg Config, f Family) []string {
	t.Helper()
	text, err := RenderInstall(cfg, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	table := ""
	for l := range strings.Lines(string(text)) {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "*"):
			table = l[1:]
		case strings.HasPrefix(l, "-A "):
			out = append(out, table+" "+l)
		case strings.HasPrefix(l, "-I "):
			out = append(out, table+" -A "+l[len("-I "):])
		}
	}
	slices.Sort(out)
	return out
}

func TestKernelRules(t *testing.T) {
	netnstest.RequireRoot(t)
	ctx := context.Background()
	configs := []struct {
		name string
		cfg  Config
	}{
		{"nameservers", Config{Nameservers: mustAddrs("198.18.0.1", "fd53::1", "198.18.0.3")}},
		{"capture-all", Config{CaptureAll: true, QueueNum: 3, Queues: 2}},
		// The query filter's string and u32 matches, as -save prints them.
		{"filter", Config{Nameservers: mustAddrs("198.18.0.1", "fd53::1"),
			Filter: NewQueryFilter([]string{"cluster.local", "*.example.com"}, true)}},
	}
	for _, backend := range []string{BackendNFT, BackendLegacy} {
		other := map[string]string{BackendNFT: BackendLegacy, BackendLegacy: BackendNFT}[backend]
		for _, cc := range configs {
			t.Run(backend+"/"+cc.name, func(t *testing.T) {
				ns := newNetns(t)
				r := netnsRunner{ns: ns}
				b := Backend{Name: backend}
				save := func(f Family) string {
					out, err := b.save(ctx, r, f)
					if err != nil {
						t.Fatal(err)
					}
					return string(out)
				}
				for _, f := range families {
					for _, rule := range otherRules {
						if _, err := r.Run(ctx, nil, strings.TrimSuffix(b.Command(f, "save"), "-save"), append([]string{"-w"}, rule...)...); err != nil {
							t.Fatal(err)
						}
					}
				}
				others := map[Family][]string{IPv4: ruleLines(save(IPv4)), IPv6: ruleLines(save(IPv6))}
				if len(others[IPv4]) != len(otherRules) || len(others[IPv6]) != len(otherRules) {
					t.Fatalf("setup: other rules %q", others)
				}

				// Auto picks the backend that already holds rules.
				if got, err := ResolveBackend(ctx, r, BackendAuto); err != nil || got.Name != backend {
					t.Errorf("ResolveBackend(auto) = %v, %v; want %s", got, err, backend)
				}

				cfg := cc.cfg
				cfg.Runner, cfg.Backend = r, backend
				for i := range 2 {
					if err := Install(ctx, cfg); err != nil {
						t.Fatalf("Install #%d: %v", i+1, err)
					}
				}
				for _, f := range families {
					got := ruleLines(save(f))
					if diff := notMeshdns(got); !slices.Equal(diff, others[f]) {
						t.Errorf("%s: other rules changed:\n got %q\nwant %q", f, diff, others[f])
					}
					mine := slices.DeleteFunc(slices.Clone(got), func(l string) bool { return !strings.Contains(l, ChainPrefix) })
					slices.Sort(mine)
					if want := wantLines(t, cfg, f); !slices.Equal(mine, want) {
						t.Errorf("%s: meshdns rules after two installs:\n got %q\nwant %q", f, mine, want)
					}
					// The jumps come first in their built-in chains.
					for _, hook := range []string{"mangle -A OUTPUT ", "raw -A OUTPUT ", "raw -A PREROUTING "} {
						i := slices.IndexFunc(got, func(l string) bool { return strings.HasPrefix(l, hook) })
						if i < 0 || !strings.Contains(got[i], "-j "+ChainPrefix) {
							t.Errorf("%s: first rule of %q is not meshdns's jump: %q", f, hook, got)
						}
					}
				}
				if (cc.name == "nameservers" && !strings.Contains(save(IPv6), "fd53::1/128")) || strings.Contains(save(IPv6), "198.18.") {
					t.Errorf("IPv6 rules name the wrong nameservers:\n%s", save(IPv6))
				}
				// The other backend's tables were not touched.
				ob := Backend{Name: other}
				for _, f := range families {
					if out, err := ob.save(ctx, r, f); err != nil || strings.Contains(string(out), ChainPrefix) {
						t.Errorf("%s %s tables: %v\n%s", other, f, err, out)
					}
				}

				for i := range 2 {
					if err := Remove(ctx, Config{Runner: r, Backend: backend}); err != nil {
						t.Fatalf("Remove #%d: %v", i+1, err)
					}
				}
				for _, f := range families {
					s := save(f)
					if strings.Contains(s, ChainPrefix) {
						t.Errorf("%s: meshdns rules left after Remove:\n%s", f, s)
					}
					if got := ruleLines(s); !slices.Equal(got, others[f]) {
						t.Errorf("%s: other rules after Remove:\n got %q\nwant %q", f, got, others[f])
					}
				}
			})
		}
	}
}

// Install for IPv4 only after an install for both families takes the IPv6
// rules out; the auto backend's Remove finds rules in either backend.
func TestKernelRulesConverge(t *testing.T) {
	netnstest.RequireRoot(t)
	ctx := context.Background()
	ns := newNetns(t)
	r := netnsRunner{ns: ns}
	both := Config{Nameservers: mustAddrs("198.18.0.1", "fd53::1"), Runner: r, Backend: BackendLegacy}
	if err := Install(ctx, both); err != nil {
		t.Fatal(err)
	}
	v4 := both
	v4.Nameservers = mustAddrs("198.18.0.1")
	if err := Install(ctx, v4); err != nil {
		t.Fatal(err)
	}
	b := Backend{Name: BackendLegacy}
	out6, _ := b.save(ctx, r, IPv6)
	out4, _ := b.save(ctx, r, IPv4)
	if strings.Contains(string(out6), ChainPrefix) || !strings.Contains(string(out4), "198.18.0.1/32") {
		t.Fatalf("after the IPv4-only install:\n%s\n%s", out4, out6)
	}
	// Auto: legacy holds rules and nft none, so auto means legacy; Remove
	// with auto checks both.
	if got, _ := ResolveBackend(ctx, r, BackendAuto); got.Name != BackendLegacy {
		t.Errorf("ResolveBackend(auto) = %v, want legacy", got)
	}
	if err := Install(ctx, Config{CaptureAll: true, Runner: r, Backend: BackendNFT}); err != nil {
		t.Fatal(err)
	}
	if err := Remove(ctx, Config{Runner: r}); err != nil {
		t.Fatal(err)
	}
	for _, b := range []Backend{{Name: BackendNFT}, {Name: BackendLegacy}} {
		for _, f := range families {
			if out, err := b.save(ctx, r, f); err != nil || strings.Contains(string(out), ChainPrefix) {
				t.Errorf("%s %s after auto Remove: %v\n%s", b, f, err, out)
			}
		}
	}
}

// Without CAP_NET_ADMIN the error names the command, quotes its stderr and
// says what is missing.
func TestKernelRulesNoCapability(t *testing.T) {
	netnstest.RequireRoot(t)
	ns := newNetns(t)
	r := netnsRunner{ns: ns, prefix: []string{"setpriv", "--bounding-set", "-net_admin", "--inh-caps", "-net_admin"}}
	for _, backend := range []string{BackendNFT, BackendLegacy} {
		err := Install(context.Background(), Config{Nameservers: mustAddrs("198.18.0.1"), Runner: r, Backend: backend})
		if err == nil || !strings.Contains(err.Error(), "iptables-"+backend+"-") || !strings.Contains(err.Error(), "CAP_NET_ADMIN") {
			t.Errorf("%s: Install without CAP_NET_ADMIN: err = %v", backend, err)
		}
	}
}

// TestKernelFilterSplitQuery: a query for a name the filter covers,
// written in two sends (MSG_MORE, as UDP_CORK or a zerocopy send would),
// is one datagram whose second part the kernel keeps in a page fragment
// on a scatter-gather device (veth, lo). The filter's string match must
// find the name across the two parts, as it does in one: with
// Boyer-Moore (--algo bm, lib/ts_bm.c) it did not, and the query went to
// the nameserver although meshdns owns the name. (Found by review.)
func TestKernelFilterSplitQuery(t *testing.T) {
	netnstest.RequireRoot(t)
	for _, backend := range []string{BackendLegacy, BackendNFT} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			ns := newNetns(t)
			cfg := Config{Nameservers: mustAddrs("198.18.0.1"), Runner: netnsRunner{ns: ns}, Backend: backend,
				Filter: NewQueryFilter([]string{"example.com"}, false)}
			if err := Install(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			// foo.example.com A IN.
			msg := []byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03foo\x07example\x03com\x00\x00\x01\x00\x01")
			sendParts(t, ns, "198.18.0.1:53", msg)                // one write: a linear packet
			sendParts(t, ns, "198.18.0.1:53", msg[:18], msg[18:]) // split inside "example"
			out, err := cfg.Runner.Run(ctx, nil, "iptables-"+backend+"-save", "-c", "-t", "mangle")
			if err != nil {
				t.Fatal(err)
			}
			re := regexp.MustCompile(`^\[(\d+):\d+\] -A ` + ChainQueue + ` .*--hex-string`)
			var pkts []int
			for l := range strings.Lines(string(out)) {
				if m := re.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
					n, _ := strconv.Atoi(m[1])
					pkts = append(pkts, n)
				}
			}
			if len(pkts) != 1 || pkts[0] != 2 {
				t.Errorf("the name's queue rule matched %v packets, want [2] (both queries for foo.example.com):\n%s", pkts, out)
			}
		})
	}
}

// sendParts sends one UDP datagram to addr from inside ns, written in as
// many sends as parts (all but the last with MSG_MORE).
func sendParts(t *testing.T, ns, addr string, parts ...[]byte) {
	t.Helper()
	c, err := netns.Dial(context.Background(), ns, "udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	err = rc.Write(func(fd uintptr) bool {
		for i, p := range parts {
			flags := 0
			if i < len(parts)-1 {
				flags = unix.MSG_MORE
			}
			if serr = unix.Send(int(fd), p, flags); serr != nil {
				break
			}
		}
		return true
	})
	if err != nil || serr != nil {
		t.Fatal(err, serr)
	}
}
