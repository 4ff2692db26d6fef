package dnsengine

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"unsafe"

	"github.com/meshdns/meshdns/dnsengine/wire"
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

// TestCarveGroups: groups built while their builder carves share chunks
// (one group's arrays follow the previous group's), answer as groups
// built each on its own, a table whose index shards are carved finds
// them, and a builder that stopped carving carves no more.
func TestCarveGroups(t *testing.T) {
	build := func(b *TableBuilder, name string) *Group {
		t.Helper()
		g := GroupKey{Namespace: "ns", Name: name}
		if err := b.ResetGroup(g); err != nil {
			t.Fatal(err)
		}
		var ips []netip.Addr
		for i := range 3 {
			ips = append(ips, netip.AddrFrom4([4]byte{10, 128, byte(len(name)), byte(i)}))
		}
		addEndpoints(t, b, name+".ns.svc.cluster.local", ips...)
		grp, err := b.BuildGroup()
		if err != nil {
			t.Fatal(err)
		}
		return grp
	}
	newBuilder := func() *TableBuilder {
		b, err := NewTableBuilder(TableConfig{ClusterDomain: "cluster.local", Group: &GroupKey{Namespace: "ns", Name: "first"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.BuildGroup(); err != nil { // finished: ResetGroup may follow
			t.Fatal(err)
		}
		return b
	}
	follows := func(a, b []node) bool {
		return unsafe.Add(unsafe.Pointer(unsafe.SliceData(a)), uintptr(len(a))*unsafe.Sizeof(node{})) == unsafe.Pointer(unsafe.SliceData(b))
	}

	carving, plain := newBuilder(), newBuilder()
	carving.CarveGroups(true)
	a, b := build(carving, "web"), build(carving, "shop")
	if !follows(a.seg.nodes, b.seg.nodes) || !follows(b.seg.nodes, carving.carve.nodes) || cap(a.seg.nodes) != len(a.seg.nodes) {
		t.Error("the carved groups' nodes are not one after the other in the carver's chunk")
	}
	pa, pb := build(plain, "web"), build(plain, "shop")
	for _, pair := range [][2]*Group{{a, pa}, {b, pb}} {
		c, p := &pair[0].seg, &pair[1].seg
		if !slices.Equal(c.nodes, p.nodes) || !slices.Equal(c.recs, p.recs) || !bytes.Equal(c.arena, p.arena) ||
			!slices.Equal(c.src, p.src) || c.narrow() != p.narrow() {
			t.Errorf("group %v: carved and plain differ", pair[0].Key())
		}
		for n := 0; n+1 < len(c.nodes); n++ {
			buf := make([]byte, c.nameLen(uint32(n)))
			if name := buf[:c.putName(buf, uint32(n))]; c.flags(uint32(n))&nodeExists != 0 && c.lookup(name) != uint32(n) {
				t.Errorf("carved group %v: %s not found", pair[0].Key(), wire.DecodeName(name))
			}
		}
	}
	// A table of them, its index shards carved or not, finds each group
	// by its reverse names.
	tb, err := NewTableBuilder(TableConfig{ClusterDomain: "cluster.local"})
	if err != nil {
		t.Fatal(err)
	}
	empty := tb.Build()
	for _, carved := range []bool{false, true} {
		tab := empty.Update(TableUpdate{Set: []*Group{a, b}, Carve: carved})
		for _, g := range []*Group{a, b} {
			ip := netip.AddrFrom4([4]byte{10, 128, byte(len(g.Key().Name)), 1})
			if h := tab.ReverseHolders(ip); len(h) != 1 || h[0] != g.Key() {
				t.Errorf("carved shards %v: %v held by %v, want %v", carved, ip, h, g.Key())
			}
		}
	}
	left := carving.carve.nodes
	carving.CarveGroups(false)
	c := build(carving, "db")
	if carving.carve != nil || unsafe.SliceData(c.seg.nodes) == unsafe.SliceData(left) {
		t.Error("a group built after carving stopped is carved")
	}
}

// TestResetGroupReuse: a builder reset for group after group (keeping
// its segment, maps and scratch) builds each group as a new builder
// does, and leaves the groups it built before unchanged: one with its
// own name passed through, one with many records at a name (layout's
// map of repeats), one with a name twice its others' length.
func TestResetGroupReuse(t *testing.T) {
	type spec struct {
		name string
		eps  int  // endpoints: A at the Service's name and the endpoint's, PTR
		pass bool // the Service's own name passed through
	}
	specs := []spec{
		{name: "many", eps: 20},
		{name: "passed", eps: 2, pass: true},
		{name: "a-much-longer-service-name-than-the-others", eps: 3},
		{name: "few", eps: 1},
	}
	fill := func(b *TableBuilder, sp spec) {
		t.Helper()
		svc := sp.name + ".ns.svc.cluster.local"
		if sp.pass {
			if err := b.AddPassThrough(svc); err != nil {
				t.Fatal(err)
			}
		}
		for i := range sp.eps {
			ip := netip.AddrFrom4([4]byte{10, 128, byte(len(sp.name)), byte(i)})
			host := fmt.Sprintf("h%d.%s", i, svc)
			for _, name := range []string{svc, host} {
				if err := b.AddAddress(name, ip, "EndpointSlice ns/"+sp.name); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.AddPTR(ip, host, "EndpointSlice ns/"+sp.name); err != nil {
				t.Fatal(err)
			}
			if err := b.AddSRV(svc, 0, 5, 80, host, "Service ns/"+sp.name); err != nil {
				t.Fatal(err)
			}
		}
	}
	names := make([]string, len(specs))
	for i, sp := range specs {
		names[i] = sp.name
	}
	checkResetGroupReuse(t, names, func(b *TableBuilder, i int) { fill(b, specs[i]) }, func(i int, g *Group) {
		if sp := specs[i]; sp.pass != (g.seg.more != nil && g.seg.more.pass != nil) {
			t.Errorf("group %s: pass-through names %v", sp.name, g.seg.more)
		}
	})
}

// checkResetGroupReuse builds the groups of Services ns/names[i], each
// filled by fill(b, i), twice over with one builder reset for each, and
// checks that each is the group a new builder builds, as built and once
// the builder has moved on; check looks at each group then.
func checkResetGroupReuse(t *testing.T, names []string, fill func(b *TableBuilder, i int), check func(i int, g *Group)) {
	t.Helper()
	fresh := func(i int) *Group {
		t.Helper()
		b, err := NewTableBuilder(TableConfig{ClusterDomain: "cluster.local", Group: &GroupKey{Namespace: "ns", Name: names[i]}})
		if err != nil {
			t.Fatal(err)
		}
		fill(b, i)
		g, err := b.BuildGroup()
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	same := func(a, b *Group) bool {
		x, y := &a.seg, &b.seg
		return slices.Equal(x.nodes, y.nodes) && slices.Equal(x.recs, y.recs) && bytes.Equal(x.arena, y.arena) &&
			slices.Equal(x.src, y.src) && slices.Equal(x.rows, y.rows) && (x.more == nil) == (y.more == nil) && a.Key() == b.Key()
	}
	b, err := NewTableBuilder(TableConfig{ClusterDomain: "cluster.local", Group: &GroupKey{Namespace: "ns", Name: "first"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.BuildGroup(); err != nil {
		t.Fatal(err)
	}
	var built []*Group
	for round := range 2 {
		for i, name := range names {
			if err := b.ResetGroup(GroupKey{Namespace: "ns", Name: name}); err != nil {
				t.Fatal(err)
			}
			fill(b, i)
			g, err := b.BuildGroup()
			if err != nil {
				t.Fatal(err)
			}
			if !same(g, fresh(i)) {
				t.Errorf("round %d: group %s differs from one a new builder builds", round, name)
			}
			built = append(built, g)
		}
	}
	for k, g := range built {
		i := k % len(names)
		if !same(g, fresh(i)) {
			t.Errorf("group %s (built %d) changed after the builder was reset", names[i], k)
		}
		check(i, g)
	}
}

// TestGroupRefusesOthersNames: a group builder refuses to finish with a
// name that is neither below its Service nor a reverse name (another
// Service's, one above its own, a name outside the cluster domain), and
// finishes with its own names, deep ones included.
func TestGroupRefusesOthersNames(t *testing.T) {
	ip := netip.MustParseAddr("10.128.0.1")
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"web.ns.svc.cluster.local", true},
		{"a.b.c.web.ns.svc.cluster.local", true},
		{"_http._tcp.web.ns.svc.cluster.local", true},
		{"api.ns.svc.cluster.local", false},
		{"a.api.ns.svc.cluster.local", false},
		{"ns.svc.cluster.local", false},
		{"web.other.svc.cluster.local", false},
		{"example.com", false},
		{"a.b.example.com", false},
	} {
		b, err := NewTableBuilder(TableConfig{ClusterDomain: "cluster.local", Group: &GroupKey{Namespace: "ns", Name: "web"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.AddAddress(tc.name, ip, "Service ns/web"); err != nil {
			t.Fatal(err)
		}
		if err := b.AddPTR(ip, tc.name, "Service ns/web"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.BuildGroup(); (err == nil) != tc.ok {
			t.Errorf("%s: BuildGroup error %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

// TestShardSet: a shard set holds the shards added, and yields them in
// order, each once.
func TestShardSet(t *testing.T) {
	var s shardSet
	want := []int{0, 1, 63, 64, 65, 1000, 4095}
	for _, i := range []int{1000, 0, 64, 63, 4095, 1, 65, 64} {
		s.add(i)
	}
	for i := range shards {
		if s.has(i) != slices.Contains(want, i) {
			t.Fatalf("has(%d) = %v", i, s.has(i))
		}
	}
	if got := slices.Collect(s.all()); !slices.Equal(got, want) {
		t.Fatalf("all = %v, want %v", got, want)
	}
}
