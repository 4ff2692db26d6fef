package dnsengine_test

import (
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/meshdns/meshdns/sync/model"
	"github.com/meshdns/meshdns/sync/model/modeltest"
	"github.com/miekg/dns"
)

// packetKind is a packet of the allocation tests and the benchmarks and
// the reason the engine must give it.
type packetKind struct {
	name string
	pkt  []byte
	want verdict.Reason
}

// packetKinds are the packet kinds of the allocation test and the benchmarks.
func packetKinds(t testing.TB) []packetKind {
	mk := func(ep enginetest.Endpoints, name string, qt uint16, edns bool) []byte {
		m := enginetest.NewQuery(name, qt)
		if edns {
			m.SetEdns0(1232, false)
		}
		p, err := enginetest.QueryPacket(ep, m)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	v4, v6 := enginetest.Default4(), enginetest.Default6()
	return []packetKind{
		{"udp4-hit", mk(v4, "web.default.svc.cluster.local", dns.TypeA, false), verdict.ReasonAnswered},
		{"udp6-hit", mk(v6, "web.default.svc.cluster.local", dns.TypeA, true), verdict.ReasonAnswered},
		{"udp4-hit-headless", mk(v4, "db.default.svc.cluster.local", dns.TypeA, true), verdict.ReasonAnswered},
		{"udp4-srv", mk(v4, "_pg._tcp.db.default.svc.cluster.local", dns.TypeSRV, true), verdict.ReasonAnswered},
		{"udp4-serviceentry", mk(v4, "payments.example.com", dns.TypeA, false), verdict.ReasonAnswered},
		{"udp4-wildcard", mk(v4, "a.b.internal.example.com", dns.TypeA, false), verdict.ReasonAnswered},
		{"udp4-pod", mk(v4, "10-244-1-9.default.pod.cluster.local", dns.TypeA, false), verdict.ReasonAnswered},
		{"udp4-nodata", mk(v4, "web.default.svc.cluster.local", dns.TypeAAAA, false), verdict.ReasonNoData},
		{"udp4-nxdomain", mk(v4, "api.github.com.default.svc.cluster.local", dns.TypeA, true), verdict.ReasonNXDomain},
		{"udp4-miss", mk(v4, "www.example.org", dns.TypeA, false), verdict.ReasonNotOwned},
		{"udp6-miss", mk(v6, "www.example.org", dns.TypeAAAA, true), verdict.ReasonNotOwned},
		{"malformed", mk(v4, "www.example.org", dns.TypeA, false)[:40], verdict.ReasonMalformed},
	}
}

// TestProcessAllocs: the packet path allocates nothing, whatever the kind.
// Budget: 0 allocations per packet.
func TestProcessAllocs(t *testing.T) {
	checkAllocs(t, testEngine(t, dnsengine.DefaultConfig()), packetKinds(t))
}

// checkAllocs processes each packet of kinds with e, checking its reason
// and that it allocates nothing.
func checkAllocs(t *testing.T, e *dnsengine.Engine, kinds []packetKind) {
	for _, k := range kinds {
		buf := make([]byte, len(k.pkt), enginetest.BufSize)
		var res verdict.Result
		allocs := testing.AllocsPerRun(200, func() {
			buf = buf[:len(k.pkt)]
			copy(buf, k.pkt)
			res = e.Process(buf)
		})
		if res.Reason != k.want {
			t.Errorf("%s: reason %v, want %v", k.name, res.Reason, k.want)
		}
		if allocs != 0 {
			t.Errorf("%s: %v allocations per packet, budget 0", k.name, allocs)
		}
	}
}

func BenchmarkProcess(b *testing.B) {
	benchProcess(b, testEngine(b, dnsengine.DefaultConfig()), packetKinds(b))
}

// benchProcess runs a sub-benchmark per packet kind through e.
func benchProcess(b *testing.B, e *dnsengine.Engine, kinds []packetKind) {
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			buf := make([]byte, len(k.pkt), enginetest.BufSize)
			b.ReportAllocs()
			b.SetBytes(int64(len(k.pkt)))
			for b.Loop() {
				buf = buf[:len(k.pkt)]
				copy(buf, k.pkt)
				if r := e.Process(buf); r.Reason != k.want {
					b.Fatalf("reason %v", r.Reason)
				}
			}
		})
	}
}

// groupedEngine returns an engine over a table with Service groups (as
// meshdns runs it with the API server source, through
// model.Incremental) of modeltest.ScaleCluster(20), and packets of its
// name forms: names in a group, the base, a namespace, reverse names and
// misses.
func groupedEngine(t testing.TB) (*dnsengine.Engine, []packetKind) {
	inc, err := model.NewIncremental(model.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	tab, _, err := inc.Apply(modeltest.Cluster(modeltest.ScaleCluster(20)), 1)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Groups() != 20 {
		t.Fatalf("%d groups, want 20", tab.Groups())
	}
	e, err := dnsengine.New(dnsengine.DefaultConfig(), dnsengine.StaticRegistry{T: tab})
	if err != nil {
		t.Fatal(err)
	}
	ptr, err := dns.ReverseAddr("10.128.0.11")
	if err != nil {
		t.Fatal(err)
	}
	var out []packetKind
	for _, k := range []struct {
		name string
		qt   uint16
		want verdict.Reason
	}{
		{"svc-1.ns-0.svc.cluster.local", dns.TypeA, verdict.ReasonAnswered},
		{"svc-0.ns-0.svc.cluster.local", dns.TypeA, verdict.ReasonAnswered},
		{"_http._tcp.svc-1.ns-0.svc.cluster.local", dns.TypeSRV, verdict.ReasonAnswered},
		{ptr, dns.TypePTR, verdict.ReasonAnswered},
		// An endpoint held as a row (table_rows.go): its names derived.
		{"10-128-0-11.svc-1.ns-0.svc.cluster.local", dns.TypeA, verdict.ReasonAnswered},
		{"10-128-0-11.svc-1.ns-0.svc.cluster.local", dns.TypeSRV, verdict.ReasonAnswered},
		{"10-128-0-11.svc-1.ns-0.svc.cluster.local", dns.TypeAAAA, verdict.ReasonNoData},
		{"010-128-0-11.svc-1.ns-0.svc.cluster.local", dns.TypeA, verdict.ReasonNXDomain},
		{"ns-0.svc.cluster.local", dns.TypeA, verdict.ReasonNoData},
		{"nx.ns-0.svc.cluster.local", dns.TypeA, verdict.ReasonNXDomain},
		{"se-1.example.com", dns.TypeA, verdict.ReasonAnswered},
		{"www.example.org", dns.TypeA, verdict.ReasonNotOwned},
	} {
		pkt, err := enginetest.QueryPacket(enginetest.Default4(), enginetest.NewQuery(k.name, k.qt))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, packetKind{k.name + "/" + dns.TypeToString[k.qt], pkt, k.want})
	}
	return e, out
}

// TestProcessAllocsGrouped: a table with Service groups answers without
// allocating too. Budget: 0 allocations per packet.
func TestProcessAllocsGrouped(t *testing.T) {
	e, kinds := groupedEngine(t)
	checkAllocs(t, e, kinds)
}

// BenchmarkProcessGrouped is BenchmarkProcess over the grouped table:
// what finding a name's group costs a packet.
func BenchmarkProcessGrouped(b *testing.B) {
	e, kinds := groupedEngine(b)
	benchProcess(b, e, kinds)
}
