package dnsengine

import (
	"fmt"
	"net/netip"
	"testing"
)

// TestGroupFullNodes: a group holds as nodes its names below its Service
// and its reverse names down to the parent they share (the /24, the last
// byte of an IPv6 address), the Service's name and those parents as full
// nodes, and no suffix above them; every name reads back and is found.
func TestGroupFullNodes(t *testing.T) {
	b, err := NewTableBuilder(TableConfig{ClusterDomain: "cluster.local", Group: &GroupKey{Namespace: "ns", Name: "web"}})
	if err != nil {
		t.Fatal(err)
	}
	const svc = "web.ns.svc.cluster.local"
	var names []string
	for i := range 10 {
		host := fmt.Sprintf("h%d.%s", i, svc)
		v4 := netip.AddrFrom4([4]byte{10, 128, 0, byte(i)})
		v6 := netip.AddrFrom16([16]byte{0xfd, 15: byte(i)})
		for _, ip := range []netip.Addr{v4, v6} {
			if err := b.AddAddress(host, ip, "EndpointSlice ns/web-x"); err != nil {
				t.Fatal(err)
			}
			if err := b.AddPTR(ip, host, "EndpointSlice ns/web-x"); err != nil {
				t.Fatal(err)
			}
			names = append(names, ReverseName(ip))
		}
		names = append(names, host)
	}
	if err := b.AddAddress(svc, netip.MustParseAddr("10.96.0.1"), "Service ns/web"); err != nil {
		t.Fatal(err)
	}
	names = append(names, svc)
	g, err := b.BuildGroup()
	if err != nil {
		t.Fatal(err)
	}
	s := &g.seg
	full := 0
	for n := 0; n+1 < len(s.nodes); n++ {
		if s.nodes[n].parent == noNode {
			full++
		}
	}
	// Full: the Service, 10.128.0.in-addr.arpa, the IPv6 addresses'
	// 30-nibble parent. Chained: 10 hosts, 10 + 10 reverse names, the
	// IPv6 names' 31-nibble parent.
	if full != 3 || len(s.nodes)-1 != 3+31 {
		t.Errorf("%d nodes, %d of them full; want 34, 3", len(s.nodes)-1, full)
	}
	for _, name := range names {
		w := mustEncodeName(name)
		n := s.lookup(w)
		if n == noNode {
			t.Fatalf("%s not found", name)
		}
		buf := make([]byte, s.nameLen(n))
		if got := buf[:s.putName(buf, n)]; string(got) != string(w) {
			t.Errorf("%s reads back as %q", name, got)
		}
	}
	if k := g.Key(); k != (GroupKey{Namespace: "ns", Name: "web"}) {
		t.Errorf("key %v", k)
	}
	if s.lookup(mustEncodeName("ns.svc.cluster.local")) != noNode || s.lookup(mustEncodeName("128.10.in-addr.arpa")) != noNode {
		t.Error("a suffix above the group's names is found")
	}
}
