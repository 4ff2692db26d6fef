package tcpstack_test

import (
	"bytes"
	"testing"

	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/miekg/dns"
)

// tcpSteadyPackets connects a client and returns n rounds of (query
// segment, ACK of its answer) packets, built ahead with the sequence
// numbers the engine will expect, so that only Process runs while
// allocations are counted.
func tcpSteadyPackets(t testing.TB, env *tcpEnv, ep enginetest.Endpoints, n int) [][2][]byte {
	t.Helper()
	c := newClient(t, env, ep, linuxOpts)
	c.connect()
	q := tcpQuery(t, "web.default.svc.cluster.local", dns.TypeA, 1)
	// One round for real, to learn the answer's length and grow the
	// flow's buffers.
	c.send("P.", q)
	c.ack()
	ansLen := uint32(len(c.stream))
	out := make([][2][]byte, n)
	for i := range out {
		qs := c.mkSeg("P.", q)
		c.seq += uint32(len(q))
		c.rcvNxt += ansLen
		as := c.mkSeg(".", nil)
		for j, s := range []enginetest.TCPSeg{qs, as} {
			p, err := enginetest.TCPPacket(s)
			if err != nil {
				t.Fatal(err)
			}
			out[i][j] = bytes.Clone(p) // not the 64 KiB buffer
		}
	}
	return out
}

// TestTCPAllocs: on an established flow, a mesh query answered in place
// and the ACK of its answer (dropped) allocate nothing. Budget: 0. (A new
// flow allocates its state and buffers; a forwarded query its copy, its
// hold, the Forwarder's callback and the released packet.)
func TestTCPAllocs(t *testing.T) {
	for _, ep := range []enginetest.Endpoints{ep4(52000), ep6(52000)} {
		env := newTCPEnv(t, testTable(t), nil)
		const runs = 200
		pkts := tcpSteadyPackets(t, env, ep, runs+1)
		buf := make([]byte, 0, enginetest.BufSize)
		i := 0
		var r1, r2 verdict.Result
		q := &testHold{r: env.rel} // the queue's, made once (cmd's queuedPacket allocates nothing)
		allocs := testing.AllocsPerRun(runs, func() {
			buf = append(buf[:0], pkts[i][0]...)
			r1 = env.e.ProcessQueued(buf, q)
			buf = append(buf[:0], pkts[i][1]...)
			r2 = env.e.ProcessQueued(buf, q)
			i++
		})
		if r1.Verdict != verdict.Rewrite || r1.Reason != verdict.ReasonAnswered || r2.Verdict != verdict.Drop {
			t.Fatalf("%v: last round %v %v, %v %v", ep.Src, r1.Verdict, r1.Reason, r2.Verdict, r2.Reason)
		}
		if allocs != 0 {
			t.Errorf("%v: %v allocations per query and ACK, budget 0", ep.Src, allocs)
		}
	}
}

func BenchmarkTCPQuery(b *testing.B) {
	env := newTCPEnv(b, testTable(b), nil)
	pkts := tcpSteadyPackets(b, env, ep4(52001), b.N+1)
	buf := make([]byte, 0, enginetest.BufSize)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		buf = append(buf[:0], pkts[i][0]...)
		if r := env.e.Process(buf); r.Reason != verdict.ReasonAnswered {
			b.Fatal(r.Reason)
		}
		buf = append(buf[:0], pkts[i][1]...)
		env.e.Process(buf)
	}
}
