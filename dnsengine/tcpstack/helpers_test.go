package tcpstack_test

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/cache"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/tcpstack"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/miekg/dns"
)

var testTCPKey = []byte("0123456789abcdef0123456789abcdef")

// fakeForwarder records forwarded queries; a test answers them, or, with
// answer set, they are answered at once from inside Forward.
type fakeForwarder struct {
	mu     sync.Mutex
	calls  []*fwdCall
	answer func(q []byte) ([]byte, error)
}

type fwdCall struct {
	query  []byte
	server netip.AddrPort
	done   func([]byte, error)
}

func (f *fakeForwarder) Forward(q []byte, server netip.AddrPort, done func([]byte, error)) {
	f.mu.Lock()
	answer := f.answer
	if answer == nil {
		f.calls = append(f.calls, &fwdCall{append([]byte(nil), q...), server, done})
	}
	f.mu.Unlock()
	if answer != nil {
		done(answer(q))
	}
}

// take returns and forgets the calls so far.
func (f *fakeForwarder) take() []*fwdCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

// upstreamAnswer answers a query as the real nameserver would: an A
// record 198.19.0.53 with TTL 7 for any name.
func upstreamAnswer(q []byte) ([]byte, error) {
	m := new(dns.Msg)
	if err := m.Unpack(q); err != nil {
		return nil, err
	}
	r := new(dns.Msg)
	r.SetReply(m)
	r.RecursionAvailable = true
	if len(m.Question) == 1 && m.Question[0].Qtype == dns.TypeA {
		rr, _ := dns.NewRR(m.Question[0].Name + " 7 IN A 198.19.0.53")
		r.Answer = append(r.Answer, rr)
	}
	return r.Pack()
}

// releases records the releases of held segments, each under the token
// its hold was given (testHold).
type releases struct {
	mu   sync.Mutex
	next uint64 // the last token given
	got  map[uint64]verdict.Result
	dups []uint64
}

func (r *releases) release(token uint64, res verdict.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.got == nil {
		r.got = map[uint64]verdict.Result{}
	}
	if _, ok := r.got[token]; ok {
		r.dups = append(r.dups, token)
	}
	r.got[token] = res
}

// testHold is the test's queued packet (tcpstack.Holdable), and its
// handle once held (tcpstack.Held): Hold gives it the next token.
type testHold struct {
	r     *releases
	token uint64
}

func (h *testHold) Hold() tcpstack.Held {
	if h.token != 0 {
		panic("held twice")
	}
	h.r.mu.Lock()
	h.r.next++
	h.token = h.r.next
	h.r.mu.Unlock()
	return h
}

func (h *testHold) Release(res verdict.Result) { h.r.release(h.token, res) }

// result is the engine's result for a segment, with the token its hold
// was given (0: not held).
type result struct {
	verdict.Result
	Token uint64
}

// process hands pkt to the engine as a packet it may hold.
func (env *tcpEnv) process(pkt []byte) result {
	h := &testHold{r: env.rel}
	return result{env.e.ProcessQueued(pkt, h), h.token}
}

// take returns the release of token, if it happened, and forgets it.
func (r *releases) take(token uint64) (verdict.Result, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res, ok := r.got[token]
	delete(r.got, token)
	return res, ok
}

func (r *releases) pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// tcpEnv is an engine with TCP on, its fakes and clock.
type tcpEnv struct {
	e     *dnsengine.Engine
	fwd   *fakeForwarder
	rel   *releases
	clock *cache.FakeClock
	cfg   tcpstack.Config
}

func newTCPEnv(t testing.TB, tab *dnsengine.Table, tweak func(*tcpstack.Config)) *tcpEnv {
	t.Helper()
	cfg := dnsengine.DefaultConfig()
	cfg.Cache.Size = 0
	e, err := dnsengine.New(cfg, dnsengine.StaticRegistry{T: tab})
	if err != nil {
		t.Fatal(err)
	}
	env := &tcpEnv{e: e, fwd: &fakeForwarder{}, rel: &releases{}, clock: &cache.FakeClock{}}
	env.cfg = tcpstack.Config{Key: testTCPKey, Forwarder: env.fwd, Clock: env.clock}
	if tweak != nil {
		tweak(&env.cfg)
	}
	if err := e.EnableTCP(env.cfg); err != nil {
		t.Fatal(err)
	}
	return env
}

func testTable(t testing.TB) *dnsengine.Table { return enginetest.MustClusterTable(t) }

// clientOpts are the options of a client's SYN.
type clientOpts struct {
	mss    uint16
	ws     bool
	wscale uint8
	sack   bool
	ts     bool
	win    uint16 // the window of every segment (unscaled value); 0: 65535
}

var linuxOpts = clientOpts{mss: 1460, ws: true, wscale: 7, sack: true, ts: true, win: 502}

// tcpClient plays a client's TCP against the engine: it builds segments,
// feeds them to the engine and checks every segment the engine writes
// back (addresses, flags, sequence and acknowledgment numbers, window,
// timestamps, checksums), reassembling the answer stream.
type tcpClient struct {
	t    testing.TB
	env  *tcpEnv
	ep   enginetest.Endpoints
	opts clientOpts

	iss, seq  uint32 // our ISN and next sequence number
	srvISN    uint32
	rcvNxt    uint32 // the server's next byte we expect
	ackedTo   uint32 // our highest acknowledgment
	edge      uint32 // the right edge of the window it offered
	tsVal     uint32
	srvTS     uint32 // the server's last TSval
	stream    []byte // the server's bytes, in order
	finRcvd   bool
	finSent   bool // we sent our FIN
	connected bool // false again once both FINs are acknowledged (TIME-WAIT)
	reset     bool // the engine reset the connection
	allowRST  bool // an RST is expected (FuzzTCP)

	// reconnecting is set while a client opens the same tuple again with a
	// new ISN or resets its flow (FuzzTCP); the engine may answer that SYN
	// or RST with a challenge ACK (RFC 5961 3.2, 4.2), recorded in
	// challengeAck.
	reconnecting, challenged bool
	challengeAck             uint32

	unheld bool // its segments go to Engine.Process, which cannot hold them
}

func newClient(t testing.TB, env *tcpEnv, ep enginetest.Endpoints, o clientOpts) *tcpClient {
	if o.win == 0 {
		o.win = 65535
	}
	return &tcpClient{t: t, env: env, ep: ep, opts: o, iss: 0xfffff000 + uint32(ep.SrcPort), tsVal: 1000}
}

// connectedClient returns an engine on the test table and a client at ep
// (linuxOpts) whose handshake with it is done.
func connectedClient(t testing.TB, ep enginetest.Endpoints) (*tcpEnv, *tcpClient) {
	t.Helper()
	env := newTCPEnv(t, testTable(t), nil)
	c := newClient(t, env, ep, linuxOpts)
	c.connect()
	return env, c
}

func (c *tcpClient) scale() uint32 {
	if c.opts.ws {
		return uint32(c.opts.wscale)
	}
	return 0
}

// mkSeg builds a segment with our current numbers.
func (c *tcpClient) mkSeg(flags string, payload []byte) enginetest.TCPSeg {
	c.tsVal++
	s := enginetest.TCPSeg{Src: c.ep.Src, Dst: c.ep.Dst, SrcPort: c.ep.SrcPort, DstPort: c.ep.DstPort,
		Seq: c.seq, Ack: c.rcvNxt, Window: c.opts.win, Payload: payload,
		SYN: strings.Contains(flags, "S"), FIN: strings.Contains(flags, "F"), RST: strings.Contains(flags, "R"),
		PSH: strings.Contains(flags, "P"), ACK: strings.Contains(flags, ".")}
	if c.opts.ts {
		s.HasTS, s.TSVal, s.TSEcr = true, c.tsVal, c.srvTS
	}
	if s.SYN {
		s.Ack = 0
		s.MSS, s.SACKOK, s.HasWS, s.WScale = c.opts.mss, c.opts.sack, c.opts.ws, c.opts.wscale
		s.Window = 64240 // a SYN's window is not scaled

	}
	return s
}

// feed hands s to the engine and checks the result. A rewritten segment is
// checked and absorbed. An accepted one must be unmodified.
func (c *tcpClient) feed(s enginetest.TCPSeg) result {
	c.t.Helper()
	pkt, err := enginetest.TCPPacket(s)
	if err != nil {
		c.t.Fatal(err)
	}
	orig := append([]byte(nil), pkt...)
	if s.ACK && !s.SYN && int32(s.Ack-c.ackedTo) >= 0 {
		c.ackedTo = s.Ack
		c.edge = s.Ack + uint32(s.Window)<<c.scale()
	}
	var res result
	if c.unheld {
		res.Result = c.env.e.Process(pkt)
	} else {
		res = c.env.process(pkt)
	}
	switch res.Verdict {
	case verdict.Rewrite:
		c.absorb(res.Packet)
	case verdict.Accept, verdict.Drop, verdict.Hold:
		if string(pkt) != string(orig) {
			c.t.Fatalf("verdict %v but the packet was modified", res.Verdict)
		}
	}
	if (res.Verdict == verdict.Hold) != (res.Token != 0) {
		c.t.Fatalf("verdict %v, held %v", res.Verdict, res.Token != 0)
	}
	return res
}

// send sends payload (and flags) as our next segment.
func (c *tcpClient) send(flags string, payload []byte) result {
	c.t.Helper()
	s := c.mkSeg(flags, payload)
	c.seq += uint32(len(payload))
	if s.FIN || s.SYN {
		c.seq++
	}
	c.finSent = c.finSent || s.FIN
	res := c.feed(s)
	if c.finSent && c.finRcvd && s.ACK && s.Ack == c.rcvNxt {
		c.connected = false // TIME-WAIT: this client sends nothing more
	}
	return res
}

// ack sends a pure ACK of everything received.
func (c *tcpClient) ack() result {
	c.t.Helper()
	return c.send(".", nil)
}

// absorb checks a segment the engine wrote to us and takes its bytes.
func (c *tcpClient) absorb(pkt []byte) *enginetest.TCPSeg {
	c.t.Helper()
	s, err := enginetest.DecodeTCP(pkt)
	if err != nil {
		c.t.Fatal(err)
	}
	if s.Src != c.ep.Dst || s.Dst != c.ep.Src || s.SrcPort != c.ep.DstPort || s.DstPort != c.ep.SrcPort {
		c.t.Fatalf("segment %v:%d -> %v:%d is not addressed to the client %v:%d from %v:%d",
			s.Src, s.SrcPort, s.Dst, s.DstPort, c.ep.Src, c.ep.SrcPort, c.ep.Dst, c.ep.DstPort)
	}
	if c.reconnecting && !c.connected && s.ACK && !s.SYN && !s.FIN && !s.RST && len(s.Payload) == 0 {
		c.challenged, c.challengeAck = true, s.Ack
		return s
	}
	if s.RST {
		// Only for a flow that cannot be resumed: seq is what the segment
		// acknowledged, which a real client's TCP takes.
		if !c.allowRST || int32(s.Seq-c.rcvNxt) > 0 || int32(s.Seq-c.srvISN) <= 0 || s.ACK || s.SYN || s.FIN || len(s.Payload) > 0 || !c.connected {
			c.t.Fatalf("bad RST: %+v", s)
		}
		c.connected, c.reset = false, true
		return s
	}
	if !s.ACK {
		c.t.Fatalf("segment without ACK: %s", s.Flags())
	}
	if int32(s.Ack-c.seq) > 0 {
		c.t.Fatalf("ack %d beyond our next byte %d", s.Ack, c.seq)
	}
	if s.Window == 0 {
		c.t.Fatal("zero window")
	}
	if c.opts.ts {
		if !s.HasTS {
			c.t.Fatalf("%s without timestamps, negotiated", s.Flags())
		}
		if s.TSEcr != c.tsVal {
			c.t.Fatalf("TSecr %d, want our last TSval %d", s.TSEcr, c.tsVal)
		}
		if c.connected && int32(s.TSVal-c.srvTS) < 0 {
			c.t.Fatalf("TSval went back: %d after %d", s.TSVal, c.srvTS)
		}
		c.srvTS = s.TSVal
	} else if s.HasTS {
		c.t.Fatal("timestamps not negotiated but sent")
	}
	if s.SYN {
		if c.connected && s.Seq != c.srvISN {
			c.t.Fatalf("second SYN-ACK with ISN %d, first %d", s.Seq, c.srvISN)
		}
		if s.Ack != c.iss+1 || s.FIN || s.PSH || len(s.Payload) > 0 {
			c.t.Fatalf("bad SYN-ACK: %+v", s)
		}
		c.srvISN, c.rcvNxt = s.Seq, s.Seq+1
		c.ackedTo, c.edge = s.Seq, s.Seq
		return s
	}
	if !c.connected {
		c.t.Fatalf("%s before the handshake", s.Flags())
	}
	off := int32(s.Seq - c.rcvNxt)
	if off > 0 {
		c.t.Fatalf("segment seq %d leaves a gap after %d", s.Seq, c.rcvNxt)
	}
	// Never beyond the window we offered.
	if end := s.Seq + uint32(len(s.Payload)); int32(end-c.edge) > 0 {
		c.t.Fatalf("segment ends at %d, beyond the window we offered (up to %d)", end, c.edge)
	}
	if len(s.Payload) > 0 {
		if !s.PSH {
			c.t.Fatal("data without PSH")
		}
		base := s.Seq - (c.srvISN + 1)
		for i, b := range s.Payload {
			at := int(base) + i
			if at < len(c.stream) {
				if c.stream[at] != b {
					c.t.Fatalf("byte %d resent as %#x, first %#x", at, b, c.stream[at])
				}
				continue
			}
			c.stream = append(c.stream, b)
		}
		if c.finRcvd && s.Seq+uint32(len(s.Payload)) != c.rcvNxt-1 {
			c.t.Fatal("data after the FIN")
		}
		if !c.finRcvd {
			c.rcvNxt = c.srvISN + 1 + uint32(len(c.stream))
		}
	}
	if s.FIN {
		fseq := s.Seq + uint32(len(s.Payload))
		if c.finRcvd {
			if fseq+1 != c.rcvNxt {
				c.t.Fatalf("FIN moved: at %d, first at %d", fseq, c.rcvNxt-1)
			}
		} else {
			if fseq != c.rcvNxt {
				c.t.Fatalf("FIN at %d, want %d", fseq, c.rcvNxt)
			}
			c.finRcvd = true
			c.rcvNxt++
		}
	}
	return s
}

// connect does the handshake.
func (c *tcpClient) connect() {
	c.t.Helper()
	c.seq = c.iss
	res := c.send("S", nil)
	if res.Verdict != verdict.Rewrite || res.Reason != verdict.ReasonTCPHandshake {
		c.t.Fatalf("SYN: %v %v, want rewrite tcp_handshake", res.Verdict, res.Reason)
	}
	c.connected = true
	if res := c.ack(); res.Verdict != verdict.Drop {
		c.t.Fatalf("handshake ACK: %v %v, want drop", res.Verdict, res.Reason)
	}
}

// msgs returns the complete answers received so far.
func (c *tcpClient) msgs() []*dns.Msg {
	c.t.Helper()
	m, _, err := enginetest.SplitTCPMessages(c.stream)
	if err != nil {
		c.t.Fatal(err)
	}
	return m
}

// released takes the release of a held segment and absorbs it.
func (c *tcpClient) released(token uint64) verdict.Result {
	c.t.Helper()
	res, ok := c.env.rel.take(token)
	if !ok {
		c.t.Fatalf("token %d not released", token)
	}
	if res.Verdict == verdict.Rewrite {
		c.absorb(res.Packet)
	}
	return res
}

func tcpQuery(t testing.TB, name string, qtype uint16, id uint16) []byte {
	t.Helper()
	m := enginetest.NewQuery(name, qtype)
	m.Id = id
	b, err := enginetest.TCPQuery(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bigTable is the test table plus big.default.svc.cluster.local with n
// A records.
func bigTable(t testing.TB, n int) *dnsengine.Table {
	t.Helper()
	var zone strings.Builder
	zone.WriteString("web.default.svc.cluster.local. A 10.96.0.10\n")
	for i := range n {
		fmt.Fprintf(&zone, "big.default.svc.cluster.local. A 10.%d.%d.%d\n", 100+i>>16, i>>8&0xff, i&0xff)
	}
	tab, err := enginetest.TableFromZone(dnsengine.TableConfig{ClusterDomain: "cluster.local", Serial: 1,
		Nameservers: []netip.Addr{netip.MustParseAddr("198.18.0.1")}}, zone.String())
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func ep4(port uint16) enginetest.Endpoints {
	e := enginetest.Default4()
	e.SrcPort = port
	return e
}

func ep6(port uint16) enginetest.Endpoints {
	e := enginetest.Default6()
	e.SrcPort = port
	return e
}
