package tcpstack_test

import (
	"testing"

	"github.com/meshdns/meshdns/dnsengine/cache"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/tcpstack"
	"github.com/meshdns/meshdns/dnsengine/verdict"
)

// TestNewContract: New needs an Answerer, a Forwarder and a key of at
// least 16 bytes.
func TestNewContract(t *testing.T) {
	ok := tcpstack.Config{Key: testTCPKey, Forwarder: &fakeForwarder{}}
	for _, c := range []struct {
		name  string
		tweak func(*tcpstack.Config)
		ans   tcpstack.Answerer
	}{
		{"no answerer", func(*tcpstack.Config) {}, nil},
		{"no key", func(c *tcpstack.Config) { c.Key = nil }, &tcpstack.FakeAnswerer{}},
		{"short key", func(c *tcpstack.Config) { c.Key = []byte("short") }, &tcpstack.FakeAnswerer{}},
		{"no forwarder", func(c *tcpstack.Config) { c.Forwarder = nil }, &tcpstack.FakeAnswerer{}},
		{"packet too small", func(c *tcpstack.Config) { c.MaxPacket = 100 }, &tcpstack.FakeAnswerer{}},
	} {
		cfg := ok
		c.tweak(&cfg)
		if _, err := tcpstack.New(cfg, c.ans); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	if _, err := tcpstack.New(ok, &tcpstack.FakeAnswerer{}); err != nil {
		t.Fatal(err)
	}
}

// TestStackWithoutEngine: the stack stands on its Answerer alone: a SYN
// while it is not ready passes, once ready it is answered with the
// SYN-ACK; a segment whose layout does not fit the packet is malformed.
func TestStackWithoutEngine(t *testing.T) {
	ans := &tcpstack.FakeAnswerer{NotReady: true}
	st, err := tcpstack.New(tcpstack.Config{Key: testTCPKey, Forwarder: &fakeForwarder{},
		Clock: &cache.FakeClock{}}, ans)
	if err != nil {
		t.Fatal(err)
	}
	syn := func() ([]byte, tcpstack.Layout) {
		pkt, err := enginetest.TCPPacket(enginetest.TCPSeg{Src: enginetest.Client4, Dst: enginetest.Server4,
			SrcPort: 40000, DstPort: 53, Seq: 1000, SYN: true, Window: 65535, MSS: 1460})
		if err != nil {
			t.Fatal(err)
		}
		return append(pkt, make([]byte, 200)...)[:len(pkt)], tcpstack.Layout{Off: 20, Len: len(pkt) - 20}
	}
	pkt, l := syn()
	if res := st.Process(pkt, l, nil); res.Verdict != verdict.Accept || res.Reason != verdict.ReasonNotReady {
		t.Fatalf("not ready: %v %v", res.Verdict, res.Reason)
	}
	ans.NotReady = false
	pkt, l = syn()
	if res := st.Process(pkt, l, nil); res.Verdict != verdict.Rewrite || res.Reason != verdict.ReasonTCPHandshake {
		t.Fatalf("ready: %v %v", res.Verdict, res.Reason)
	}
	if st.Flows() != 1 || st.Memory() <= 0 {
		t.Fatalf("%d flows, %d bytes", st.Flows(), st.Memory())
	}
	pkt, l = syn()
	l.Len += 1000
	if res := st.Process(pkt, l, nil); res.Verdict != verdict.Accept || res.Reason != verdict.ReasonMalformed {
		t.Fatalf("bad layout: %v %v", res.Verdict, res.Reason)
	}
}
