package tcpstack_test

// What a hostile process inside the pod can do to the TCP path
// (memory, idle flows, injected RST and SYN, flows meshdns did not open).

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/tcpstack"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/miekg/dns"
)

// smallBudget is the smallest memory budget (6 MiB): half of it may be
// charged, 2 MiB of scratch buffers once every shard has answered, 1 MiB
// for flows.
const smallBudget = 2 * (32*65535 + 1<<20)

// checkBudget fails unless the engine's charge is within the budget and
// agrees with a recount of what it holds.
func checkBudget(t testing.TB, env *tcpEnv) {
	t.Helper()
	used, recount := env.e.TCPMemory(), env.e.TCPStack().MemoryRecount()
	if used != recount {
		t.Fatalf("TCPMemory %d, recounted %d", used, recount)
	}
	if used > env.cfg.MaxMemory/2 {
		t.Fatalf("TCPMemory %d over half the budget %d", used, env.cfg.MaxMemory)
	}
}

// attacker is a client whose RSTs from the engine are expected.
func attacker(t testing.TB, env *tcpEnv, port uint16) *tcpClient {
	c := newClient(t, env, ep4(port), linuxOpts)
	c.allowRST = true
	return c
}

// TestTCPBudgetPartialQueries: flows whose length prefix promises 65,535
// bytes and that then send 60,000 of them hold one message, not more;
// together they stay within the budget (the flow that would take them
// past it is reset), and a flow opened before the attack still gets
// answers, local and forwarded.
func TestTCPBudgetPartialQueries(t *testing.T) {
	env := newTCPEnv(t, testTable(t), func(c *tcpstack.Config) { c.MaxMemory = smallBudget })
	env.fwd.answer = upstreamAnswer
	good := newClient(t, env, ep4(41000), linuxOpts)
	good.connect()
	good.send("P.", tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 1))
	good.ack()

	chunk := bytes.Repeat([]byte{0x55}, 1000)
	resets := 0
	for i := range 100 {
		a := attacker(t, env, uint16(42000+i))
		a.connect()
		a.send("P.", []byte{0xff, 0xff})
		for range 60 {
			res := a.send("P.", chunk)
			checkBudget(t, env)
			if a.reset {
				if res.Reason != verdict.ReasonTCPMemory {
					t.Fatalf("reset for %v", res.Reason)
				}
				resets++
				break
			}
		}
	}
	if resets == 0 {
		t.Fatal("100 flows of 60 KB partial queries within a 3 MiB budget: none reset")
	}
	if in, _ := env.e.TCPStack().FlowMemory(); in > 2+65535 {
		t.Fatalf("a flow's input buffer holds %d bytes, more than a whole message", in)
	}
	t.Logf("%d of 100 flows reset; %d bytes charged", resets, env.e.TCPMemory())

	good.send("P.", tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 2))
	held := good.send("P.", tcpQuery(t, "www.example.org", dns.TypeA, 3))
	if held.Verdict == verdict.Hold {
		good.released(held.Token)
	}
	ms := good.msgs()
	if len(ms) != 3 || ms[1].Rcode != dns.RcodeSuccess || ms[2].Rcode != dns.RcodeSuccess || len(ms[2].Answer) != 1 {
		t.Fatalf("the well-behaved flow during the attack: %v", ms)
	}
	checkBudget(t, env)
}

// TestTCPBudgetManyFlows: past the soft limit (three quarters of the
// budget) a new flow passes through to the nameserver, untouched.
func TestTCPBudgetManyFlows(t *testing.T) {
	env := newTCPEnv(t, testTable(t), func(c *tcpstack.Config) {
		c.MaxMemory = smallBudget
		c.MaxFlows = 1 << 20
	})
	passed := 0
	for i := range 8000 {
		c := newClient(t, env, ep4(uint16(1024+i)), linuxOpts)
		c.seq = c.iss
		res := c.send("S", nil)
		if i%500 == 0 {
			checkBudget(t, env)
		}
		if res.Verdict == verdict.Accept {
			if res.Reason != verdict.ReasonTCPMemory {
				t.Fatalf("SYN passed for %v", res.Reason)
			}
			passed++
		}
	}
	if passed == 0 {
		t.Fatalf("8000 flows in a 3 MiB budget: all taken over (%d bytes charged)", env.e.TCPMemory())
	}
	if max := smallBudget / 2 / 4 * 3; env.e.TCPMemory() > int64(max) {
		t.Fatalf("flows took %d bytes, past the soft limit %d", env.e.TCPMemory(), max)
	}
}

// TestTCPBudgetPipelined: a client that pipelines queries and never
// acknowledges the answers makes its flow hold at most MaxBuffered plus
// one answer; the rest of its queries stay unacknowledged.
func TestTCPBudgetPipelined(t *testing.T) {
	env := newTCPEnv(t, bigTable(t, 200), func(c *tcpstack.Config) { c.MaxMemory = smallBudget })
	c := newClient(t, env, ep4(43000), clientOpts{mss: 1460, win: 1})
	c.connect()
	var batch []byte
	for i := range 40 {
		batch = append(batch, tcpQuery(t, "big.default.svc.cluster.local", dns.TypeA, uint16(i))...)
	}
	for range 200 {
		c.send("P.", batch)
		checkBudget(t, env)
		if _, out := env.e.TCPStack().FlowMemory(); out > tcpstack.DefaultMaxBuffered+2+65535 {
			t.Fatalf("output buffer %d bytes", out)
		}
	}
	if _, out := env.e.TCPStack().FlowMemory(); out < tcpstack.DefaultMaxBuffered/2 {
		t.Fatalf("the flood was not buffered up to its bound: %d bytes", out)
	}
}

// TestTCPBudgetForwards: forwarded queries the nameserver does not
// answer are charged until the Forwarder lets them go; many flows
// pipelining them stay within the budget (past it their queries are
// answered SERVFAIL or left unread), and everything is given back once
// the Forwarder answers and the flows close.
func TestTCPBudgetForwards(t *testing.T) {
	env := newTCPEnv(t, testTable(t), func(c *tcpstack.Config) { c.MaxMemory = smallBudget })
	big := enginetest.NewQuery("www.example.org", dns.TypeA)
	big.Extra = append(big.Extra, &dns.TXT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeTXT, Class: dns.ClassINET},
		Txt: []string{string(bytes.Repeat([]byte("x"), 250)), string(bytes.Repeat([]byte("y"), 250))}})
	var clients []*tcpClient
	servfails := 0
	for i := range 200 {
		c := attacker(t, env, uint16(44000+i))
		c.seq = c.iss
		if res := c.send("S", nil); res.Verdict == verdict.Accept {
			if res.Reason != verdict.ReasonTCPMemory {
				t.Fatalf("SYN passed for %v", res.Reason)
			}
			continue
		}
		c.connected = true
		c.ack()
		for j := range 20 {
			big.Id = uint16(j)
			q, err := enginetest.TCPQuery(big)
			if err != nil {
				t.Fatal(err)
			}
			res := c.send("P.", q)
			if res.Reason == verdict.ReasonTCPMemory {
				servfails++
			}
			checkBudget(t, env)
		}
		clients = append(clients, c)
	}
	if servfails == 0 {
		t.Fatal("4000 forwards of 600-byte queries within 3 MiB: none refused")
	}
	for _, call := range env.fwd.take() {
		call.done(upstreamAnswer(call.query))
	}
	_ = clients
	env.clock.Advance(time.Hour)
	env.e.SweepTCP()
	checkBudget(t, env)
	if env.e.TCPFlows() != 0 || env.e.TCPMemory() > 32*65535+256*96 {
		t.Fatalf("after the flows went: %d flows, %d bytes charged", env.e.TCPFlows(), env.e.TCPMemory())
	}
}

// TestTCPTrickleExpires: a flow that trickles a query one byte at a time
// makes no progress and is forgotten after the idle timeout however
// often it sends; its next segment is reset.
func TestTCPTrickleExpires(t *testing.T) {
	env := newTCPEnv(t, testTable(t), func(c *tcpstack.Config) { c.IdleTimeout = 5 * time.Second })
	c := attacker(t, env, 45000)
	c.connect()
	c.send("P.", []byte{0x01, 0x00}) // 256 bytes promised
	for i := range 20 {
		env.clock.Advance(time.Second)
		env.e.SweepTCP()
		c.send("P.", []byte{byte(i)})
		if c.reset {
			if i < 4 {
				t.Fatalf("reset after %d s", i+1)
			}
			return
		}
	}
	t.Fatalf("a flow trickling one byte a second lived 20 s with a 5 s idle timeout (%d flows)", env.e.TCPFlows())
}

// TestTCPInjectedRST: an RST that does not carry exactly the next
// sequence number does not end a flow (RFC 5961 3.2): outside the window
// it is dropped, inside it gets a challenge ACK; one at the next byte
// ends it.
func TestTCPInjectedRST(t *testing.T) {
	env, c := connectedClient(t, ep4(46000))
	q := func(id uint16) {
		t.Helper()
		n := len(c.msgs())
		if res := c.send("P.", tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, id)); res.Reason != verdict.ReasonAnswered || len(c.msgs()) != n+1 {
			t.Fatalf("query %d: %v %v", id, res.Verdict, res.Reason)
		}
	}
	q(1)
	for _, off := range []uint32{1 << 20, 1 << 31, 0xffffffff, 70000} {
		s := c.mkSeg("R", nil)
		s.Seq += off
		pkt, _ := enginetest.TCPPacket(s)
		if res := env.e.Process(pkt); res.Verdict != verdict.Drop || env.e.TCPFlows() != 1 {
			t.Fatalf("RST %d bytes off: %v %v, %d flows", off, res.Verdict, res.Reason, env.e.TCPFlows())
		}
	}
	s := c.mkSeg("R.", nil)
	s.Seq += 100
	pkt, _ := enginetest.TCPPacket(s)
	res := env.e.Process(pkt)
	ch, err := enginetest.DecodeTCP(res.Packet)
	if res.Verdict != verdict.Rewrite || err != nil || !ch.ACK || ch.RST || ch.Ack != c.seq || env.e.TCPFlows() != 1 {
		t.Fatalf("RST in the window: %v %v %+v, want a challenge ACK of %d", res.Verdict, res.Reason, ch, c.seq)
	}
	// A SYN with another ISN: a challenge ACK too, the flow is kept.
	syn := c.mkSeg("S", nil)
	syn.Seq = 12345
	pkt, _ = enginetest.TCPPacket(syn)
	if res := env.e.Process(pkt); res.Verdict != verdict.Rewrite || env.e.TCPFlows() != 1 {
		t.Fatalf("injected SYN: %v %v, %d flows", res.Verdict, res.Reason, env.e.TCPFlows())
	}
	q(2)
	if res := c.send("R", nil); res.Verdict != verdict.Drop || env.e.TCPFlows() != 0 {
		t.Fatalf("RST at the next byte: %v %v, %d flows", res.Verdict, res.Reason, env.e.TCPFlows())
	}
}

// TestTCPForeignFlows: segments of flows meshdns did not open (random
// acknowledgment numbers and timestamps, as the real server's flows
// have), whatever they carry, pass untouched: none is taken over or
// reset. With the 8-bit tag of before, 1 in 256 was.
func TestTCPForeignFlows(t *testing.T) {
	env := newTCPEnv(t, testTable(t), nil)
	rng := rand.New(rand.NewPCG(12, 12))
	query := tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 7)
	garbage := []byte("\x00\x05not a query at all")
	const n = 1 << 14
	for i := range n {
		s := enginetest.TCPSeg{Src: enginetest.Client4, Dst: enginetest.Server4, SrcPort: uint16(1024 + rng.IntN(60000)), DstPort: 53,
			Seq: rng.Uint32(), Ack: rng.Uint32(), ACK: true, PSH: true, Window: 500,
			HasTS: i%8 != 0, TSVal: rng.Uint32(), TSEcr: rng.Uint32()}
		switch i % 3 {
		case 0:
			s.Payload = query
		case 1:
			s.Payload = garbage
		case 2:
			s.PSH, s.FIN = false, true
		}
		pkt, err := enginetest.TCPPacket(s)
		if err != nil {
			t.Fatal(err)
		}
		if res := env.e.Process(pkt); res.Verdict != verdict.Accept || res.Reason != verdict.ReasonTCPForeign {
			t.Fatalf("foreign segment %d (%s, %d bytes): %v %v", i, s.Flags(), len(s.Payload), res.Verdict, res.Reason)
		}
	}
	if env.e.TCPFlows() != 0 {
		t.Fatalf("%d foreign flows taken over", env.e.TCPFlows())
	}
	// An RST of a flow the engine does not hold passes too.
	pkt, _ := enginetest.TCPPacket(enginetest.TCPSeg{Src: enginetest.Client4, Dst: enginetest.Server4, SrcPort: 5000, DstPort: 53, RST: true, ACK: true})
	if res := env.e.Process(pkt); res.Verdict != verdict.Accept {
		t.Fatalf("RST of an unknown flow: %v %v", res.Verdict, res.Reason)
	}
}

// TestTCPResumeNeedsTimestamps: a flow without timestamps is not
// resumed once forgotten (its ownership could only be told from 8 bits):
// its next segment passes to the nameserver.
func TestTCPResumeNeedsTimestamps(t *testing.T) {
	env := newTCPEnv(t, testTable(t), func(c *tcpstack.Config) { c.IdleTimeout = 5 * time.Second })
	c := newClient(t, env, ep4(47000), clientOpts{mss: 1460, win: 65535})
	c.connect()
	c.send("P.", tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 1))
	c.ack()
	env.clock.Advance(6 * time.Second)
	env.e.SweepTCP()
	if res := c.send("P.", tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 2)); res.Verdict != verdict.Accept || res.Reason != verdict.ReasonTCPForeign {
		t.Fatalf("forgotten flow without timestamps: %v %v", res.Verdict, res.Reason)
	}
}

// serverRST is the RST the real nameserver sends when a segment of c's
// flow reaches it (it holds no such connection): from port 53 to the
// client, at the sequence number the segment acknowledged.
func serverRST(c *tcpClient) []byte {
	c.t.Helper()
	pkt, err := enginetest.TCPPacket(enginetest.TCPSeg{Src: c.ep.Dst, Dst: c.ep.Src, SrcPort: c.ep.DstPort, DstPort: c.ep.SrcPort,
		Seq: c.rcvNxt, RST: true})
	if err != nil {
		c.t.Fatal(err)
	}
	return pkt
}

// TestTCPServerReset: a segment of a flow meshdns holds that reached the
// nameserver past a full queue (here the handshake's last ACK) draws the
// nameserver's RST; meshdns drops it and the flow goes on (the client's
// next segment is answered). The nameserver's RST of a flow meshdns does
// not hold, and its other segments, pass untouched; an engine without TCP
// passes them all.
func TestTCPServerReset(t *testing.T) {
	for _, ep := range []enginetest.Endpoints{ep4(47000), ep6(47000)} {
		env, c := connectedClient(t, ep)
		pkt := serverRST(c)
		if res := env.e.Process(pkt); res.Verdict != verdict.Drop || res.Reason != verdict.ReasonTCPServerReset || env.e.TCPFlows() != 1 {
			t.Fatalf("%v: the nameserver's RST of a held flow: %v %v, %d flows; want drop tcp_server_reset, the flow kept",
				ep.Src, res.Verdict, res.Reason, env.e.TCPFlows())
		}
		if res := c.send("P.", tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 1)); res.Reason != verdict.ReasonAnswered || len(c.msgs()) != 1 {
			t.Fatalf("%v: query after the dropped RST: %v %v", ep.Src, res.Verdict, res.Reason)
		}

		pass := func(what string, s enginetest.TCPSeg, e *dnsengine.Engine) {
			t.Helper()
			pkt, err := enginetest.TCPPacket(s)
			if err != nil {
				t.Fatal(err)
			}
			orig := bytes.Clone(pkt)
			if res := e.Process(pkt); res.Verdict != verdict.Accept || !bytes.Equal(pkt, orig) {
				t.Errorf("%v: %s: %v %v, want accepted untouched", ep.Src, what, res.Verdict, res.Reason)
			}
		}
		other := enginetest.TCPSeg{Src: ep.Dst, Dst: ep.Src, SrcPort: 53, DstPort: ep.SrcPort + 1, Seq: 777, RST: true}
		pass("the nameserver's RST of a flow not held", other, env.e)
		data := enginetest.TCPSeg{Src: ep.Dst, Dst: ep.Src, SrcPort: 53, DstPort: ep.SrcPort, Seq: c.rcvNxt, Ack: c.seq,
			ACK: true, PSH: true, Window: 512, Payload: []byte{0, 1, 2}}
		pass("the nameserver's data segment on a held flow's 4-tuple", data, env.e)
		if env.e.TCPFlows() != 1 {
			t.Errorf("%v: %d flows after the passed segments, want 1", ep.Src, env.e.TCPFlows())
		}
		plain, err := dnsengine.New(dnsengine.DefaultConfig(), dnsengine.StaticRegistry{T: testTable(t)})
		if err != nil {
			t.Fatal(err)
		}
		held := other
		held.DstPort = ep.SrcPort
		pass("an RST to an engine without TCP", held, plain)
	}
}

// TestTCPPartialQueryGrowth: a partial query's buffer grows with what
// arrives while it stays within 512 bytes, then takes the whole message
// its length prefix promises at once (doubling would leave outgrown
// buffers, as large again, for the collector), and that is what is
// charged.
func TestTCPPartialQueryGrowth(t *testing.T) {
	for _, tt := range []struct {
		prefix []byte
		sent   []int // payload bytes per segment after the prefix
		wantIn int
	}{
		{[]byte{0x01, 0x00}, []int{100}, 128},             // 256 promised, 102 arrived: 64, then doubled
		{[]byte{0x01, 0x00}, []int{100, 100}, 256},        // doubled again, within 512
		{[]byte{0xea, 0x60}, []int{100, 200, 300}, 60002}, // past 512: the whole 60,000
		{[]byte{0xff, 0xff}, []int{1400, 1400}, 65537},
	} {
		env := newTCPEnv(t, testTable(t), func(c *tcpstack.Config) { c.MaxMemory = smallBudget })
		c := newClient(t, env, ep4(48000), linuxOpts)
		c.connect()
		c.send("P.", tt.prefix)
		for _, n := range tt.sent {
			c.send("P.", bytes.Repeat([]byte{0x55}, n))
		}
		if in, _ := env.e.TCPStack().FlowMemory(); in != tt.wantIn {
			t.Errorf("prefix %x, %v bytes sent: input buffer %d, want %d", tt.prefix, tt.sent, in, tt.wantIn)
		}
		checkBudget(t, env)
	}
}

// TestTCPBrokenForeignConnection: a flow forgotten in the middle of an
// answer is marked broken, and its next segment is reset. Another
// connection on the same 4-tuple whose SYN got past meshdns to the
// nameserver (the queue was full) carries the nameserver's numbers, not
// meshdns's tags: its segments pass untouched instead of being reset, and
// the mark stays for the flow it was set for.
func TestTCPBrokenForeignConnection(t *testing.T) {
	env := newTCPEnv(t, bigTable(t, 100), nil)
	c := newClient(t, env, ep4(49060), clientOpts{mss: 1460, win: 500, ts: true})
	c.allowRST = true
	c.connect()
	c.send("P.", tcpQuery(t, "big.default.svc.cluster.local", dns.TypeA, 1))
	env.clock.Advance(tcpstack.DefaultIdleTimeout)
	env.e.SweepTCP()

	// The other connection: the nameserver's ISN and timestamps.
	other := enginetest.TCPSeg{Src: c.ep.Src, Dst: c.ep.Dst, SrcPort: c.ep.SrcPort, DstPort: c.ep.DstPort,
		Seq: 7000, Ack: 0x12345679, ACK: true, PSH: true, Window: 500, HasTS: true, TSVal: 5000, TSEcr: 0x0badcafe,
		Payload: tcpQuery(t, "www.example.org", dns.TypeA, 9)}
	pkt, err := enginetest.TCPPacket(other)
	if err != nil {
		t.Fatal(err)
	}
	orig := bytes.Clone(pkt)
	if res := env.e.Process(pkt); res.Verdict != verdict.Accept || res.Reason != verdict.ReasonTCPForeign || !bytes.Equal(pkt, orig) {
		t.Fatalf("the other connection's data: %v %v, want accepted untouched (tcp_foreign)", res.Verdict, res.Reason)
	}
	if res := c.ack(); res.Verdict != verdict.Rewrite || res.Reason != verdict.ReasonTCPClose || !c.reset {
		t.Fatalf("the broken flow's own segment: %v %v, reset %v; want an RST", res.Verdict, res.Reason, c.reset)
	}
}
