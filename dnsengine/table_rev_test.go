package dnsengine

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// revGroup builds the group of key: an endpoint for each of ips, with
// its address and PTR record, and the Service's address vip (which
// versions of a group may change without touching its reverse names).
func revGroup(t *testing.T, key GroupKey, vip byte, ips ...netip.Addr) *Group {
	t.Helper()
	b, err := NewTableBuilder(TableConfig{ClusterDomain: "cluster.local", Group: &key})
	if err != nil {
		t.Fatal(err)
	}
	svc := key.Name + "." + key.Namespace + ".svc.cluster.local"
	if err := b.AddAddress(svc, netip.AddrFrom4([4]byte{10, 96, 0, vip}), "Service"); err != nil {
		t.Fatal(err)
	}
	addEndpoints(t, b, svc, ips...)
	g, err := b.BuildGroup()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// addEndpoints adds to b an endpoint of the Service svc for each of ips:
// the address of h<last byte>.<svc> and its PTR record.
func addEndpoints(t *testing.T, b *TableBuilder, svc string, ips ...netip.Addr) {
	t.Helper()
	for _, ip := range ips {
		host := fmt.Sprintf("h%d.%s", ip.As4()[3], svc)
		if err := b.AddAddress(host, ip, "EndpointSlice"); err != nil {
			t.Fatal(err)
		}
		if err := b.AddPTR(ip, host, "EndpointSlice"); err != nil {
			t.Fatal(err)
		}
	}
}

// emptyGrouped returns a table without names, its hashes cleared of the
// bits clear (Table.hashClear).
func emptyGrouped(t *testing.T, clear uint64) *Table {
	t.Helper()
	b, err := NewTableBuilder(TableConfig{ClusterDomain: "cluster.local"})
	if err != nil {
		t.Fatal(err)
	}
	tab := b.Build()
	tab.hashClear = clear
	return tab
}

// ipN returns the address 10.128.0.n.
func ipN(n int) netip.Addr { return netip.AddrFrom4([4]byte{10, 128, 0, byte(n)}) }

// ipRange returns the addresses ipN(from) to ipN(to-1).
func ipRange(from, to int) []netip.Addr {
	var ips []netip.Addr
	for n := from; n < to; n++ {
		ips = append(ips, ipN(n))
	}
	return ips
}

// revSlot returns the rev shard index of ip's reverse name in tab.
func revSlot(tab *Table, ip netip.Addr) int {
	return slotOf(tab.revHash(appendReverseName(nil, ip)), revBlocks*revLeaves)
}

// changedRevShards returns the rev shard indexes whose shard differs
// (as a pointer) between a and b.
func changedRevShards(a, b *Table) []int {
	var out []int
	for i := range revBlocks * revLeaves {
		if a.rev.shard(uint64(i)<<52) != b.rev.shard(uint64(i)<<52) {
			out = append(out, i)
		}
	}
	return out
}

// TestUpdateRevShards: a new version of a Service's group copies the
// reverse index's shards of the reverse names it adds or loses, and no
// other; the table then answers them from the new version.
func TestUpdateRevShards(t *testing.T) {
	web, db := GroupKey{Namespace: "ns", Name: "web"}, GroupKey{Namespace: "ns", Name: "db"}
	base := emptyGrouped(t, 0).Update(TableUpdate{Set: []*Group{revGroup(t, web, 1, ipRange(0, 10)...), revGroup(t, db, 1, ipRange(20, 30)...)}})
	for _, tc := range []struct {
		name        string
		ips         []netip.Addr
		added, lost []netip.Addr
	}{
		{"same names", ipRange(0, 10), nil, nil},
		{"one lost", ipRange(0, 9), nil, ipRange(9, 10)},
		{"one added", ipRange(0, 11), ipRange(10, 11), nil},
		{"one swapped", append(ipRange(1, 10), ipN(40)), []netip.Addr{ipN(40)}, ipRange(0, 1)},
		{"all lost", nil, nil, ipRange(0, 10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := revGroup(t, web, 2, tc.ips...)
			tab := base.Update(TableUpdate{Set: []*Group{g}})
			var want []int
			for _, ip := range append(slices.Clone(tc.added), tc.lost...) {
				want = append(want, revSlot(tab, ip))
			}
			slices.Sort(want)
			want = slices.Compact(want)
			if got := changedRevShards(base, tab); !slices.Equal(got, want) {
				t.Errorf("rev shards copied: %v, want %v", got, want)
			}
			if len(want) == 0 && *tab.rev != *base.rev {
				t.Error("a block of the reverse index was copied")
			}
			for _, ip := range ipRange(0, 41) {
				wantHolders := []GroupKey(nil)
				switch {
				case slices.Contains(tc.ips, ip):
					wantHolders = []GroupKey{web}
				case ip.As4()[3] >= 20 && ip.As4()[3] < 30:
					wantHolders = []GroupKey{db}
				}
				if got := tab.ReverseHolders(ip); !slices.Equal(got, wantHolders) {
					t.Errorf("%v held by %v, want %v", ip, got, wantHolders)
				}
				if slices.Contains(tc.ips, ip) {
					if seg, _ := tab.find(appendReverseName(nil, ip)); seg != &g.seg {
						t.Errorf("%v not found in the new version", ip)
					}
				}
			}
			fresh := emptyGrouped(t, 0).Update(TableUpdate{Set: []*Group{revGroup(t, db, 1, ipRange(20, 30)...), g}})
			if got, want := tab.Stats().Names, fresh.Stats().Names; got != want {
				t.Errorf("%d names, a fresh table %d", got, want)
			}
		})
	}
}

// TestRevHoldersOrder: a reverse name two Services hold is answered by
// both, in group order (namespace, then name), whichever was set first
// and however often either is replaced, with or without the name.
func TestRevHoldersOrder(t *testing.T) {
	a, b := GroupKey{Namespace: "a", Name: "z"}, GroupKey{Namespace: "b", Name: "a"}
	shared := ipN(1)
	tab := emptyGrouped(t, 0)
	for i, step := range []struct {
		set    GroupKey
		ips    []netip.Addr
		remove bool
		want   []GroupKey
	}{
		{set: b, ips: []netip.Addr{shared, ipN(2)}, want: []GroupKey{b}},
		{set: a, ips: []netip.Addr{shared}, want: []GroupKey{a, b}},
		{set: a, ips: []netip.Addr{shared, ipN(3)}, want: []GroupKey{a, b}},
		{set: b, ips: []netip.Addr{shared}, want: []GroupKey{a, b}},
		{set: a, ips: []netip.Addr{ipN(3)}, want: []GroupKey{b}},
		{set: a, ips: []netip.Addr{shared, ipN(3)}, want: []GroupKey{a, b}},
		{set: b, ips: nil, want: []GroupKey{a}},
		{set: b, ips: []netip.Addr{shared}, want: []GroupKey{a, b}},
		{set: a, remove: true, want: []GroupKey{b}},
		{set: a, ips: []netip.Addr{shared}, want: []GroupKey{a, b}},
	} {
		var u TableUpdate
		if step.remove {
			u.Remove = []GroupKey{step.set}
		} else {
			u.Set = []*Group{revGroup(t, step.set, byte(i), step.ips...)}
		}
		tab = tab.Update(u)
		if got := tab.ReverseHolders(shared); !slices.Equal(got, step.want) {
			t.Fatalf("step %d: %v held by %v, want %v", i, shared, got, step.want)
		}
		var ps [maxRuns]part
		if k := tab.reverseParts(appendReverseName(nil, shared), ps[:]); k != len(step.want) {
			t.Fatalf("step %d: %d segments hold %v, want %d", i, k, shared, len(step.want))
		}
	}
}

// TestRevCollisions: a table whose reverse names share shards and keys,
// and whose Services share hashes, answers as one whose do not: random
// sets and removals of groups holding reverse names of a small pool,
// checked after each update against what the groups hold.
func TestRevCollisions(t *testing.T) {
	keys := []GroupKey{{"a", "x"}, {"a", "y"}, {"b", "x"}, {"b", "w"}, {"c", "v"}, {"c", "x"}}
	pool := ipRange(0, 12)
	for _, tc := range []struct {
		name  string
		clear uint64
	}{
		{"none", 0},
		{"two shards, two keys", ^uint64(0) &^ (1<<63 | 1)},
		{"one shard, one key", ^uint64(0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(len(tc.name))))
			tab := emptyGrouped(t, tc.clear)
			cur := map[GroupKey]*Group{}
			holds := map[GroupKey][]netip.Addr{}
			for step := range 300 {
				k := keys[r.IntN(len(keys))]
				if r.IntN(4) == 0 {
					tab = tab.Update(TableUpdate{Remove: []GroupKey{k}})
					delete(cur, k)
					delete(holds, k)
				} else {
					var ips []netip.Addr
					for _, ip := range pool {
						if r.IntN(3) == 0 {
							ips = append(ips, ip)
						}
					}
					g := revGroup(t, k, byte(step), ips...)
					tab = tab.Update(TableUpdate{Set: []*Group{g}})
					cur[k], holds[k] = g, ips
				}
				checkRevTable(t, tab, cur, holds, pool)
				if t.Failed() {
					t.Fatalf("step %d", step)
				}
			}
		})
	}
}

// checkRevTable checks that tab holds the groups cur, which hold the
// reverse names of the addresses holds gives them, of pool.
func checkRevTable(t *testing.T, tab *Table, cur map[GroupKey]*Group, holds map[GroupKey][]netip.Addr, pool []netip.Addr) {
	t.Helper()
	var gs []*Group
	for _, g := range cur {
		gs = append(gs, g)
	}
	slices.SortFunc(gs, compareGroups)
	for _, ip := range pool {
		var want []GroupKey
		var wantSegs []*segment
		for _, g := range gs {
			if slices.Contains(holds[g.Key()], ip) {
				want, wantSegs = append(want, g.Key()), append(wantSegs, &g.seg)
			}
		}
		if got := tab.ReverseHolders(ip); !slices.Equal(got, want) {
			t.Errorf("%v held by %v, want %v", ip, got, want)
		}
		w := appendReverseName(nil, ip)
		var ps [maxRuns]part
		k := tab.reverseParts(w, ps[:])
		var got []*segment
		for _, p := range ps[:max(k, 0)] {
			got = append(got, p.seg)
		}
		if !slices.Equal(got, wantSegs) {
			t.Errorf("%v: reverseParts %d segments, want %d in order", ip, k, len(wantSegs))
		}
		if seg, _ := tab.find(w); len(wantSegs) > 0 && seg != wantSegs[0] {
			t.Errorf("%v: find returns another segment than the first holder's", ip)
		}
	}
	for _, g := range gs {
		if got := tab.groupOf(g.keyName()); got != g {
			t.Errorf("group of %v: %v", g.Key(), got)
		}
	}
	fresh := emptyGrouped(t, 0).Update(TableUpdate{Set: gs})
	if got, want := tab.Stats(), fresh.Stats(); got.Names != want.Names || got.Records != want.Records {
		t.Errorf("%d names, %d records; a fresh table %d, %d", got.Names, got.Records, want.Names, want.Records)
	}
	if tab.ngroups != len(gs) {
		t.Errorf("%d groups, want %d", tab.ngroups, len(gs))
	}
}
