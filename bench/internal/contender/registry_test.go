package contender

import (
	"net/netip"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	got, err := Lookup([]string{"istio", "direct"})
	if err != nil || len(got) != 2 || got[0].Name() != "istio" || got[1].Name() != "direct" {
		t.Errorf("Lookup = %v, %v", got, err)
	}
	for _, bad := range [][]string{{"nope"}, {"direct", "direct"}} {
		if _, err := Lookup(bad); err == nil {
			t.Errorf("Lookup(%v) accepted", bad)
		}
	}
	names := map[string]bool{}
	for _, c := range Registry() {
		if names[c.Name()] {
			t.Errorf("duplicate name %s", c.Name())
		}
		names[c.Name()] = true
	}
	if _, err := LookupUpstream("dnsmasq"); err != nil {
		t.Error(err)
	}
	if _, err := LookupUpstream("bind"); err == nil {
		t.Error("unknown upstream accepted")
	}
}

func TestCheckMissingBinaries(t *testing.T) {
	env := &Env{}
	for _, c := range Registry() {
		err := c.Check(env)
		if c.Name() == "direct" {
			if err != nil {
				t.Errorf("direct: %v", err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s runs without its binary", c.Name())
		}
	}
}

func TestConfigs(t *testing.T) {
	env := &Env{
		Nameservers:   []netip.Addr{netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("fd53::1")},
		ClusterDomain: "cluster.local", PodNamespace: "bench",
		Files:       Files{Objects: "/w/objects.yaml", AllZone: "/w/root.zone"},
		MeshdnsArgs: []string{"--queues", "2"},
		WorkDir:     "/w",
	}
	nl := NodeLocalCorefile(env)
	for _, want := range []string{"cluster.local:15053 {", "forward . 198.18.0.1 fd53::1", "success 9984 30", "bind 127.0.0.1 ::1"} {
		if !strings.Contains(nl, want) {
			t.Errorf("nodelocal Corefile lacks %q:\n%s", want, nl)
		}
	}
	if up := UpstreamCorefile(env); !strings.Contains(up, "bind 198.18.0.1 fd53::1") || !strings.Contains(up, "file /w/root.zone .") {
		t.Errorf("upstream Corefile:\n%s", up)
	}
	args := strings.Join(MeshdnsArgs(env), " ")
	if args != "run --objects /w/objects.yaml --namespace bench --cluster-domain cluster.local --tcp-key-file /w/meshdns-tcp-isn.key --queues 2" {
		t.Errorf("meshdns args %q", args)
	}
}
