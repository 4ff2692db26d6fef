package dnsengine_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/sync/model"
	"github.com/meshdns/meshdns/sync/model/modeltest"
	"github.com/miekg/dns"
)

// The differential tests build the compact table and the reference table
// (reference_test.go: the table as it was, a map of nodes holding
// pre-encoded records) from the same objects and check that every query
// form gets the same answer, byte for byte, from both.

// buildBoth builds both tables from objs with opts.
func buildBoth(t testing.TB, objs *model.Objects, opts model.Options) (*dnsengine.Table, *dnsengine.RefTable) {
	t.Helper()
	tab, rep, err := model.Build(objs, opts)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := opts.TableConfig()
	if err != nil {
		t.Fatal(err)
	}
	rb, err := dnsengine.NewRefBuilder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	refRep, err := model.BuildInto(objs, opts, rb)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(refRep, rep); d != "" {
		t.Fatalf("reports differ (-ref +table):\n%s", d)
	}
	return tab, rb.Build()
}

// queryNames returns the names worth asking about: every name of the
// reference, names below and beside them, names under its wildcards, the
// targets of its records, reverse names, pod names and names nobody owns.
func queryNames(ref *dnsengine.RefTable) []string {
	set := map[string]bool{}
	add := func(n string) {
		if n != "" && !strings.HasSuffix(n, "..") {
			set[dns.Fqdn(n)] = true
		}
	}
	for _, n := range ref.Names() {
		add(n)
		add("nx." + n)
		add("_http._tcp." + n)
		add("a.b." + n)
		for _, v := range addressVariants(n) {
			add(v)
		}
	}
	for _, r := range ref.Records() {
		if s, ok := strings.CutPrefix(r.Name, "*."); ok {
			add("x." + s)
			add("y.x." + s)
			add(s)
		}
		f := strings.Fields(r.Data)
		add(f[len(f)-1])
	}
	for _, a := range []string{"10.0.0.1", "10.0.0.2", "10.96.0.10", "10.244.1.7", "10.100.0.1", "240.240.0.7", "fd00::1", "fd00:10:96::a", "2001:2::9"} {
		add(dnsReverse(a))
	}
	for _, n := range []string{"cluster.local", "svc.cluster.local", "pod.cluster.local", "default.pod.cluster.local",
		"10-0-0-1.default.pod.cluster.local", "fd00--1.prod.pod.cluster.local", "bad.default.pod.cluster.local",
		"x.y.default.pod.cluster.local", "web", "db", "nothing.default.svc.cluster.local", "example.com", "example.org",
		"dns-version.cluster.local", "ns.dns.cluster.local", "unknown.example.net", "in-addr.arpa", "0.10.in-addr.arpa"} {
		add(n)
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	return out
}

// addressVariants returns names that hold the same address as name in
// another spelling, for a name whose first label is an endpoint's dashed
// address or that is a reverse name: a grouped table finds those names by
// the address they spell (table_rows.go), and must answer only the
// address's own spelling. Also the reverse name's parent.
func addressVariants(name string) []string {
	label, rest, _ := strings.Cut(strings.TrimSuffix(name, "."), ".")
	var out []string
	if strings.HasSuffix(name, ".in-addr.arpa.") || strings.HasSuffix(name, ".ip6.arpa.") {
		out = append(out, "0"+label+"."+rest, "00"+label+"."+rest, rest)
		if strings.HasSuffix(name, ".ip6.arpa.") {
			out = append(out, label+label+"."+rest)
		}
		return out
	}
	if !strings.Contains(label, "-") {
		return nil
	}
	sep := "."
	if strings.Count(label, "-") != 3 || strings.Contains(label, "--") {
		sep = ":"
	}
	ip, err := netip.ParseAddr(strings.ReplaceAll(label, "-", sep))
	if err != nil {
		return nil
	}
	out = append(out, "0"+label+"."+rest, strings.Replace(label, "-", "-0", 1)+"."+rest)
	if ip.Is6() {
		// The address written out in full, and with "::" elsewhere.
		full := strings.ReplaceAll(ip.StringExpanded(), ":", "-")
		out = append(out, full+"."+rest, strings.Replace(full, "0000", "0", 1)+"."+rest, strings.ToUpper(label)+"."+rest)
	}
	return out
}

func dnsReverse(a string) string {
	r, _ := dns.ReverseAddr(a)
	return r
}

var queryTypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeSRV, dns.TypePTR, dns.TypeCNAME, dns.TypeTXT, dns.TypeNS, dns.TypeSOA, dns.TypeANY, dns.TypeMX}

// mixCase returns name with letters upper-cased at random (0x20 encoding).
func mixCase(r *rand.Rand, name string) string {
	b := []byte(name)
	for i, c := range b {
		if 'a' <= c && c <= 'z' && r.IntN(2) == 0 {
			b[i] = c - 32
		}
	}
	return string(b)
}

// compareTables asks both tables every query form and fails on the first
// difference. It also compares the debug listing (records, provenance and
// names) and the counts.
func compareTables(t testing.TB, r *rand.Rand, tab *dnsengine.Table, ref *dnsengine.RefTable) {
	t.Helper()
	if d := cmp.Diff(ref.Records(), tab.Records()); d != "" {
		t.Fatalf("records differ (-ref +table):\n%s", d)
	}
	if d := cmp.Diff(ref.Names(), tab.Names()); d != "" {
		t.Fatalf("names differ (-ref +table):\n%s", d)
	}
	e, err := dnsengine.New(dnsengine.DefaultConfig(), dnsengine.StaticRegistry{T: tab})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range queryNames(ref) {
		for _, qt := range queryTypes {
			m := new(dns.Msg)
			m.SetQuestion(mixCase(r, name), qt)
			m.Id = uint16(r.Uint32())
			m.RecursionDesired = r.IntN(2) == 0
			if r.IntN(2) == 0 {
				m.SetEdns0(uint16(512+r.IntN(4000)), r.IntN(2) == 0)
			}
			msg, err := m.Pack()
			if err != nil {
				continue // a name too long once prefixed
			}
			room := 1500
			if r.IntN(8) == 0 {
				room = len(msg) + r.IntN(120)
			}
			got, gotR := e.AnswerMessage(tab, msg, room)
			want, wantR := e.AnswerMessage(ref, msg, room)
			if gotR != wantR || !bytes.Equal(got, want) {
				t.Fatalf("%s %s id %d room %d: table %v %s\nreference %v %s", name, dns.TypeToString[qt], m.Id, room,
					gotR, describe(got), wantR, describe(want))
			}
		}
	}
}

func describe(b []byte) string {
	if b == nil {
		return "(passed through)"
	}
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return fmt.Sprintf("%x (%v)", b, err)
	}
	return m.String()
}

// TestDifferentialRandomObjects: random object sets with every corner case
// of name building answer the same from the compact table and the reference.
func TestDifferentialRandomObjects(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	n := 150 // FuzzDifferential explores further
	if testing.Short() {
		n = 40
	}
	for range n {
		seed := r.Uint64()
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rr := rand.New(rand.NewPCG(seed, 0))
			objs, opts := modeltest.Random(rr), modeltest.RandomOptions(rr)
			tab, ref := buildBoth(t, objs, opts)
			compareTables(t, rr, tab, ref)
		})
	}
}

// TestDifferentialCluster: a generated cluster (every 10th Service headless,
// hostnames, named ports, ServiceEntries with wildcards and automatic
// VIPs) answers the same from both tables.
func TestDifferentialCluster(t *testing.T) {
	objs := modeltest.Cluster(modeltest.ScaleCluster(60))
	opts := model.DefaultOptions()
	opts.Nameservers = []netip.Addr{netip.MustParseAddr("10.96.0.10")}
	tab, ref := buildBoth(t, objs, opts)
	compareTables(t, rand.New(rand.NewPCG(1, 2)), tab, ref)
}

// FuzzDifferential: any seed makes a random object set, and both tables
// answer it the same.
func FuzzDifferential(f *testing.F) {
	for _, s := range []uint64{1, 2, 3, 42, 1 << 40} {
		f.Add(binary.LittleEndian.AppendUint64(nil, s))
	}
	f.Fuzz(func(t *testing.T, seed []byte) {
		var s [16]byte
		copy(s[:], seed)
		r := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(s[:8]), binary.LittleEndian.Uint64(s[8:])))
		objs, opts := modeltest.Random(r), modeltest.RandomOptions(r)
		tab, ref := buildBoth(t, objs, opts)
		compareTables(t, r, tab, ref)
	})
}
