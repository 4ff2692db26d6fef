package dnsengine_test

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
)

// BenchmarkTableUpdateGroup is Table.Update alone, for the change of
// BenchmarkTableUpdate: a table of Services of 10 endpoints each, their
// addresses and PTR records in groups, gets a new version of one group,
// without one endpoint and then with it again. ns/op is one update's
// cost, without the model's. MESHDNS_BENCH_ENDPOINTS sets the sizes as
// for BenchmarkTableBuild.
//
//	go test -run '^$' -bench BenchmarkTableUpdateGroup ./dnsengine/
func BenchmarkTableUpdateGroup(b *testing.B) {
	for _, eps := range benchSizes(b) {
		b.Run(fmt.Sprintf("endpoints=%d", eps), func(b *testing.B) {
			gb, err := dnsengine.NewTableBuilder(dnsengine.TableConfig{ClusterDomain: "cluster.local", Group: &dnsengine.GroupKey{Namespace: "ns", Name: "first"}})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := gb.BuildGroup(); err != nil {
				b.Fatal(err)
			}
			// group builds the group of Service s with its endpoints from
			// the first on.
			group := func(s, first int) *dnsengine.Group {
				name := fmt.Sprintf("svc-%d", s)
				if err := gb.ResetGroup(dnsengine.GroupKey{Namespace: "ns", Name: name}); err != nil {
					b.Fatal(err)
				}
				svc := name + ".ns.svc.cluster.local"
				for e := first; e < 10; e++ {
					i := s*10 + e
					ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
					host := fmt.Sprintf("h%d.%s", e, svc)
					for _, n := range []string{svc, host} {
						if err := gb.AddAddress(n, ip, ""); err != nil {
							b.Fatal(err)
						}
					}
					if err := gb.AddPTR(ip, host, ""); err != nil {
						b.Fatal(err)
					}
				}
				g, err := gb.BuildGroup()
				if err != nil {
					b.Fatal(err)
				}
				return g
			}
			services := eps / 10
			gs := make([]*dnsengine.Group, services)
			for s := range gs {
				gs[s] = group(s, 0)
			}
			tb, err := dnsengine.NewTableBuilder(dnsengine.TableConfig{ClusterDomain: "cluster.local"})
			if err != nil {
				b.Fatal(err)
			}
			tab := tb.Build().Update(dnsengine.TableUpdate{Set: gs})
			versions := [2]*dnsengine.Group{group(services/2, 1), gs[services/2]}
			b.ReportAllocs()
			b.ResetTimer()
			for n := range b.N {
				tab = tab.Update(dnsengine.TableUpdate{Set: versions[n%2 : n%2+1]})
			}
		})
	}
}
