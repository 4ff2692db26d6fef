package tcpstack_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/tcpstack"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/miekg/dns"
)

const webA = "web.default.svc.cluster.local.\t30\tIN\tA\t10.96.0.10"

func checkAnswer(t *testing.T, m *dns.Msg, id uint16, rcode int, want ...string) {
	t.Helper()
	if m.Id != id || !m.Response || m.Rcode != rcode {
		t.Fatalf("answer id %#x qr %v rcode %s, want id %#x rcode %s", m.Id, m.Response,
			dns.RcodeToString[m.Rcode], id, dns.RcodeToString[rcode])
	}
	got := enginetest.RRStrings(m.Answer)
	if len(got) != len(want) {
		t.Fatalf("answer %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("answer %q, want %q", got, want)
		}
	}
}

// TestTCPHandshake: the SYN becomes a SYN-ACK with our ISN, an MSS option,
// window scale and timestamps as the client offered them and never SACK;
// the handshake's ACK is dropped; a lost SYN-ACK is sent again alike.
func TestTCPHandshake(t *testing.T) {
	for _, tc := range []struct {
		name string
		ep   enginetest.Endpoints
		o    clientOpts
		mss  uint16
	}{
		{"v4-linux", ep4(40001), linuxOpts, 1460},
		{"v6-linux", ep6(40002), clientOpts{mss: 1440, ws: true, wscale: 7, sack: true, ts: true, win: 502}, 1440},
		{"v4-bare", ep4(40003), clientOpts{}, 1460},
		{"v6-bare", ep6(40004), clientOpts{}, 1440},
		{"v4-ws-no-ts", ep4(40005), clientOpts{mss: 65483, ws: true, wscale: 14}, 65483},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTCPEnv(t, testTable(t), nil)
			c := newClient(t, env, tc.ep, tc.o)
			c.seq = c.iss
			syn := c.mkSeg("S", nil)
			c.seq++
			pkt, _ := enginetest.TCPPacket(syn)
			res := env.e.Process(pkt)
			if res.Verdict != verdict.Rewrite || res.Reason != verdict.ReasonTCPHandshake {
				t.Fatalf("%v %v", res.Verdict, res.Reason)
			}
			sa := c.absorb(res.Packet)
			if !sa.SYN || !sa.ACK || sa.Ack != c.iss+1 {
				t.Fatalf("SYN-ACK %s ack %d", sa.Flags(), sa.Ack)
			}
			if sa.MSS != tc.mss {
				t.Errorf("MSS %d, want %d", sa.MSS, tc.mss)
			}
			if sa.HasWS != tc.o.ws || sa.WScale != 0 {
				t.Errorf("window scale %v/%d, want %v/0", sa.HasWS, sa.WScale, tc.o.ws)
			}
			if sa.SACKOK {
				t.Error("SACK permitted: meshdns never needs it")
			}
			if sa.HasTS != tc.o.ts || (tc.o.ts && sa.TSEcr != syn.TSVal) {
				t.Errorf("timestamps %v echo %d, want %v echo %d", sa.HasTS, sa.TSEcr, tc.o.ts, syn.TSVal)
			}
			if sa.Window != 65535 {
				t.Errorf("window %d", sa.Window)
			}
			if env.e.TCPFlows() != 1 {
				t.Fatalf("%d flows", env.e.TCPFlows())
			}
			c.connected = true
			// The SYN again (our SYN-ACK was lost): the same SYN-ACK.
			c.seq = c.iss
			again := c.send("S", nil)
			if again.Verdict != verdict.Rewrite || again.Reason != verdict.ReasonTCPHandshake {
				t.Fatalf("retransmitted SYN: %v %v", again.Verdict, again.Reason)
			}
			if res := c.ack(); res.Verdict != verdict.Drop {
				t.Fatalf("handshake ACK: %v %v", res.Verdict, res.Reason)
			}
			// A SYN after the handshake completed, with the same ISN, is a stale duplicate.
			c.seq = c.iss
			if res := c.feed(c.mkSeg("S", nil)); res.Verdict != verdict.Drop {
				t.Fatalf("duplicate SYN: %v %v", res.Verdict, res.Reason)
			}
		})
	}
}

// TestTCPQueryAndClose: a query in one segment is answered in the
// segment's reply (PSH-ACK, seq our next byte, ack the client's next
// byte); its ACK is dropped; FIN -> FIN-ACK; the last ACK is dropped and
// the flow forgotten.
func TestTCPQueryAndClose(t *testing.T) {
	for _, ep := range []enginetest.Endpoints{ep4(41000), ep6(41000)} {
		t.Run(ep.Src.String(), func(t *testing.T) {
			env, c := connectedClient(t, ep)
			q := tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 0x1111)
			res := c.send("P.", q)
			if res.Verdict != verdict.Rewrite || res.Reason != verdict.ReasonAnswered {
				t.Fatalf("query: %v %v", res.Verdict, res.Reason)
			}
			if c.rcvNxt != c.srvISN+1+uint32(len(c.stream)) || len(c.stream) == 0 {
				t.Fatal("no answer bytes")
			}
			ms := c.msgs()
			if len(ms) != 1 {
				t.Fatalf("%d answers", len(ms))
			}
			checkAnswer(t, ms[0], 0x1111, dns.RcodeSuccess, webA)
			if !ms[0].Authoritative {
				t.Error("AA not set")
			}
			if res := c.ack(); res.Verdict != verdict.Drop || res.Reason != verdict.ReasonTCPAck {
				t.Fatalf("ACK of the answer: %v %v", res.Verdict, res.Reason)
			}
			res = c.send("F.", nil)
			if res.Verdict != verdict.Rewrite || res.Reason != verdict.ReasonTCPClose || !c.finRcvd {
				t.Fatalf("FIN: %v %v fin %v", res.Verdict, res.Reason, c.finRcvd)
			}
			if res := c.ack(); res.Verdict != verdict.Drop || res.Reason != verdict.ReasonTCPClose {
				t.Fatalf("last ACK: %v %v", res.Verdict, res.Reason)
			}
			if n := env.e.TCPFlows(); n != 0 {
				t.Fatalf("%d flows after close", n)
			}
		})
	}
}

// TestTCPPipelining: queries sent before the previous answers are
// acknowledged get only the new bytes; several queries in one segment are
// answered in one reply, in order.
func TestTCPPipelining(t *testing.T) {
	_, c := connectedClient(t, ep4(42000))
	q1 := tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 1)
	q2 := tcpQuery(t, "nope.default.svc.cluster.local", dns.TypeA, 2)
	q3 := tcpQuery(t, "web.default.svc.cluster.local", dns.TypeAAAA, 3)
	if res := c.send("P.", q1); res.Reason != verdict.ReasonAnswered {
		t.Fatalf("q1: %v", res.Reason)
	}
	first := len(c.stream)
	// The client has not acknowledged answer 1 when it sends q2 and q3.
	seg := c.mkSeg("P.", append(append([]byte(nil), q2...), q3...))
	seg.Ack = c.srvISN + 1
	c.seq += uint32(len(seg.Payload))
	res := c.feed(seg)
	if res.Verdict != verdict.Rewrite || res.Reason != verdict.ReasonNXDomain {
		t.Fatalf("q2+q3: %v %v", res.Verdict, res.Reason)
	}
	s, _ := enginetest.DecodeTCP(res.Packet)
	if s.Seq != c.srvISN+1+uint32(first) {
		t.Fatalf("second reply at %d, want %d (only new bytes)", s.Seq, c.srvISN+1+uint32(first))
	}
	ms := c.msgs()
	if len(ms) != 3 {
		t.Fatalf("%d answers", len(ms))
	}
	checkAnswer(t, ms[0], 1, dns.RcodeSuccess, webA)
	checkAnswer(t, ms[1], 2, dns.RcodeNameError)
	checkAnswer(t, ms[2], 3, dns.RcodeSuccess)
}

// TestTCPSplitQuery: a query split across segments (even inside its
// length prefix) is acknowledged with a pure ACK and answered once whole.
func TestTCPSplitQuery(t *testing.T) {
	for _, cut := range []int{1, 2, 7, 20} {
		_, c := connectedClient(t, ep4(43000))
		q := tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 7)
		res := c.send("P.", q[:cut])
		if res.Verdict != verdict.Rewrite || res.Reason != verdict.ReasonTCPAck || len(c.stream) != 0 {
			t.Fatalf("cut %d: first part: %v %v, %d bytes", cut, res.Verdict, res.Reason, len(c.stream))
		}
		if s, _ := enginetest.DecodeTCP(res.Packet); s.Ack != c.seq || len(s.Payload) != 0 || s.PSH {
			t.Fatalf("cut %d: pure ACK expected, got %s ack %d want %d", cut, s.Flags(), s.Ack, c.seq)
		}
		if res := c.send("P.", q[cut:]); res.Reason != verdict.ReasonAnswered {
			t.Fatalf("cut %d: second part: %v %v", cut, res.Verdict, res.Reason)
		}
		if ms := c.msgs(); len(ms) != 1 {
			t.Fatalf("cut %d: %d answers", cut, len(ms))
		} else {
			checkAnswer(t, ms[0], 7, dns.RcodeSuccess, webA)
		}
	}
}

// TestTCPRetransmission: data seen before gets everything unacknowledged
// again; once acknowledged, a pure ACK; a gap gets a duplicate ACK.
func TestTCPRetransmission(t *testing.T) {
	_, c := connectedClient(t, ep4(44000))
	q := tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 9)
	start := c.seq
	c.send("P.", q)
	n := len(c.stream)
	// Our answer was "lost": the client sends the query again.
	seg := c.mkSeg("P.", q)
	seg.Seq, seg.Ack = start, c.srvISN+1
	res := c.feed(seg)
	if res.Verdict != verdict.Rewrite || res.Reason != verdict.ReasonTCPRetransmit {
		t.Fatalf("retransmission: %v %v", res.Verdict, res.Reason)
	}
	s, _ := enginetest.DecodeTCP(res.Packet)
	if s.Seq != c.srvISN+1 || len(s.Payload) != n {
		t.Fatalf("resent %d bytes at %d, want %d at %d", len(s.Payload), s.Seq, n, c.srvISN+1)
	}
	if len(c.msgs()) != 1 {
		t.Fatal("the answer was duplicated in the stream")
	}
	// Acknowledged, then the query once more: a pure ACK.
	c.ack()
	c.seq = start
	res = c.send("P.", q)
	if s, _ := enginetest.DecodeTCP(res.Packet); res.Reason != verdict.ReasonTCPRetransmit || len(s.Payload) != 0 || s.Ack != start+uint32(len(q)) {
		t.Fatalf("late retransmission: %v, %d bytes, ack %d", res.Reason, len(s.Payload), s.Ack)
	}
	// A gap: bytes after some we never saw.
	gap := c.mkSeg("P.", q)
	gap.Seq += 100
	res = c.feed(gap)
	if s, _ := enginetest.DecodeTCP(res.Packet); res.Verdict != verdict.Rewrite || s.Ack != c.seq || len(s.Payload) != 0 {
		t.Fatalf("gap: %v %v, ack %d want %d", res.Verdict, res.Reason, s.Ack, c.seq)
	}
}

// TestTCPWindow: an answer larger than the client's window goes out in
// window-sized chunks, each on the client's ACK; a zero window holds
// everything back.
func TestTCPWindow(t *testing.T) {
	env := newTCPEnv(t, bigTable(t, 300), nil)
	c := newClient(t, env, ep4(45000), clientOpts{mss: 1460, ts: true, win: 1000})
	c.connect()
	c.send("P.", tcpQuery(t, "big.default.svc.cluster.local", dns.TypeA, 5))
	if len(c.stream) != 1000 {
		t.Fatalf("first chunk %d bytes, want the window, 1000", len(c.stream))
	}
	rounds := 1
	for len(c.msgs()) == 0 {
		res := c.ack()
		if res.Verdict != verdict.Rewrite || res.Reason != verdict.ReasonTCPCarrier {
			t.Fatalf("round %d: %v %v", rounds, res.Verdict, res.Reason)
		}
		rounds++
		if rounds > 10 {
			t.Fatal("answer never completed")
		}
	}
	ms := c.msgs()
	if len(ms[0].Answer) != 300 {
		t.Fatalf("%d records", len(ms[0].Answer))
	}
	if want := (len(c.stream) + 999) / 1000; rounds != want {
		t.Errorf("%d rounds, want %d", rounds, want)
	}
	if res := c.ack(); res.Verdict != verdict.Drop {
		t.Fatalf("final ACK: %v", res.Verdict)
	}
	// Zero window: the answer waits for a window update.
	c.opts.win = 0
	res := c.send("P.", tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 6))
	if s, _ := enginetest.DecodeTCP(res.Packet); len(s.Payload) != 0 || s.Ack != c.seq {
		t.Fatalf("zero window: %d bytes sent, ack %d", len(s.Payload), s.Ack)
	}
	c.opts.win = 1000
	if res := c.ack(); res.Reason != verdict.ReasonTCPCarrier || len(c.msgs()) != 2 {
		t.Fatalf("window update: %v, %d answers", res.Reason, len(c.msgs()))
	}
}

// TestTCPLargeAnswers: a 64 KB answer with the window unscaled (64 KB at
// most per round), answers filling many packets with the window scaled,
// and a stream of more than 64 KB.
func TestTCPLargeAnswers(t *testing.T) {
	tab := bigTable(t, 4500) // 4500 A records do not fit 65535 bytes: TC
	for _, tc := range []struct {
		name string
		ep   enginetest.Endpoints
		o    clientOpts
		max  int
	}{
		{"v4-unscaled", ep4(46000), clientOpts{mss: 1460, win: 65535}, 0},
		{"v6-scaled", ep6(46001), clientOpts{mss: 1440, ws: true, wscale: 7, ts: true, win: 2000}, 0},
		{"v4-small-packets", ep4(46002), clientOpts{mss: 1460, ws: true, wscale: 7, ts: true, win: 2000}, 9000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTCPEnv(t, tab, func(c *tcpstack.Config) { c.MaxPacket = tc.max })
			c := newClient(t, env, tc.ep, tc.o)
			c.connect()
			q := tcpQuery(t, "big.default.svc.cluster.local", dns.TypeA, 1)
			q2 := tcpQuery(t, "big.default.svc.cluster.local", dns.TypeA, 2)
			c.send("P.", append(q, q2...))
			limit := 65535 // TCPConfig.MaxPacket's zero: the largest IPv4 packet
			if tc.max > 0 {
				limit = tc.max
			}
			for i := 0; len(c.msgs()) < 2; i++ {
				if i > 100 {
					t.Fatal("answers never completed")
				}
				res := c.ack()
				if res.Verdict == verdict.Rewrite && len(res.Packet) > limit {
					t.Fatalf("packet of %d bytes, limit %d", len(res.Packet), limit)
				}
				if res.Verdict != verdict.Rewrite {
					t.Fatalf("round %d: %v %v with %d bytes received", i, res.Verdict, res.Reason, len(c.stream))
				}
			}
			if len(c.stream) <= 128*1024 {
				t.Fatalf("stream of %d bytes, want more than 128 KiB", len(c.stream))
			}
			for i, m := range c.msgs() {
				if !m.Truncated || len(m.Answer) < 4000 {
					t.Fatalf("answer %d: TC %v, %d records", i, m.Truncated, len(m.Answer))
				}
			}
			if l := int(c.stream[0])<<8 | int(c.stream[1]); l < 64000 {
				t.Fatalf("first answer of %d bytes, want about 64 KB", l)
			}
		})
	}
}

// TestTCPForward: a query the engine does not answer is forwarded to the
// nameserver the client connected to; its segment is held and released
// with the answer in it.
func TestTCPForward(t *testing.T) {
	for _, ep := range []enginetest.Endpoints{ep4(47000), ep6(47000)} {
		t.Run(ep.Src.String(), func(t *testing.T) {
			env, c := connectedClient(t, ep)
			q := tcpQuery(t, "www.example.org", dns.TypeA, 0xabcd)
			res := c.send("P.", q)
			if res.Verdict != verdict.Hold || res.Reason != verdict.ReasonTCPHeld {
				t.Fatalf("%v %v", res.Verdict, res.Reason)
			}
			calls := env.fwd.take()
			if len(calls) != 1 {
				t.Fatalf("%d forwards", len(calls))
			}
			if want := netip.AddrPortFrom(ep.Dst, 53); calls[0].server != want {
				t.Fatalf("forwarded to %v, want %v", calls[0].server, want)
			}
			if !bytes.Equal(calls[0].query, q[2:]) {
				t.Fatal("forwarded query differs from the client's")
			}
			if env.rel.pending() != 0 {
				t.Fatal("released before the answer")
			}
			ans, _ := upstreamAnswer(calls[0].query)
			ans[0], ans[1] = 0x55, 0x55 // a forwarder that forgot the ID
			calls[0].done(ans, nil)
			calls[0].done(ans, nil) // a second call is ignored
			rel := c.released(res.Token)
			if rel.Verdict != verdict.Rewrite || rel.Reason != verdict.ReasonTCPForwarded {
				t.Fatalf("release: %v %v", rel.Verdict, rel.Reason)
			}
			ms := c.msgs()
			if len(ms) != 1 {
				t.Fatalf("%d answers", len(ms))
			}
			checkAnswer(t, ms[0], 0xabcd, dns.RcodeSuccess, "www.example.org.\t7\tIN\tA\t198.19.0.53")
			if len(env.rel.dups) != 0 {
				t.Fatal("released twice")
			}
		})
	}
}

// TestTCPForwardUnheld: a query to forward in a segment its caller
// cannot hold (Engine.Process, no Holdable) is answered SERVFAIL at once,
// and nothing is forwarded.
func TestTCPForwardUnheld(t *testing.T) {
	env := newTCPEnv(t, testTable(t), nil)
	c := newClient(t, env, ep4(47050), linuxOpts)
	c.unheld = true
	c.connect()
	if res := c.send("P.", tcpQuery(t, "www.example.org", dns.TypeA, 0xabce)); res.Verdict != verdict.Rewrite {
		t.Fatalf("%v %v", res.Verdict, res.Reason)
	}
	if calls := env.fwd.take(); len(calls) != 0 {
		t.Fatalf("%d forwards", len(calls))
	}
	ms := c.msgs()
	if len(ms) != 1 {
		t.Fatalf("%d answers", len(ms))
	}
	checkAnswer(t, ms[0], 0xabce, dns.RcodeServerFailure)
}

// TestTCPForwardFailure: a failed forward is answered SERVFAIL.
func TestTCPForwardFailure(t *testing.T) {
	env, c := connectedClient(t, ep4(47100))
	q := enginetest.NewQuery("www.example.org", dns.TypeMX)
	q.Id = 77
	q.SetEdns0(1232, true)
	wire, _ := enginetest.TCPQuery(q)
	res := c.send("P.", wire)
	for _, call := range env.fwd.take() {
		call.done(nil, errors.New("timeout"))
	}
	c.released(res.Token)
	ms := c.msgs()
	if len(ms) != 1 {
		t.Fatalf("%d answers", len(ms))
	}
	checkAnswer(t, ms[0], 77, dns.RcodeServerFailure)
	if len(ms[0].Question) != 1 || ms[0].Question[0].Name != "www.example.org." || !ms[0].RecursionDesired {
		t.Fatalf("SERVFAIL does not echo the question: %v", ms[0])
	}
}

// TestTCPForwardSync: a Forwarder that answers from inside Forward: the
// release comes before Process returns the hold.
func TestTCPForwardSync(t *testing.T) {
	env := newTCPEnv(t, testTable(t), nil)
	env.fwd.answer = upstreamAnswer
	c := newClient(t, env, ep4(47200), linuxOpts)
	c.connect()
	res := c.send("P.", tcpQuery(t, "www.example.org", dns.TypeA, 1))
	if res.Verdict != verdict.Hold {
		t.Fatalf("%v", res.Verdict)
	}
	c.released(res.Token)
	if ms := c.msgs(); len(ms) != 1 || ms[0].Id != 1 {
		t.Fatalf("answers %v", ms)
	}
}

// TestTCPMixed: mesh and forwarded queries pipelined on one flow. A
// segment with both waits for the forward; a mesh query in a later
// segment is answered at once, ahead of the forwarded one (RFC 7766
// allows answers out of order); the held segment then carries the rest.
func TestTCPMixed(t *testing.T) {
	env, c := connectedClient(t, ep4(47300))
	both := append(tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 1), tcpQuery(t, "www.example.org", dns.TypeA, 2)...)
	held := c.send("P.", both)
	if held.Verdict != verdict.Hold {
		t.Fatalf("%v", held.Verdict)
	}
	res := c.send("P.", tcpQuery(t, "nope.default.svc.cluster.local", dns.TypeA, 3))
	if res.Verdict != verdict.Rewrite {
		t.Fatalf("mesh query behind a held one: %v %v", res.Verdict, res.Reason)
	}
	calls := env.fwd.take()
	ans, _ := upstreamAnswer(calls[0].query)
	calls[0].done(ans, nil)
	c.released(held.Token)
	ms := c.msgs()
	if len(ms) != 3 {
		t.Fatalf("%d answers", len(ms))
	}
	ids := []uint16{ms[0].Id, ms[1].Id, ms[2].Id}
	if ids[2] != 2 {
		t.Fatalf("answer order %v: the forwarded one last", ids)
	}
}

// TestTCPFinWhileForwarding: the client closes its side while a forward
// is outstanding: its FIN is acknowledged at once, and our FIN follows
// the forwarded answer.
func TestTCPFinWhileForwarding(t *testing.T) {
	env, c := connectedClient(t, ep4(47400))
	held := c.send("P.", tcpQuery(t, "www.example.org", dns.TypeA, 1))
	res := c.send("F.", nil)
	if res.Verdict != verdict.Rewrite || c.finRcvd {
		t.Fatalf("FIN: %v, our FIN sent early: %v", res.Verdict, c.finRcvd)
	}
	if s, _ := enginetest.DecodeTCP(res.Packet); s.Ack != c.seq {
		t.Fatalf("FIN acknowledged up to %d, want %d", s.Ack, c.seq)
	}
	calls := env.fwd.take()
	ans, _ := upstreamAnswer(calls[0].query)
	calls[0].done(ans, nil)
	c.released(held.Token)
	if len(c.msgs()) != 1 || !c.finRcvd {
		t.Fatalf("%d answers, FIN %v", len(c.msgs()), c.finRcvd)
	}
	if res := c.ack(); res.Verdict != verdict.Drop || env.e.TCPFlows() != 0 {
		t.Fatalf("last ACK: %v, %d flows", res.Verdict, env.e.TCPFlows())
	}
}

// TestTCPReset: an RST is dropped and the flow forgotten; a held segment
// is released as a drop, and its late answer ignored.
func TestTCPReset(t *testing.T) {
	env, c := connectedClient(t, ep4(47500))
	held := c.send("P.", tcpQuery(t, "www.example.org", dns.TypeA, 1))
	if res := c.send("R.", nil); res.Verdict != verdict.Drop || res.Reason != verdict.ReasonTCPClose {
		t.Fatalf("RST: %v %v", res.Verdict, res.Reason)
	}
	if env.e.TCPFlows() != 0 {
		t.Fatal("flow kept")
	}
	if rel, ok := env.rel.take(held.Token); !ok || rel.Verdict != verdict.Drop {
		t.Fatalf("held segment: released %v as %v", ok, rel.Verdict)
	}
	for _, call := range env.fwd.take() {
		ans, _ := upstreamAnswer(call.query)
		call.done(ans, nil)
	}
	if env.rel.pending() != 0 || len(env.rel.dups) != 0 {
		t.Fatal("a late answer released something")
	}
}

// TestTCPFlowLimit: past MaxFlows new SYNs pass through untouched; a
// foreign flow's segments pass through; without a table SYNs pass.
func TestTCPFlowLimit(t *testing.T) {
	env := newTCPEnv(t, testTable(t), func(c *tcpstack.Config) { c.MaxFlows = 1 })
	newClient(t, env, ep4(48000), linuxOpts).connect()
	c2 := newClient(t, env, ep4(48001), linuxOpts)
	c2.seq = c2.iss
	if res := c2.send("S", nil); res.Verdict != verdict.Accept || res.Reason != verdict.ReasonTCPFlowLimit {
		t.Fatalf("SYN past the limit: %v %v", res.Verdict, res.Reason)
	}
	// Its later segments (a flow with the real server) pass too.
	c2.rcvNxt = 0x12345678
	if res := c2.send("P.", tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 1)); res.Verdict != verdict.Accept || res.Reason != verdict.ReasonTCPForeign {
		t.Fatalf("foreign data: %v %v", res.Verdict, res.Reason)
	}

	e, _ := dnsengine.New(dnsengine.DefaultConfig(), dnsengine.StaticRegistry{})
	if err := e.EnableTCP(tcpstack.Config{Key: testTCPKey, Forwarder: &fakeForwarder{}}); err != nil {
		t.Fatal(err)
	}
	c3 := newClient(t, &tcpEnv{e: e}, ep4(48002), linuxOpts)
	c3.seq = c3.iss
	if res := c3.send("S", nil); res.Verdict != verdict.Accept || res.Reason != verdict.ReasonNotReady {
		t.Fatalf("SYN without a table: %v %v", res.Verdict, res.Reason)
	}
}

// TestTCPResume: a flow forgotten when idle, or by an engine that
// restarted with the same key, is recognised by its ISN cookie and
// resumed from its next segment; with another key it is foreign.
func TestTCPResume(t *testing.T) {
	env := newTCPEnv(t, testTable(t), func(c *tcpstack.Config) { c.IdleTimeout = 5 * time.Second })
	c := newClient(t, env, ep4(49000), linuxOpts)
	c.connect()
	c.send("P.", tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 1))
	c.ack()
	env.clock.Advance(6 * time.Second)
	env.e.SweepTCP()
	if env.e.TCPFlows() != 0 {
		t.Fatal("idle flow kept")
	}
	res := c.send("P.", tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 2))
	if res.Verdict != verdict.Rewrite || res.Reason != verdict.ReasonAnswered || len(c.msgs()) != 2 {
		t.Fatalf("after idle expiry: %v %v, %d answers", res.Verdict, res.Reason, len(c.msgs()))
	}

	// A restart: a new engine, same key (and a clock that went back:
	// our timestamps must not).
	env2 := newTCPEnv(t, testTable(t), nil)
	c.env = env2
	res = c.send("P.", tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 3))
	if res.Verdict != verdict.Rewrite || len(c.msgs()) != 3 {
		t.Fatalf("after restart: %v %v, %d answers", res.Verdict, res.Reason, len(c.msgs()))
	}
	// Another restart: a pure ACK (or keepalive probe) is dropped and
	// resumes nothing; the next query does.
	env3 := newTCPEnv(t, testTable(t), nil)
	c.env = env3
	if res := c.ack(); res.Verdict != verdict.Drop || env3.e.TCPFlows() != 0 {
		t.Fatalf("pure ACK of an unknown flow: %v %v, %d flows", res.Verdict, res.Reason, env3.e.TCPFlows())
	}
	env4 := newTCPEnv(t, testTable(t), nil)
	c.env = env4
	if res := c.send("P.", tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 4)); res.Verdict != verdict.Rewrite || len(c.msgs()) != 4 {
		t.Fatalf("after restart: %v %v, %d answers", res.Verdict, res.Reason, len(c.msgs()))
	}
	c.ack()
	// A keepalive probe (one byte behind, no data): an ACK.
	probe := c.mkSeg(".", nil)
	probe.Seq--
	if res := c.feed(probe); res.Verdict != verdict.Rewrite {
		t.Fatalf("keepalive probe: %v %v", res.Verdict, res.Reason)
	} else if s, _ := enginetest.DecodeTCP(res.Packet); s.Ack != c.seq || len(s.Payload) != 0 {
		t.Fatalf("keepalive answered with ack %d and %d bytes, want ack %d", s.Ack, len(s.Payload), c.seq)
	}
	if res := c.send("F.", nil); res.Verdict != verdict.Rewrite || !c.finRcvd {
		t.Fatalf("FIN after restart: %v %v", res.Verdict, res.Reason)
	}

	// Another key: not ours.
	other := newTCPEnv(t, testTable(t), func(c *tcpstack.Config) { c.Key = []byte("another key, 16 bytes at least") })
	c4 := newClient(t, env, ep4(49001), linuxOpts)
	c4.connect()
	c4.env = other
	if res := c4.send("P.", tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 1)); res.Verdict != verdict.Accept || res.Reason != verdict.ReasonTCPForeign {
		t.Fatalf("other key: %v %v", res.Verdict, res.Reason)
	}
}

// TestTCPResumeUnframed: a resumed flow whose segment does not start a
// query is reset.
func TestTCPResumeUnframed(t *testing.T) {
	_, c := connectedClient(t, ep4(49100))
	env2 := newTCPEnv(t, testTable(t), nil)
	q := tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 1)
	s := c.mkSeg("P.", q[5:])
	pkt, _ := enginetest.TCPPacket(s)
	res := env2.e.Process(pkt)
	if res.Verdict != verdict.Rewrite {
		t.Fatalf("%v %v", res.Verdict, res.Reason)
	}
	r, err := enginetest.DecodeTCP(res.Packet)
	if err != nil || !r.RST || r.Seq != s.Ack || r.ACK {
		t.Fatalf("want RST seq %d: %+v %v", s.Ack, r, err)
	}
	if env2.e.TCPFlows() != 0 {
		t.Fatal("flow kept")
	}
}

// TestTCPIdleMidAnswer: a flow forgotten with answer bytes the client
// has not acknowledged cannot be resumed (the stream would lose its
// framing): its next segment is answered with an RST.
func TestTCPIdleMidAnswer(t *testing.T) {
	env := newTCPEnv(t, bigTable(t, 100), nil)
	c := newClient(t, env, ep4(49050), clientOpts{mss: 1460, win: 500})
	c.allowRST = true
	c.connect()
	c.send("P.", tcpQuery(t, "big.default.svc.cluster.local", dns.TypeA, 1))
	env.clock.Advance(tcpstack.DefaultIdleTimeout)
	env.e.SweepTCP()
	if res := c.ack(); res.Verdict != verdict.Rewrite || res.Reason != verdict.ReasonTCPClose || !c.reset {
		t.Fatalf("%v %v, reset %v", res.Verdict, res.Reason, c.reset)
	}
	// A new connection on the same 4-tuple is served.
	c2 := newClient(t, env, ep4(49050), clientOpts{mss: 1460, win: 500})
	c2.iss += 5000
	c2.connect()
	if res := c2.send("P.", tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 2)); res.Reason != verdict.ReasonAnswered {
		t.Fatalf("new connection: %v", res.Reason)
	}
}

// TestTCPHoldTimeout: a forward that never returns is answered SERVFAIL
// when the hold times out.
func TestTCPHoldTimeout(t *testing.T) {
	env, c := connectedClient(t, ep4(49200))
	held := c.send("P.", tcpQuery(t, "www.example.org", dns.TypeA, 1))
	env.clock.Advance(tcpstack.DefaultHoldTimeout)
	env.e.SweepTCP()
	c.released(held.Token)
	if ms := c.msgs(); len(ms) != 1 || ms[0].Rcode != dns.RcodeServerFailure {
		t.Fatalf("answers %v", ms)
	}
	for _, call := range env.fwd.take() { // the late answer is ignored
		ans, _ := upstreamAnswer(call.query)
		call.done(ans, nil)
	}
	if env.rel.pending() != 0 || len(c.msgs()) != 1 {
		t.Fatal("late answer used")
	}
}

// TestTCPNewConnectionSameTuple: a SYN with a new ISN on a 4-tuple whose
// flow is still held gets a challenge ACK (RFC 5961 4.2); the client's
// TCP answers it with an RST at the acknowledged number, which ends the
// old flow, and its retransmitted SYN opens the new one.
func TestTCPNewConnectionSameTuple(t *testing.T) {
	env, c := connectedClient(t, ep4(49300))
	c2 := newClient(t, env, ep4(49300), linuxOpts)
	c2.iss += 100000
	syn := c2.mkSeg("S", nil)
	syn.Seq = c2.iss
	pkt, _ := enginetest.TCPPacket(syn)
	res := env.e.Process(pkt)
	ch, err := enginetest.DecodeTCP(res.Packet)
	if res.Verdict != verdict.Rewrite || err != nil || ch.SYN || ch.RST || !ch.ACK || ch.Ack != c.seq {
		t.Fatalf("second SYN: %v %v %+v, want a challenge ACK of %d", res.Verdict, res.Reason, ch, c.seq)
	}
	rst := c2.mkSeg("R", nil)
	rst.Seq = ch.Ack
	pkt, _ = enginetest.TCPPacket(rst)
	if res := env.e.Process(pkt); res.Verdict != verdict.Drop || env.e.TCPFlows() != 0 {
		t.Fatalf("the client's RST: %v %v, %d flows", res.Verdict, res.Reason, env.e.TCPFlows())
	}
	c2.connect()
	c2.send("P.", tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 1))
	if len(c2.msgs()) != 1 || env.e.TCPFlows() != 1 {
		t.Fatalf("%d answers, %d flows", len(c2.msgs()), env.e.TCPFlows())
	}
}

// TestTCPBadChecksum: a corrupt segment of a known flow is dropped (the
// client resends it); of an unknown one, passed.
func TestTCPBadChecksum(t *testing.T) {
	env, c := connectedClient(t, ep4(49400))
	pkt, _ := enginetest.TCPPacket(c.mkSeg("P.", tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 1)))
	pkt[len(pkt)-1] ^= 0xff
	if res := env.e.Process(pkt); res.Verdict != verdict.Drop || res.Reason != verdict.ReasonBadChecksum {
		t.Fatalf("known flow: %v %v", res.Verdict, res.Reason)
	}
	other := newClient(t, env, ep4(49401), linuxOpts)
	pkt, _ = enginetest.TCPPacket(other.mkSeg("S", nil))
	pkt[len(pkt)-1] ^= 0xff
	if res := env.e.Process(pkt); res.Verdict != verdict.Accept || res.Reason != verdict.ReasonBadChecksum {
		t.Fatalf("unknown flow: %v %v", res.Verdict, res.Reason)
	}
}

// TestTCPBackpressure: past MaxPending forwards a flow stops reading:
// the queries that do not fit are left unacknowledged.
func TestTCPBackpressure(t *testing.T) {
	env := newTCPEnv(t, testTable(t), func(c *tcpstack.Config) { c.MaxPending = 2 })
	c := newClient(t, env, ep4(49500), linuxOpts)
	c.connect()
	var all []byte
	for i := range 4 {
		all = append(all, tcpQuery(t, "www.example.org", dns.TypeA, uint16(i))...)
	}
	held := c.send("P.", all)
	calls := env.fwd.take()
	if held.Verdict != verdict.Hold || len(calls) != 2 {
		t.Fatalf("%v, %d forwards", held.Verdict, len(calls))
	}
	for _, call := range calls {
		ans, _ := upstreamAnswer(call.query)
		call.done(ans, nil)
	}
	rel := c.released(held.Token)
	s, _ := enginetest.DecodeTCP(rel.Packet)
	if want := c.seq - uint32(len(all)/2); s.Ack != want {
		t.Fatalf("ack %d, want %d: half the queries left for the client to resend", s.Ack, want)
	}
	if len(c.msgs()) != 2 {
		t.Fatalf("%d answers", len(c.msgs()))
	}
}

// TestEnableTCPKey: TCP needs a key, and is enabled once. (The key file
// is cmd/meshdns's: TestLoadTCPKey there.)
func TestEnableTCPKey(t *testing.T) {
	e, _ := dnsengine.New(dnsengine.DefaultConfig(), dnsengine.StaticRegistry{})
	if err := e.EnableTCP(tcpstack.Config{Forwarder: &fakeForwarder{}}); err == nil {
		t.Fatal("enabled without a key")
	}
	if err := e.EnableTCP(tcpstack.Config{Key: testTCPKey, Forwarder: &fakeForwarder{}}); err != nil {
		t.Fatal(err)
	}
	if err := e.EnableTCP(tcpstack.Config{Key: testTCPKey, Forwarder: &fakeForwarder{}}); err == nil {
		t.Fatal("enabled twice")
	}
}

// TestTCPConcurrent: flows handled from several goroutines at once (as
// from several queues), with forwarded answers coming back on others.
// Run with -race.
func TestTCPConcurrent(t *testing.T) {
	env := newTCPEnv(t, testTable(t), nil)
	env.fwd.answer = func(q []byte) ([]byte, error) { return upstreamAnswer(q) }
	const workers, flows = 4, 25
	errs := make(chan string, workers*flows)
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range flows {
				ep := ep4(uint16(53000 + w*flows + i))
				if i%2 == 1 {
					ep = ep6(uint16(53000 + w*flows + i))
				}
				c := newClient(t, env, ep, linuxOpts)
				c.connect()
				if res := c.send("P.", tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 1)); res.Reason != verdict.ReasonAnswered {
					errs <- fmt.Sprintf("%v: mesh query %v", ep.Src, res.Reason)
					continue
				}
				res := c.send("P.", tcpQuery(t, "www.example.org", dns.TypeA, 2))
				if res.Verdict != verdict.Hold {
					errs <- fmt.Sprintf("%v: forwarded query %v", ep.Src, res.Verdict)
					continue
				}
				c.released(res.Token)
				if len(c.msgs()) != 2 {
					errs <- fmt.Sprintf("%v: %d answers", ep.Src, len(c.msgs()))
				}
				c.send("F.", nil)
				c.ack()
			}
		}()
	}
	for range workers {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := env.e.TCPFlows(); n != 0 {
		t.Errorf("%d flows left", n)
	}
}
