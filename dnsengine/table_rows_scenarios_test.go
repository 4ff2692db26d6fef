package dnsengine_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/meshdns/meshdns/sync/model"
	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// rowsStep is one change of a rows scenario.
type rowsStep struct {
	name   string
	change func(*model.Objects)
}

// checkRowsSteps applies the steps in turn through model.Incremental and
// checks after each that the incremental table answers, counts and lists
// as the reference and a fresh build do, and that the groups holding each
// endpoint's reverse name are those of a fresh incremental table.
func checkRowsSteps(t *testing.T, objs *model.Objects, steps []rowsStep) (rows int) {
	t.Helper()
	return checkRowsStepsOpts(t, model.DefaultOptions(), objs, steps)
}

// checkRowsStepsOpts is checkRowsSteps with options opts.
func checkRowsStepsOpts(t *testing.T, opts model.Options, objs *model.Objects, steps []rowsStep) (rows int) {
	t.Helper()
	inc, err := model.NewIncremental(opts)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(12, 34))
	for _, st := range steps {
		st.change(objs)
		tab, _, err := inc.Apply(objs, opts.Serial)
		if err != nil {
			t.Fatal(err)
		}
		want, ref := buildBoth(t, objs, opts)
		if d := cmp.Diff(want.Stats(), tab.Stats()); d != "" {
			t.Fatalf("%s: stats differ (-build +incremental):\n%s", st.name, d)
		}
		if d := cmp.Diff(want.Apexes(), tab.Apexes()); d != "" {
			t.Fatalf("%s: apexes differ (-build +incremental):\n%s", st.name, d)
		}
		fresh, err := model.NewIncremental(opts)
		if err != nil {
			t.Fatal(err)
		}
		ftab, _, err := fresh.Apply(objs, opts.Serial)
		if err != nil {
			t.Fatal(err)
		}
		for _, es := range objs.EndpointSlices {
			for _, e := range es.Endpoints {
				for _, a := range e.Addresses {
					ip := netip.MustParseAddr(a).Unmap()
					if d := cmp.Diff(ftab.ReverseHolders(ip), tab.ReverseHolders(ip)); d != "" {
						t.Fatalf("%s: ReverseHolders(%s) (-fresh +incremental):\n%s", st.name, ip, d)
					}
				}
			}
		}
		for _, n := range queryNames(ref) {
			if g, w := tab.GroupHasRecords(n), ftab.GroupHasRecords(n); g != w {
				t.Fatalf("%s: GroupHasRecords(%s) = %v, fresh %v", st.name, n, g, w)
			}
		}
		compareTables(t, r, tab, ref)
		rows += dnsengine.TableRows(tab)
	}
	return rows
}

// TestRowsClusterIPFlip: an endpoint address that becomes, then stops
// being, another Service's cluster IP loses, then regains, its PTR record:
// its row's reverse name comes and goes.
func TestRowsClusterIPFlip(t *testing.T) {
	objs := &model.Objects{
		Services: []*corev1.Service{rowsService("web", "10.96.0.1", 80), rowsService("api", "10.96.0.2", 80)},
		EndpointSlices: []*discoveryv1.EndpointSlice{
			rowsSlice("web", "web-a", false, 1, "10.96.0.5", "10.1.0.1", "10.1.0.2"),
			rowsSlice("web", "web-b", true, 1, "fd00::5", "fd00::1"),
			rowsSlice("api", "api-a", false, 1, "10.96.0.5", "10.1.0.2"),
			rowsSlice("api", "api-b", true, 1, "fd00::5=h"),
		},
	}
	rows := checkRowsSteps(t, objs, []rowsStep{
		{"first", func(*model.Objects) {}},
		{"cluster IPs taken", func(o *model.Objects) {
			o.Services = append(o.Services, rowsService("other", "10.96.0.5", 80), rowsService("other6", "fd00::5", 80))
		}},
		{"cluster IPs let go", func(o *model.Objects) {
			o.Services = o.Services[:2]
		}},
		{"one taken, api's slices gone", func(o *model.Objects) {
			o.Services = append(o.Services, rowsService("other6", "fd00::5", 80))
			o.EndpointSlices = o.EndpointSlices[:2]
		}},
	})
	if rows == 0 {
		t.Fatal("no rows")
	}
}

// TestRowsSharedAddress: an address three Services' endpoints share, its
// reverse name in three groups, as rows or nodes in turn.
func TestRowsSharedAddress(t *testing.T) {
	objs := &model.Objects{
		Services: []*corev1.Service{
			rowsService("a", "10.96.0.1", 80), rowsService("b", "10.96.0.2", 80, 81), rowsService("c", corev1.ClusterIPNone, 80),
		},
		EndpointSlices: []*discoveryv1.EndpointSlice{
			rowsSlice("a", "a-1", false, 1, "10.1.0.1", "10.1.0.2"),
			rowsSlice("b", "b-1", false, 2, "10.1.0.1", "10.1.0.3"),
			rowsSlice("c", "c-1", false, 1, "10.1.0.1", "10.1.0.4"),
			rowsSlice("a", "a-6", true, 1, "fd00::1"),
			rowsSlice("b", "b-6", true, 1, "fd00::1"),
		},
	}
	rows := checkRowsSteps(t, objs, []rowsStep{
		{"first", func(*model.Objects) {}},
		{"b's a hostname", func(o *model.Objects) {
			o.EndpointSlices[1] = rowsSlice("b", "b-1", false, 2, "10.1.0.1=h-1", "10.1.0.3")
			o.EndpointSlices[4] = rowsSlice("b", "b-6", true, 1, "fd00::1=h-6")
		}},
		{"a's gone", func(o *model.Objects) {
			o.EndpointSlices[0] = rowsSlice("a", "a-1", false, 1, "10.1.0.2")
			o.EndpointSlices[3] = rowsSlice("a", "a-6", true, 1)
		}},
		{"b's a row again", func(o *model.Objects) {
			o.EndpointSlices[1] = rowsSlice("b", "b-1", false, 2, "10.1.0.1", "10.1.0.3")
			o.EndpointSlices[4] = rowsSlice("b", "b-6", true, 1, "fd00::1")
		}},
		{"a's back, c's gone", func(o *model.Objects) {
			o.EndpointSlices[0] = rowsSlice("a", "a-1", false, 1, "10.1.0.1", "10.1.0.2")
			o.EndpointSlices[3] = rowsSlice("a", "a-6", true, 1, "fd00::1")
			o.Services = o.Services[:2]
			o.EndpointSlices = slices.Delete(o.EndpointSlices, 2, 3)
		}},
	})
	if rows == 0 {
		t.Fatal("no rows")
	}
}

// TestRowsAddressForms: IPv6 rows whose dashed labels begin or end with
// "--", the zero addresses, addresses whose ports differ row to row (SRV
// sets not shared), v4 and v6 rows interleaved.
func TestRowsAddressForms(t *testing.T) {
	objs := &model.Objects{
		Services: []*corev1.Service{rowsService("w", "10.96.0.9", 80, 81, 82)},
		EndpointSlices: []*discoveryv1.EndpointSlice{
			rowsSlice("w", "w-4", false, 2, "0.0.0.0", "255.255.255.255", "1.2.3.4", "100.1.1.1"),
			rowsSlice("w", "w-5", false, 1, "0.0.0.1", "9.9.9.9"),
			rowsSlice("w", "w-6", false, 3, "0.0.0.2"),
			rowsSlice("w", "w-1", true, 1, "::", "::1", "fd00::", "::ffff:0:0", "1::", "ff02::1:ff00:1", "2001:db8:0:0:1:0:0:1", "fe80::1:2:3:4"),
			rowsSlice("w", "w-2", true, 2, "::2", "fd00::2"),
			rowsSlice("w", "w-3", true, 3, "::3", "fd00::3"),
		},
	}
	rows := checkRowsSteps(t, objs, []rowsStep{
		{"first", func(*model.Objects) {}},
		{"ports changed", func(o *model.Objects) {
			o.EndpointSlices[4] = rowsSlice("w", "w-2", true, 3, "::2", "fd00::2")
		}},
	})
	if rows == 0 {
		t.Fatal("no rows")
	}
}

// TestProcessAllocsRows: every way a row is answered (its names by both
// families, its reverse name alone and with another group's, a CNAME to
// it, SRV glue from rows) allocates nothing.
func TestProcessAllocsRows(t *testing.T) {
	_, e := rowsEngine(t)
	rev := func(a string) string { r, _ := dns.ReverseAddr(a); return r }
	var kinds []packetKind
	for _, k := range []struct {
		name string
		qt   uint16
		want verdict.Reason
	}{
		{"10-1-0-3.web.ns.svc.cluster.local", dns.TypeA, verdict.ReasonAnswered},
		{"10-1-0-3.web.ns.svc.cluster.local", dns.TypeANY, verdict.ReasonAnswered},
		{"10-1-0-3.web.ns.svc.cluster.local", dns.TypeSRV, verdict.ReasonAnswered},
		{"fd00-0-0-1--5.web.ns.svc.cluster.local", dns.TypeAAAA, verdict.ReasonAnswered},
		{"fd00-0-0-1-0-0-0-5.web.ns.svc.cluster.local", dns.TypeAAAA, verdict.ReasonNXDomain},
		{"_p0._tcp.web.ns.svc.cluster.local", dns.TypeSRV, verdict.ReasonAnswered},
		{"alias.ns.svc.cluster.local", dns.TypeA, verdict.ReasonAnswered},
		{rev("10.1.0.3"), dns.TypePTR, verdict.ReasonAnswered},
		{rev("fd00::1"), dns.TypePTR, verdict.ReasonAnswered},
		{rev("10.1.0.1"), dns.TypePTR, verdict.ReasonAnswered}, // web's and api's
	} {
		pkt, err := enginetest.QueryPacket(enginetest.Default4(), enginetest.NewQuery(k.name, k.qt))
		if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, packetKind{k.name + "/" + dns.TypeToString[k.qt], pkt, k.want})
	}
	checkAllocs(t, e, kinds)
}

// TestRowsAliasesAndEntries: ExternalNames pointing at rows' names in
// their own and other spellings and at their reverse names, and
// ServiceEntries whose hosts are a row's name, lie below one, or cover
// the rows by a wildcard.
func TestRowsAliasesAndEntries(t *testing.T) {
	ext := func(name, target string) *corev1.Service {
		s := rowsService(name, "")
		s.Spec.Type, s.Spec.ExternalName = corev1.ServiceTypeExternalName, target
		return s
	}
	se := func(name string, hosts []string, addrs ...string) *model.ServiceEntry {
		return &model.ServiceEntry{Namespace: "ns", Name: name, Hosts: hosts, Addresses: addrs, Resolution: model.ResolutionStatic}
	}
	objs := &model.Objects{
		Services: []*corev1.Service{
			rowsService("web", "10.96.0.1", 80, 81),
			ext("a1", "10-1-0-3.web.ns.svc.cluster.local"),
			ext("a2", "10-01-0-3.web.ns.svc.cluster.local"),
			ext("a3", "3.0.1.10.in-addr.arpa"),
			ext("a4", "fd00--1.web.ns.svc.cluster.local"),
			ext("a5", "FD00--1.web.ns.svc.cluster.local"),
			ext("a6", "fd00-0-0-0-0-0-0-1.web.ns.svc.cluster.local"),
			ext("a7", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa"),
			ext("a8", "x.10-1-0-3.web.ns.svc.cluster.local"),
		},
		EndpointSlices: []*discoveryv1.EndpointSlice{
			rowsSlice("web", "web-a", false, 2, "10.1.0.3", "10.1.0.4", "10.100.0.9"),
			rowsSlice("web", "web-b", true, 2, "fd00::1", "fd00::2"),
		},
		ServiceEntries: []*model.ServiceEntry{
			se("e1", []string{"x.10-1-0-3.web.ns.svc.cluster.local"}, "10.100.0.1"),
			se("e2", []string{"10-1-0-4.web.ns.svc.cluster.local"}, "10.100.0.2"),
			se("e3", []string{"*.web.ns.svc.cluster.local"}, "10.100.0.3"),
			se("e4", []string{"ext.example.com"}, "10.1.0.3", "fd00::2", "10.100.0.9"),
		},
	}
	rows := checkRowsSteps(t, objs, []rowsStep{
		{"first", func(*model.Objects) {}},
		{"entries gone", func(o *model.Objects) { o.ServiceEntries = nil }},
		{"entries back", func(o *model.Objects) {
			o.ServiceEntries = []*model.ServiceEntry{se("e4", []string{"ext.example.com"}, "10.1.0.3", "fd00::2")}
		}},
	})
	if rows == 0 {
		t.Fatal("no rows")
	}
}

// TestRowsLarge: Services of hundreds of rows of both families, their
// ports varying slice to slice: SRV answers truncated at every room,
// glue from rows, the rows' SRV sets and IPv6 addresses moved by the
// arena's compaction.
func TestRowsLarge(t *testing.T) {
	objs := &model.Objects{
		Services: []*corev1.Service{rowsService("big", "10.96.0.1", 80, 81, 82), rowsService("big6", "fd00:96::1", 80, 81)},
	}
	for s := range 12 {
		var a4, a6 []string
		for i := range 25 {
			a4 = append(a4, netip.AddrFrom4([4]byte{10, 2, byte(s), byte(i*7 + 1)}).String())
			a6 = append(a6, netip.AddrFrom16([16]byte{0: 0xfd, 1: 0, 5: byte(s), 14: byte(i), 15: byte(s + i)}).String())
		}
		objs.EndpointSlices = append(objs.EndpointSlices,
			rowsSlice("big", "big-"+string(rune('a'+s)), false, 1+s%3, a4...),
			rowsSlice("big6", "big6-"+string(rune('a'+s)), true, 1+s%2, a6...))
	}
	rows := checkRowsSteps(t, objs, []rowsStep{
		{"first", func(*model.Objects) {}},
		{"a slice's ports changed", func(o *model.Objects) {
			o.EndpointSlices[2] = rowsSlice("big", "big-b", false, 3, "10.2.1.1", "10.2.1.8", "10.2.200.1=h")
		}},
	})
	if rows < 500 {
		t.Fatalf("%d rows", rows)
	}
}

// TestRowsComeAndGo: a group's rows all go when it can hold none (an
// ExternalName) and come back, its Service's name with an AAAA record
// added before an A in between (glue in the order added), its reverse
// names shared with another group's rows throughout.
func TestRowsComeAndGo(t *testing.T) {
	objs := &model.Objects{
		Services: []*corev1.Service{rowsService("hl", corev1.ClusterIPNone, 80), rowsService("other", "10.96.0.2", 80)},
		EndpointSlices: []*discoveryv1.EndpointSlice{
			rowsSlice("hl", "hl-b", false, 1, "10.1.0.1", "10.1.0.2"),
			rowsSlice("other", "other-a", false, 1, "10.1.0.1", "10.1.0.3"),
			rowsSlice("other", "other-b", true, 1, "fd00::1"),
		},
	}
	mixed := rowsSlice("hl", "hl-a", true, 1, "fd00::1", "fd00::2")
	rows := checkRowsSteps(t, objs, []rowsStep{
		{"first", func(*model.Objects) {}},
		{"mixed", func(o *model.Objects) { o.EndpointSlices = append(o.EndpointSlices, mixed) }},
		{"not mixed", func(o *model.Objects) { o.EndpointSlices = o.EndpointSlices[:3] }},
		{"mixed again", func(o *model.Objects) { o.EndpointSlices = append(o.EndpointSlices, mixed) }},
		{"an ExternalName", func(o *model.Objects) {
			o.Services[0] = rowsService("hl", "", 80)
			o.Services[0].Spec.Type, o.Services[0].Spec.ExternalName = corev1.ServiceTypeExternalName, "other.ns.svc.cluster.local"
		}},
		{"headless again", func(o *model.Objects) {
			o.Services[0] = rowsService("hl", corev1.ClusterIPNone, 80)
			o.EndpointSlices = o.EndpointSlices[:3]
		}},
	})
	if rows == 0 {
		t.Fatal("no rows")
	}
}

// TestRowsBesideMixedGlue: a headless Service whose name and one
// endpoint's hostname got an AAAA record before an A (their glue listed
// in the order added, by record index) still holds its other endpoints
// as rows, and its SRV glue follows that order once the records are
// renumbered.
func TestRowsBesideMixedGlue(t *testing.T) {
	objs := &model.Objects{
		Services: []*corev1.Service{rowsService("hl", corev1.ClusterIPNone, 80)},
		EndpointSlices: []*discoveryv1.EndpointSlice{
			rowsSlice("hl", "hl-a", true, 1, "fd00::1", "fd00::2=h-6"),
			rowsSlice("hl", "hl-b", false, 1, "10.1.0.1", "10.1.0.2=h-6"),
		},
	}
	inc, err := model.NewIncremental(model.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	tab, _, err := inc.Apply(objs, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := dnsengine.TableRowNames(tab)
	slices.Sort(got)
	want := []string{"10-1-0-1.hl.ns.svc.cluster.local.", "fd00--1.hl.ns.svc.cluster.local."}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
	checkRowsSteps(t, objs, []rowsStep{{"mixed", func(*model.Objects) {}}})
}

// randomRowsObjects returns Services sharing a small pool of addresses,
// their endpoints named by dashed addresses (their own, another's) or
// hostnames, with up to 17 ports: rows and the nodes next to them.
func randomRowsObjects(r *rand.Rand) *model.Objects {
	pool := []string{"10.1.0.1", "10.1.0.2", "10.1.0.3", "10.96.0.1", "10.96.0.2", "0.0.0.0", "fd00::1", "fd00::2", "fd00::", "::", "fd00:96::1", "2001:db8:0:1:1:1:1:1"}
	v4, v6 := pool[:6], pool[6:]
	objs := &model.Objects{}
	for _, name := range []string{"a", "b", "c"} {
		if r.IntN(5) == 0 {
			continue
		}
		ip := corev1.ClusterIPNone
		switch r.IntN(3) {
		case 0:
			ip = pick(r, v4)
		case 1:
			ip = pick(r, v6)
		}
		var ports []int32
		for i := range r.IntN(4) {
			ports = append(ports, int32(80+i))
		}
		if r.IntN(6) == 0 {
			for i := range 16 {
				ports = append(ports, int32(100+i))
			}
		}
		objs.Services = append(objs.Services, rowsService(name, ip, ports...))
		for s := range r.IntN(3) {
			fam := v4
			if s == 1 || r.IntN(3) == 0 {
				fam = v6
			}
			var addrs []string
			for range r.IntN(5) {
				a := pick(r, fam)
				switch r.IntN(6) {
				case 0:
					a += "=h" + fmt.Sprint(r.IntN(2))
				case 1:
					a += "=" + string(dnsengine.AppendDashed(nil, netip.MustParseAddr(pick(r, fam))))
				case 2:
					a += "=" + strings.ToUpper(string(dnsengine.AppendDashed(nil, netip.MustParseAddr(a))))
				}
				addrs = append(addrs, a)
			}
			objs.EndpointSlices = append(objs.EndpointSlices, rowsSlice(name, fmt.Sprintf("%s-%d", name, s), slices.Equal(fam, v6), r.IntN(len(ports)+1), addrs...))
		}
	}
	return objs
}

func pick[T any](r *rand.Rand, pool []T) T { return pool[r.IntN(len(pool))] }

// TestRowsRandom: random sets of randomRowsObjects, one after the other
// through one model.Incremental.
func TestRowsRandom(t *testing.T) {
	n := 25 // about 4 s; FuzzIncremental explores further
	if testing.Short() {
		n = 8
	}
	r := rand.New(rand.NewPCG(77, 78))
	rows := 0
	for range n {
		seed := r.Uint64()
		rr := rand.New(rand.NewPCG(seed, 1))
		var steps []rowsStep
		for i := range 5 {
			next := randomRowsObjects(rr)
			steps = append(steps, rowsStep{fmt.Sprintf("seed %d step %d", seed, i), func(o *model.Objects) { *o = *next }})
		}
		opts := model.DefaultOptions()
		switch rr.IntN(3) {
		case 0:
			opts.Zones = []string{"cluster.local", "1.10.in-addr.arpa", "0.0.d.f.ip6.arpa"}
		case 1:
			opts.Zones = []string{"cluster.local", "in-addr.arpa", "ip6.arpa"}
		}
		rows += checkRowsStepsOpts(t, opts, &model.Objects{}, steps)
	}
	if rows < n {
		t.Fatalf("%d rows over %d runs", rows, n)
	}
}

// TestRowsVirtualBeyond16Bits: a group of more rows than a narrow index
// numbers (their virtual nodes past 1<<16) answers its last rows' names
// and reverse names.
func TestRowsVirtualBeyond16Bits(t *testing.T) {
	if testing.Short() {
		t.Skip("large")
	}
	var addrs []string
	for i := range 33000 {
		addrs = append(addrs, netip.AddrFrom4([4]byte{10, 3, byte(i >> 8), byte(i)}).String())
	}
	objs := &model.Objects{
		Services:       []*corev1.Service{rowsService("huge", corev1.ClusterIPNone, 80)},
		EndpointSlices: []*discoveryv1.EndpointSlice{rowsSlice("huge", "huge-a", false, 1, addrs...)},
	}
	inc, err := model.NewIncremental(model.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	tab, _, err := inc.Apply(objs, 1)
	if err != nil {
		t.Fatal(err)
	}
	if n := dnsengine.TableRows(tab); n != len(addrs) {
		t.Fatalf("%d rows", n)
	}
	e, err := dnsengine.New(dnsengine.DefaultConfig(), dnsengine.StaticRegistry{T: tab})
	if err != nil {
		t.Fatal(err)
	}
	ask := func(name string, qt uint16) []dns.RR { return askTable(t, e, tab, name, qt, 0).Answer }
	for _, a := range append(addrs[:2:2], addrs[len(addrs)-2:]...) {
		name := string(dnsengine.AppendDashed(nil, netip.MustParseAddr(a))) + ".huge.ns.svc.cluster.local."
		if an := ask(name, dns.TypeA); len(an) != 1 || an[0].(*dns.A).A.String() != a {
			t.Errorf("%s A: %v", name, an)
		}
		if an := ask(name, dns.TypeSRV); len(an) != 1 || an[0].(*dns.SRV).Target != name {
			t.Errorf("%s SRV: %v", name, an)
		}
		if an := ask(dnsReverse(a), dns.TypePTR); len(an) != 1 || an[0].(*dns.PTR).Ptr != name {
			t.Errorf("%s PTR: %v", dnsReverse(a), an)
		}
	}
}
