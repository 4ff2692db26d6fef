package main

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/tcpstack"
	"github.com/meshdns/meshdns/exchange"
	"github.com/meshdns/meshdns/nfq"
	"github.com/meshdns/meshdns/observe"
)

// TestHandlerAllocs: the adapter's whole answer path of a mesh query, as
// the consumer calls it (HandleHold, the packet holdable, TCP on, every
// packet timed), allocates nothing. Budget: 0.
func TestHandlerAllocs(t *testing.T) {
	eng := enginetest.MustClusterEngine(t, dnsengine.DefaultConfig())
	if err := eng.EnableTCP(tcpstack.Config{Key: make([]byte, 32), Forwarder: &exchange.FakeForwarder{}}); err != nil {
		t.Fatal(err)
	}
	obs, err := observe.New(observe.Config{QueueStatsPath: "-", SampleEvery: 1})
	if err != nil {
		t.Fatal(err)
	}
	h := &engineHandler{e: eng, shard: obs.Shard()}
	query, err := enginetest.QueryPacket(enginetest.Default4(), enginetest.NewQuery("web.default.svc.cluster.local", dns.TypeA))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(query), nfq.MaxPacket)
	p := &nfq.Holdable{} // the consumer's, one per queue
	var v nfq.Verdict
	allocs := testing.AllocsPerRun(100, func() {
		buf = buf[:len(query)]
		copy(buf, query)
		v, _ = h.HandleHold(buf, p)
	})
	if v != nfq.AcceptModified {
		t.Fatalf("verdict %v, want the answer", v)
	}
	if allocs != 0 {
		t.Fatalf("%v allocations per packet, budget 0", allocs)
	}
}
