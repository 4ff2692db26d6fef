package tcpstack_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/tcpstack"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/miekg/dns"
)

const debugFuzz = false

var fuzzNames = []struct {
	name  string
	qtype uint16
}{
	{"web.default.svc.cluster.local", dns.TypeA},
	{"big.default.svc.cluster.local", dns.TypeA},
	{"nope.default.svc.cluster.local", dns.TypeAAAA},
	{"www.example.org", dns.TypeA},
	{"www.example.org", dns.TypeTXT},
}

// FuzzTCP plays scripts of client behaviour against the engine: two
// clients (IPv4, IPv6) connect, query (mesh and forwarded names, whole,
// split or pipelined), acknowledge, shrink their window, retransmit,
// close, reset, and send segments with arbitrary sequence numbers within
// what a client can send, while forwards are answered, fail or time out.
// Every segment the engine writes is checked by the client model
// (tcpClient.absorb: checksums, addressing, acknowledgment never beyond
// what was sent, never beyond the window, resent bytes identical, FIN
// placement), every hold is released exactly once, and the engine never
// panics.
func FuzzTCP(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 3, 0, 4, 0})
	f.Add([]byte{0, 1, 1, 1, 2, 1, 3, 1, 7, 0, 3, 1, 4, 1, 3, 1})
	f.Add([]byte{0, 0, 8, 0, 1, 3, 1, 0, 6, 0, 9, 0, 7, 1, 3, 0})
	f.Add([]byte{0, 0, 9, 1, 1, 4, 5, 0, 0, 0, 6, 0x81, 0x10, 7, 2, 3, 0})
	f.Add([]byte{0, 0, 1, 2, 10, 0, 3, 0, 3, 0, 11, 0, 2, 0, 12, 0, 7, 0})
	tab := bigTable(f, 200)
	f.Fuzz(func(t *testing.T, script []byte) {
		env := newTCPEnv(t, tab, func(c *tcpstack.Config) {
			c.MaxPending = 3
			c.MaxBuffered = 4096
			c.MaxPacket = 1500
		})
		clients := []*tcpClient{
			newClient(t, env, ep4(50000), linuxOpts),
			newClient(t, env, ep6(50001), clientOpts{mss: 1440, win: 3000}),
		}
		for _, c := range clients {
			c.allowRST = true
		}
		var calls []*fwdCall
		var holds []uint64
		released := map[uint64]bool{}
		absorbReleases := func() {
			for _, tok := range holds {
				if released[tok] {
					continue
				}
				if res, ok := env.rel.take(tok); ok {
					released[tok] = true
					for _, c := range clients {
						if res.Verdict == verdict.Rewrite && c.connected {
							if s, err := enginetest.DecodeTCP(res.Packet); err == nil && s.DstPort == c.ep.SrcPort {
								c.absorb(res.Packet)
							}
						}
					}
				}
			}
		}
		note := func(res result) {
			if res.Verdict == verdict.Hold {
				holds = append(holds, res.Token)
			}
			if res.Verdict == verdict.Rewrite && !res.Reason.Answered() && res.Reason < verdict.ReasonTCPHandshake {
				t.Fatalf("rewrite with reason %v", res.Reason)
			}
		}
		for len(script) >= 2 {
			op, arg := script[0], script[1]
			script = script[2:]
			c := clients[arg&1]
			if !c.connected && op%13 != 0 {
				continue
			}
			switch op % 13 {
			case 1, 2, 4, 6, 9, 11:
				if c.finSent {
					continue // a client sends nothing new after its FIN
				}
			}
			if debugFuzz {
				t.Logf("op %d arg %d client %d", op%13, arg, arg&1)
			}
			switch op % 13 {
			case 0: // connect (again, with a new ISN)
				c.iss += 0x10000 + uint32(arg)
				c.stream, c.finRcvd, c.finSent, c.connected, c.reset = nil, false, false, false, false
				c.srvTS = 0
				c.seq = c.iss
				c.reconnecting = true
				res := c.send("S", nil)
				note(res)
				if c.challenged {
					// The engine still holds the old flow on this tuple and
					// challenged the SYN (RFC 5961 4.2). A client with no
					// such connection answers the ACK with an RST at its
					// acknowledgment number, which ends the held flow, and
					// sends its SYN again.
					c.challenged = false
					c.seq = c.challengeAck
					note(c.send("R", nil))
					c.seq = c.iss
					res = c.send("S", nil)
					note(res)
				}
				c.reconnecting = false
				if res.Verdict != verdict.Rewrite {
					continue
				}
				c.connected = true
				note(c.ack())
			case 1: // a query
				n := fuzzNames[int(arg>>1)%len(fuzzNames)]
				note(c.send("P.", tcpQuery(t, n.name, n.qtype, uint16(arg))))
			case 2: // a query in two parts
				n := fuzzNames[int(arg>>1)%len(fuzzNames)]
				q := tcpQuery(t, n.name, n.qtype, uint16(arg))
				cut := 1 + int(arg>>4)%(len(q)-1)
				note(c.send("P.", q[:cut]))
				if c.connected {
					note(c.send("P.", q[cut:]))
				}
			case 3:
				note(c.ack())
			case 4:
				if !c.finRcvd {
					note(c.send("F.", nil))
				}
			case 5:
				// An RST that is not at the engine's next byte (data it has
				// not read yet) is challenged (RFC 5961 3.2); the client,
				// which means it, resets again at the acknowledged number.
				c.connected, c.reconnecting = false, true
				note(c.send("R.", nil))
				if c.challenged {
					c.challenged = false
					c.seq = c.challengeAck
					note(c.send("R", nil))
				}
				c.reconnecting = false
			case 6: // arbitrary bytes, at an arbitrary place we may send at
				back := uint32(arg>>1) * 7
				body := script[:min(len(script), int(arg>>3))]
				s := c.mkSeg("P.", append([]byte(nil), body...))
				s.Seq = c.seq - back
				if end := s.Seq + uint32(len(body)); int32(end-c.seq) > 0 {
					c.seq = end
				}
				note(c.feed(s))
			case 7: // the oldest forward answered, failed or garbled
				if len(calls) == 0 {
					calls = append(calls, env.fwd.take()...)
				}
				if len(calls) == 0 {
					continue
				}
				call := calls[0]
				calls = calls[1:]
				switch arg % 3 {
				case 0:
					ans, err := upstreamAnswer(call.query)
					call.done(ans, err)
				case 1:
					call.done(nil, errors.New("timeout"))
				case 2:
					call.done([]byte{1, 2, 3}, nil)
				}
				absorbReleases()
			case 8: // the window
				c.opts.win = uint16(arg) << 4
				note(c.ack())
			case 9: // pipelined queries
				var b []byte
				for i := range int(arg%4) + 2 {
					n := fuzzNames[(int(arg)+i)%len(fuzzNames)]
					b = append(b, tcpQuery(t, n.name, n.qtype, uint16(i))...)
				}
				note(c.send("P.", b))
			case 10: // time passes
				env.clock.Advance(time.Duration(arg) * 100 * time.Millisecond)
				env.e.SweepTCP()
				absorbReleases()
			case 11: // a retransmission of old data
				if c.seq-c.iss > 2 {
					s := c.mkSeg("P.", []byte{0, 0})
					s.Seq = c.seq - 2
					note(c.feed(s))
				}
			case 12: // an acknowledgment of only part of what came
				s := c.mkSeg(".", nil)
				s.Ack = c.rcvNxt - uint32(arg)%(c.rcvNxt-c.srvISN)
				note(c.feed(s))
			}
		}
		// Everything still held is released once the forwards are done.
		calls = append(calls, env.fwd.take()...)
		for _, call := range calls {
			call.done(nil, errors.New("end"))
		}
		env.clock.Advance(time.Hour)
		env.e.SweepTCP()
		absorbReleases()
		for _, tok := range holds {
			if !released[tok] {
				t.Fatalf("hold %d never released", tok)
			}
		}
		if len(env.rel.dups) > 0 {
			t.Fatalf("tokens released twice: %v", env.rel.dups)
		}
		if n := env.e.TCPFlows(); n != 0 {
			t.Fatalf("%d flows after an hour idle", n)
		}
		for _, c := range clients {
			if _, _, err := enginetest.SplitTCPMessages(c.stream); err != nil {
				t.Fatalf("answer stream: %v", err)
			}
		}
	})
}

// FuzzTCPPacket feeds arbitrary packets to an engine with TCP on and a
// few flows open. It must never panic, never modify a packet it passes or
// drops, and every packet it writes must be a well-formed TCP segment from
// port 53 (gopacket re-serializes it identically).
func FuzzTCPPacket(f *testing.F) {
	seed := func(s enginetest.TCPSeg) {
		p, err := enginetest.TCPPacket(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p)
	}
	q := tcpQuery(f, "web.default.svc.cluster.local", dns.TypeA, 1)
	v4, v6 := ep4(51000), ep6(51000)
	seed(enginetest.TCPSeg{Src: v4.Src, Dst: v4.Dst, SrcPort: v4.SrcPort, DstPort: 53, SYN: true, Window: 64240, MSS: 1460, HasTS: true, HasWS: true, WScale: 7})
	seed(enginetest.TCPSeg{Src: v6.Src, Dst: v6.Dst, SrcPort: v6.SrcPort, DstPort: 53, ACK: true, PSH: true, Window: 500, Payload: q})
	seed(enginetest.TCPSeg{Src: v4.Src, Dst: v4.Dst, SrcPort: 51001, DstPort: 53, ACK: true, FIN: true, Window: 500})
	env := newTCPEnv(f, testTable(f), nil)
	env.fwd.answer = upstreamAnswer
	for _, ep := range []enginetest.Endpoints{v4, v6, ep4(51001)} {
		newClient(f, env, ep, linuxOpts).connect()
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		pkt := make([]byte, len(in), enginetest.BufSize)
		copy(pkt, in)
		res := env.process(pkt)
		switch res.Verdict {
		case verdict.Accept, verdict.Drop, verdict.Hold:
			if !bytes.Equal(pkt, in) {
				t.Fatalf("packet modified on %v", res.Verdict)
			}
		case verdict.Rewrite:
			if len(in) > 9 && (in[0]>>4 == 4 && in[9] == 17 || in[0]>>4 == 6 && in[6] == 17) {
				return // a UDP query's answer: FuzzProcess checks those
			}
			s, err := enginetest.DecodeTCP(res.Packet)
			if err != nil {
				t.Fatalf("bad segment: %v", err)
			}
			if s.SrcPort != 53 {
				t.Fatalf("segment from port %d", s.SrcPort)
			}
		}
	})
}
