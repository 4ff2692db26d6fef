package netns

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestConfigRejected(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"bad prefix", Config{Prefix: "a b"}, "may hold only"},
		{"long prefix", Config{Prefix: strings.Repeat("a", 41)}, "1 to 40"},
		{"v6 in v4 slot", Config{Prefix: "x", PodV4: netip.MustParsePrefix("fd53::2/64")}, "wrong family"},
		{"v4 in v6 slot", Config{Prefix: "x", UpstreamV6: netip.MustParsePrefix("198.18.0.1/24")}, "wrong family"},
		{"other subnet", Config{Prefix: "x", PodV4: netip.MustParsePrefix("198.19.0.2/24")}, "share their subnets"},
		{"same address", Config{Prefix: "x", PodV6: netip.MustParsePrefix("fd53::1/64")}, "must differ"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &FakeRunner{}
			tc.cfg.Runner = f
			_, err := New(context.Background(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: err %v, want one containing %q", err, tc.want)
			}
			if calls := f.Calls(); len(calls) != 0 {
				t.Errorf("ran commands for a rejected config: %q", calls)
			}
		})
	}
}

func TestBuildCommands(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		want      []string
		wantNot   []string
		wantCount int
	}{
		{
			name: "defaults",
			cfg:  Config{Prefix: "unit"},
			want: []string{
				"ip netns add mdt-unit-pod",
				"ip netns add mdt-unit-up",
				"ip netns exec mdt-unit-pod sysctl -q -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0",
				"ip -n mdt-unit-pod link set lo up",
				"ip -n mdt-unit-up link set lo up",
				"ip -n mdt-unit-pod link add eth0 type veth peer name eth0 netns mdt-unit-up",
				"ip -n mdt-unit-pod addr add 198.18.0.2/24 dev eth0",
				"ip -n mdt-unit-pod -6 addr add fd53::2/64 dev eth0 nodad",
				"ip -n mdt-unit-up addr add 198.18.0.1/24 dev eth0",
				"ip -n mdt-unit-up -6 addr add fd53::1/64 dev eth0 nodad",
				"ip -n mdt-unit-pod link set eth0 up",
				"ip -n mdt-unit-up link set eth0 up",
			},
			wantNot: []string{"route"},
		},
		{
			name: "custom addresses and default route",
			cfg: Config{
				Prefix: "r", DefaultRoute: true,
				PodV4: netip.MustParsePrefix("198.19.1.10/24"), UpstreamV4: netip.MustParsePrefix("198.19.1.1/24"),
				PodV6: netip.MustParsePrefix("fd53:1::10/64"), UpstreamV6: netip.MustParsePrefix("fd53:1::1/64"),
			},
			want: []string{
				"ip -n mdt-r-pod addr add 198.19.1.10/24 dev eth0",
				"ip -n mdt-r-up -6 addr add fd53:1::1/64 dev eth0 nodad",
				"ip -n mdt-r-pod route add default via 198.19.1.1 dev eth0",
				"ip -n mdt-r-pod -6 route add default via fd53:1::1 dev eth0",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &FakeRunner{}
			tc.cfg.Runner = f
			topo, err := New(context.Background(), tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			calls := f.Calls()
			for _, w := range tc.want {
				if !slices.Contains(calls, w) {
					t.Errorf("missing command %q in\n%s", w, strings.Join(calls, "\n"))
				}
			}
			for _, c := range calls {
				for _, n := range tc.wantNot {
					if strings.Contains(c, n) {
						t.Errorf("unexpected command %q", c)
					}
				}
			}
			// The sysctl must come before the veth, or eth0 keeps DAD on.
			if i, j := index(calls, "sysctl"), index(calls, "type veth"); i < 0 || j < 0 || i > j {
				t.Errorf("sysctl at %d, veth at %d: want sysctl first", i, j)
			}
			if topo.PodV4 != tc.cfg.withDefaults().PodV4.Addr() || topo.Link != "eth0" {
				t.Errorf("topology fields: %+v", topo)
			}
		})
	}
}

func index(calls []string, sub string) int {
	for i, c := range calls {
		if strings.Contains(c, sub) {
			return i
		}
	}
	return -1
}

func TestBuildFailureRemovesNamespaces(t *testing.T) {
	f := &FakeRunner{Fail: func(line []string) error {
		if slices.Contains(line, "veth") {
			return errors.New("boom")
		}
		return nil
	}}
	_, err := New(context.Background(), Config{Prefix: "fail", Runner: f})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("New: err %v, want boom", err)
	}
	calls := f.Calls()
	for _, w := range []string{"ip netns delete mdt-fail-pod", "ip netns delete mdt-fail-up"} {
		if !slices.Contains(calls, w) {
			t.Errorf("missing cleanup %q in %q", w, calls)
		}
	}
}

func TestBuildFailureLeavesForeignNamespace(t *testing.T) {
	// The pod namespace exists already (another test's, say): New fails
	// and must not delete it.
	f := &FakeRunner{Fail: func(line []string) error {
		if strings.Join(line, " ") == "ip netns add mdt-taken-pod" {
			return errors.New("File exists")
		}
		return nil
	}}
	if _, err := New(context.Background(), Config{Prefix: "taken", Runner: f}); err == nil {
		t.Fatal("New: no error")
	}
	for _, c := range f.Calls() {
		if strings.Contains(c, "delete") {
			t.Errorf("deleted a namespace it did not create: %q", c)
		}
	}
}

func TestAddrsReady(t *testing.T) {
	tests := []struct {
		out  string
		want bool
	}{
		{"", false},
		{"2: eth0    inet6 fd53::2/64 scope global nodad \\ valid_lft forever", false},
		{"2: eth0    inet6 fd53::2/64 scope global nodad \\ x\n2: eth0    inet6 fe80::1/64 scope link tentative \\ x", false},
		{"2: eth0    inet6 fd53::2/64 scope global nodad \\ x\n2: eth0    inet6 fe80::1/64 scope link \\ x", true},
	}
	for _, tc := range tests {
		if got := addrsReady(tc.out); got != tc.want {
			t.Errorf("addrsReady(%q) = %v", tc.out, got)
		}
	}
}

func TestWaitTimesOut(t *testing.T) {
	f := &FakeRunner{Output: func([]string) []byte { return []byte("inet6 fe80::1/64 scope link tentative") }}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no waiting: the first poll decides
	err := waitNotTentative(ctx, f, "mdt-x-pod")
	if err == nil || !strings.Contains(err.Error(), "not ready") {
		t.Errorf("err %v, want not ready", err)
	}
}

func TestCloseIdempotentWithFake(t *testing.T) {
	f := &FakeRunner{}
	topo, err := New(context.Background(), Config{Prefix: "idem", Runner: f})
	if err != nil {
		t.Fatal(err)
	}
	before := len(f.Calls())
	for range 3 {
		if err := topo.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(f.Calls()) - before; got != 2 {
		t.Errorf("Close ran %d commands over three calls, want 2 (one delete per namespace)", got)
	}
}

func TestCleanupStaleRejectsPrefix(t *testing.T) {
	for _, p := range []string{"", "a/b", "x y"} {
		f := &FakeRunner{}
		if _, err := cleanupStale(context.Background(), f, p); err == nil {
			t.Errorf("cleanupStale(%q): no error", p)
		}
		if len(f.Calls()) != 0 {
			t.Errorf("cleanupStale(%q) ran %q", p, f.Calls())
		}
	}
}

func TestPath(t *testing.T) {
	if got := Path("mdt-a-pod"); got != "/run/netns/mdt-a-pod" {
		t.Errorf("Path(name) = %q", got)
	}
	if got := Path("/proc/1/ns/net"); got != "/proc/1/ns/net" {
		t.Errorf("Path(path) = %q", got)
	}
}

func TestRandomPrefix(t *testing.T) {
	a, err := RandomPrefix()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := RandomPrefix()
	if a == b || validPrefix(a) != nil || len(a) != 9 {
		t.Errorf("RandomPrefix gave %q and %q", a, b)
	}
}
