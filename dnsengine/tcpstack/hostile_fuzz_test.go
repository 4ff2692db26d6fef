package tcpstack_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/tcpstack"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/miekg/dns"
)

var errFuzzForward = errors.New("forward failed")

// hostileSlop is what the budget may be exceeded by: the SERVFAILs written
// when an answer does not fit (at most 273 bytes each, one per query a
// flow had read).
const hostileSlop = 64 << 10

// FuzzTCPHostile drives sequences of segments a hostile process in the pod
// can send (no client model: any flags, sequence and acknowledgment
// numbers near or far from the flow's, length prefixes up to 0xffff,
// trickled and pipelined queries, injected RST and SYN, many 4-tuples)
// through one engine with the smallest memory budget, while forwards are
// answered, fail or hang and the clock moves. After every segment: no
// panic, the memory charged within the budget and equal to a recount of
// what the engine holds, every rewritten packet a well-formed segment
// (checksums verified) from port 53 back to its sender, nothing modified
// that is not rewritten, no hold released twice; at the end, once the
// clock passes every timeout, every hold released and the charge back to
// the shards' scratch buffers.
func FuzzTCPHostile(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 2, 0, 0, 0, 1, 0, 2, 0, 1, 0, 3, 60, 1, 0, 3, 60})
	f.Add([]byte{0, 1, 0, 0, 2, 1, 0, 0, 1, 1, 4, 0, 1, 1, 1, 0, 6, 0, 0, 0, 3, 1, 1, 0, 3, 1, 0, 0})
	f.Add([]byte{0, 2, 0, 0, 2, 2, 0, 0, 1, 2, 5, 0, 5, 0, 31, 0, 1, 2, 5, 1, 0, 2, 9, 9, 7, 2, 0x12, 7})
	f.Add([]byte{0, 3, 0, 0, 1, 3, 1, 0, 1, 3, 1, 0, 6, 1, 0, 0, 4, 3, 0, 0, 2, 3, 0, 0})
	queries := [][]byte{
		tcpQuery(f, "web.default.svc.cluster.local", dns.TypeA, 1),
		tcpQuery(f, "www.example.org", dns.TypeA, 2),
		tcpQuery(f, "big.default.svc.cluster.local", dns.TypeA, 3),
	}
	tab := bigTable(f, 300)
	f.Fuzz(func(t *testing.T, script []byte) {
		if len(script) > 4*512 {
			return
		}
		env := newTCPEnv(t, tab, func(c *tcpstack.Config) {
			c.MaxMemory = smallBudget
			c.IdleTimeout = 5 * time.Second
			c.HoldTimeout = 3 * time.Second
		})
		type peer struct {
			ep         enginetest.Endpoints
			seq, isn   uint32 // our next byte, our ISN
			srvNxt     uint32 // the engine's next byte, as last seen
			tsVal, tsE uint32
		}
		var peers [8]peer
		for i := range peers {
			ep := ep4(uint16(52000 + i))
			if i%4 == 3 {
				ep = ep6(uint16(52000 + i))
			}
			peers[i] = peer{ep: ep, isn: uint32(i) * 0x10000000, seq: uint32(i) * 0x10000000, tsVal: 100}
		}
		for len(script) >= 4 {
			op, pi, a1, a2 := script[0]%8, int(script[1])%len(peers), script[2], script[3]
			script = script[4:]
			p := &peers[pi]
			p.tsVal++
			s := enginetest.TCPSeg{Src: p.ep.Src, Dst: p.ep.Dst, SrcPort: p.ep.SrcPort, DstPort: 53,
				Seq: p.seq, Ack: p.srvNxt, ACK: true, Window: uint16(a2) << 8, HasTS: a1&0x80 == 0, TSVal: p.tsVal, TSEcr: p.tsE}
			switch op {
			case 0: // SYN
				s = enginetest.TCPSeg{Src: p.ep.Src, Dst: p.ep.Dst, SrcPort: p.ep.SrcPort, DstPort: 53, SYN: true,
					Seq: p.isn + uint32(a1), Window: 64240, MSS: uint16(a2)<<4 + 64, HasTS: a1&1 == 0, TSVal: p.tsVal, HasWS: a1&2 == 0, WScale: a2 % 16}
				p.seq = s.Seq + 1
			case 1: // data
				var pay []byte
				switch a1 % 8 {
				case 0, 1, 2:
					pay = queries[a1%8]
				case 3:
					pay = bytes.Repeat([]byte{0xee}, int(a2)*10)
				case 4:
					for range 1 + a2%30 {
						pay = append(pay, queries[int(a2)%3]...)
					}
				case 5:
					pay = []byte{0xff, 0xff}
				case 6:
					pay = queries[0][:1+int(a2)%len(queries[0])]
				case 7:
					pay = binary.BigEndian.AppendUint16(nil, uint16(a2)<<8)
				}
				s.Payload, s.PSH = pay, true
				p.seq += uint32(len(pay))
			case 2: // pure ACK
			case 3: // RST near or far from the next byte
				s.RST, s.ACK = true, a1&1 == 0
				s.Seq += uint32(int32(int8(a2))) << (a1 % 24)
			case 4: // FIN
				s.FIN = true
				p.seq++
			case 5: // time passes
				env.clock.Advance(time.Duration(a1) * 100 * time.Millisecond)
				env.e.SweepTCP()
				checkHostile(t, env)
				continue
			case 6: // the Forwarder answers, fails, or holds on
				for i, call := range env.fwd.take() {
					switch (int(a1) + i) % 3 {
					case 0:
						call.done(upstreamAnswer(call.query))
					case 1:
						call.done(nil, errFuzzForward)
					case 2:
						env.fwd.mu.Lock()
						env.fwd.calls = append(env.fwd.calls, call)
						env.fwd.mu.Unlock()
					}
				}
				checkHostile(t, env)
				continue
			case 7: // anything: flags and numbers from the script
				s.SYN, s.FIN, s.RST, s.ACK, s.PSH = a1&2 != 0, a1&1 != 0, a1&4 != 0, a1&16 != 0, a1&8 != 0
				s.Seq += uint32(a2) << 24
				s.Ack += uint32(a1) << 16
			}
			pkt, err := enginetest.TCPPacket(s)
			if err != nil {
				t.Fatal(err)
			}
			orig := bytes.Clone(pkt)
			res := env.process(pkt)
			switch res.Verdict {
			case verdict.Rewrite:
				if err := enginetest.CheckTransport(res.Packet); err != nil {
					t.Fatalf("rewritten segment: %v", err)
				}
				r, err := enginetest.DecodeTCP(res.Packet)
				if err != nil {
					t.Fatalf("rewritten segment: %v", err)
				}
				if r.Src != s.Dst || r.Dst != s.Src || r.SrcPort != 53 || r.DstPort != s.SrcPort {
					t.Fatalf("rewritten segment %v:%d -> %v:%d, not back to the sender", r.Src, r.SrcPort, r.Dst, r.DstPort)
				}
				end := r.Seq + uint32(len(r.Payload))
				if r.SYN || r.FIN {
					end++
				}
				if !r.RST && (r.SYN || int32(end-p.srvNxt) > 0) {
					p.srvNxt = end
				}
				if r.HasTS {
					p.tsE = r.TSVal
				}
			case verdict.Hold:
				if res.Token == 0 {
					t.Fatal("hold without Holdable.Hold")
				}
				fallthrough
			default:
				if !bytes.Equal(pkt, orig) {
					t.Fatalf("%v but the packet was modified", res.Verdict)
				}
			}
			checkHostile(t, env)
		}
		// Every timeout passes: the Forwarder lets go of everything, every
		// hold is released and every flow forgotten.
		for _, call := range env.fwd.take() {
			call.done(nil, errFuzzForward)
		}
		env.clock.Advance(time.Hour)
		env.e.SweepTCP()
		checkHostile(t, env)
		if env.e.TCPFlows() != 0 || env.e.TCPMemory() > 32*65535+32*256*96 {
			t.Fatalf("after every timeout: %d flows, %d bytes charged", env.e.TCPFlows(), env.e.TCPMemory())
		}
	})
}

// checkHostile checks the budget invariants and that no hold was released
// twice.
func checkHostile(t *testing.T, env *tcpEnv) {
	t.Helper()
	used, recount := env.e.TCPMemory(), env.e.TCPStack().MemoryRecount()
	if used != recount {
		t.Fatalf("TCPMemory %d, recounted %d", used, recount)
	}
	if used > env.cfg.MaxMemory/2+hostileSlop {
		t.Fatalf("TCPMemory %d over the budget %d", used, env.cfg.MaxMemory)
	}
	env.rel.mu.Lock()
	dups := len(env.rel.dups)
	env.rel.mu.Unlock()
	if dups != 0 {
		t.Fatalf("%d holds released twice", dups)
	}
}
