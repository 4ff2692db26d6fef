package dnsengine

import (
	"net/netip"
	"testing"
)

// TestResetGroupReuseRows: a builder reset group after group builds
// groups with rows as a new builder does, and leaves the groups it built
// before unchanged (rows, their SRV sets and addresses in the arena).
func TestResetGroupReuseRows(t *testing.T) {
	type spec struct {
		name  string
		eps   int
		v6    bool
		ports int
	}
	specs := []spec{
		{name: "many", eps: 40, ports: 2},
		{name: "six", eps: 7, v6: true, ports: 1},
		{name: "a-much-longer-service-name-than-the-others", eps: 3, ports: 3},
		{name: "few", eps: 1},
	}
	fill := func(b *TableBuilder, sp spec) {
		t.Helper()
		svc := sp.name + ".ns.svc.cluster.local"
		for i := range sp.eps {
			ip := netip.AddrFrom4([4]byte{10, 128, byte(len(sp.name)), byte(i)})
			if sp.v6 {
				ip = netip.AddrFrom16([16]byte{0: 0xfd, 13: byte(len(sp.name)), 15: byte(i)})
			}
			host := string(AppendDashed(nil, ip)) + "." + svc
			for _, name := range []string{svc, host} {
				if err := b.AddAddress(name, ip, "EndpointSlice ns/"+sp.name); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.AddPTR(ip, host, "EndpointSlice ns/"+sp.name); err != nil {
				t.Fatal(err)
			}
			for p := range sp.ports + i%2 {
				if err := b.AddSRV(host, 0, 5, uint16(80+p), host, "Service ns/"+sp.name); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	names := make([]string, len(specs))
	for i, sp := range specs {
		names[i] = sp.name
	}
	checkResetGroupReuse(t, names, func(b *TableBuilder, i int) { fill(b, specs[i]) }, func(i int, g *Group) {
		sp := specs[i]
		if len(g.seg.rows) != sp.eps {
			t.Errorf("group %s: %d rows, want %d", sp.name, len(g.seg.rows), sp.eps)
		}
		for j := range g.seg.rows {
			n := g.seg.rowNode(j)
			var buf [255]byte
			if got := g.seg.lookup(g.seg.rowName(&buf, n)); got != n {
				t.Errorf("group %s row %d: lookup %d, want %d", sp.name, j, got, n)
			}
		}
	})
}
