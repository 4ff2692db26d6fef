package rules

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func callLines(calls []FakeCall) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.String())
	}
	return out
}

func equalLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func TestResolveBackend(t *testing.T) {
	allSuffixed := []string{"iptables-nft-save", "iptables-nft-restore", "ip6tables-nft-save", "ip6tables-nft-restore",
		"iptables-legacy-save", "iptables-legacy-restore", "ip6tables-legacy-save", "ip6tables-legacy-restore"}
	missing := func(names ...string) map[string]bool {
		m := map[string]bool{}
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	rules := "*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p tcp -j REDIRECT --to-ports 15001\nCOMMIT\n"
	tests := []struct {
		name string
		want string
		r    *FakeRunner
		out  string
	}{
		{"auto, both empty", "auto", &FakeRunner{}, "iptables-nft"},
		{"auto, legacy rules only", "", &FakeRunner{Outputs: map[string]string{"ip6tables-legacy-save": rules}}, "iptables-legacy"},
		{"auto, rules in both", "auto", &FakeRunner{Outputs: map[string]string{"iptables-legacy-save": rules, "iptables-nft-save": rules}}, "iptables-nft"},
		{"auto, legacy save fails", "auto", &FakeRunner{Errors: map[string]error{"iptables-legacy-save": errors.New("x")}}, "iptables-nft"},
		{"auto, only legacy tools", "auto", &FakeRunner{Missing: missing("ip6tables-nft-restore")}, "iptables-legacy"},
		{"auto, only nft tools", "auto", &FakeRunner{Missing: missing("iptables-legacy-save")}, "iptables-nft"},
		{"legacy", "legacy", &FakeRunner{}, "iptables-legacy"},
		{"nft", "nft", &FakeRunner{Outputs: map[string]string{"iptables-legacy-save": rules}}, "iptables-nft"},
		{"plain nf_tables", "auto", &FakeRunner{Missing: missing(allSuffixed...),
			Outputs: map[string]string{"iptables-save --version": "iptables-save v1.8.9 (nf_tables)\n"}}, "iptables (nft)"},
		{"plain legacy for nft", "nft", &FakeRunner{Missing: missing("iptables-nft-save"),
			Outputs: map[string]string{"iptables-save --version": "iptables-save v1.8.7 (legacy)\n"}}, "iptables (legacy)"},
		{"plain old", "legacy", &FakeRunner{Missing: missing(allSuffixed...),
			Outputs: map[string]string{"iptables-save --version": "iptables-save v1.6.1\n"}}, "iptables (unknown)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ResolveBackend(context.Background(), tt.r, tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.out {
				t.Errorf("backend = %s, want %s", b, tt.out)
			}
		})
	}
}

func TestResolveBackendNoTools(t *testing.T) {
	r := &FakeRunner{Missing: map[string]bool{"iptables-nft-save": true, "iptables-legacy-save": true, "iptables-save": true}}
	_, err := ResolveBackend(context.Background(), r, "auto")
	if err == nil || !strings.Contains(err.Error(), "no usable iptables tools") || !strings.Contains(err.Error(), "iptables-save --version") {
		t.Fatalf("err = %v, want one naming the missing tools and the command", err)
	}
	if _, err := ResolveBackend(context.Background(), r, "bpf"); err == nil {
		t.Fatal("unknown backend accepted")
	}
}

func TestInstallCalls(t *testing.T) {
	r := &FakeRunner{}
	cfg := Config{Nameservers: dualNameservers(), Backend: "nft", Runner: r}
	if err := Install(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	calls := r.Calls()
	equalLines(t, "calls", callLines(calls), []string{
		"iptables-nft-save", "iptables-nft-restore --noflush -w",
		"ip6tables-nft-save", "ip6tables-nft-restore --noflush -w",
	})
	golden(t, "install-nameservers-v4.golden", []byte(calls[1].Stdin))
	golden(t, "install-nameservers-v6.golden", []byte(calls[3].Stdin))
}

func TestInstallSkipsBrokenIPv6(t *testing.T) {
	r := &FakeRunner{Errors: map[string]error{"ip6tables-legacy-save": errors.New("ip6tables-legacy-save: can't initialize ip6tables table")}}
	cfg := Config{CaptureAll: true, Backend: "legacy", Runner: r}
	if err := Install(context.Background(), cfg); err != nil {
		t.Fatalf("Install with IPv6 unavailable and no IPv6 nameserver: %v", err)
	}
	equalLines(t, "calls", callLines(r.Calls()), []string{"iptables-legacy-save", "iptables-legacy-restore --noflush -w", "ip6tables-legacy-save"})

	// With an IPv6 nameserver the same failure is an error.
	r = &FakeRunner{Errors: r.Errors}
	cfg = Config{Nameservers: mustAddrs("fd00::10"), Backend: "legacy", Runner: r}
	if err := Install(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "can't initialize") {
		t.Fatalf("err = %v, want the ip6tables error", err)
	}
}

func TestInstallRestoreError(t *testing.T) {
	r := &FakeRunner{Errors: map[string]error{
		"iptables-nft-restore": commandError("iptables-nft-restore", []string{"--noflush", "-w"}, errors.New("exit status 4"),
			"iptables-nft-restore v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n"),
	}}
	err := Install(context.Background(), Config{Nameservers: mustAddrs("10.0.0.1"), Backend: "nft", Runner: r})
	for _, want := range []string{"installing ipv4 rules", "iptables-nft-restore --noflush -w", "exit status 4", "Permission denied", "CAP_NET_ADMIN"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %q", err, want)
		}
	}
}

func TestRemoveCalls(t *testing.T) {
	mixed := string(readFixture(t, "saved-mixed.txt"))
	r := &FakeRunner{Outputs: map[string]string{"iptables-nft-save": mixed, "ip6tables-legacy-save": mixed}}
	if err := Remove(context.Background(), Config{Runner: r}); err != nil {
		t.Fatal(err)
	}
	calls := r.Calls()
	equalLines(t, "calls", callLines(calls), []string{
		"iptables-nft-save", "iptables-nft-restore --noflush -w", "ip6tables-nft-save",
		"iptables-legacy-save", "ip6tables-legacy-save", "ip6tables-legacy-restore --noflush -w",
	})
	golden(t, "remove-mixed.golden", []byte(calls[1].Stdin))
	golden(t, "remove-mixed.golden", []byte(calls[5].Stdin))

	// Nothing installed: only reads.
	r = &FakeRunner{}
	if err := Remove(context.Background(), Config{Backend: "legacy", Runner: r}); err != nil {
		t.Fatal(err)
	}
	equalLines(t, "calls", callLines(r.Calls()), []string{"iptables-legacy-save", "ip6tables-legacy-save"})
}

func TestRemoveErrors(t *testing.T) {
	r := &FakeRunner{Errors: map[string]error{"iptables-nft-save": errors.New("boom")}}
	err := Remove(context.Background(), Config{Backend: "nft", Runner: r})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v, want boom", err)
	}
}

func TestCommandError(t *testing.T) {
	_, err := ExecRunner{}.Run(context.Background(), nil, "meshdns-no-such-tool", "-x")
	if err == nil || !strings.Contains(err.Error(), "meshdns-no-such-tool -x") || !strings.Contains(err.Error(), "iptables package") {
		t.Errorf("missing binary: err = %v", err)
	}
	_, err = ExecRunner{}.Run(context.Background(), []byte("in"), "sh", "-c", "cat >/dev/null; echo oops >&2; exit 3")
	if err == nil || !strings.Contains(err.Error(), "sh -c") || !strings.Contains(err.Error(), "exit status 3: oops") {
		t.Errorf("failing command: err = %v", err)
	}
	out, err := ExecRunner{}.Run(context.Background(), []byte("hello"), "cat")
	if err != nil || string(out) != "hello" {
		t.Errorf("cat: %q, %v", out, err)
	}
}
