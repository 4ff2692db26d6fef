package exchange

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/meshdns/meshdns/dnsengine/cache"
	"github.com/miekg/dns"
)

// A nameserver played by the test: it reads a query and sends forgeries
// before (or instead of) the real answer.
type playedServer struct {
	t    *testing.T
	conn *net.UDPConn
	ap   netip.AddrPort
}

func playServer(t *testing.T) *playedServer {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &playedServer{t: t, conn: c, ap: c.LocalAddr().(*net.UDPAddr).AddrPort()}
}

// read returns the next query and where it came from.
func (s *playedServer) read() (*dns.Msg, netip.AddrPort) {
	s.t.Helper()
	buf := make([]byte, 4096)
	s.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, from, err := s.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		s.t.Fatal(err)
	}
	m := new(dns.Msg)
	if err := m.Unpack(buf[:n]); err != nil {
		s.t.Fatal(err)
	}
	return m, from
}

func (s *playedServer) send(conn *net.UDPConn, m *dns.Msg, to netip.AddrPort) {
	s.t.Helper()
	b, err := m.Pack()
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := conn.WriteToUDPAddrPort(b, to); err != nil {
		s.t.Fatal(err)
	}
}

// reply answers q with one A record.
func reply(t *testing.T, q *dns.Msg, a string) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetReply(q)
	rr, err := dns.NewRR(q.Question[0].Name + " 60 IN A " + a)
	if err != nil {
		t.Fatal(err)
	}
	m.Answer = []dns.RR{rr}
	return m
}

// forgeries returns the forged answers to q the tests send before the real
// one, each differing from it in one way the match must catch: the ID,
// the question name, the type (in the byte a case-folding match would fold:
// 65 and 97 differ only in 0x20), the class, no question at all.
func forgeries(t *testing.T, q *dns.Msg) []*dns.Msg {
	var out []*dns.Msg
	m := reply(t, q, "203.0.113.66")
	m.Id++
	out = append(out, m)
	m = reply(t, q, "203.0.113.66")
	m.Question[0].Name = "evil.example.org."
	out = append(out, m)
	m = reply(t, q, "203.0.113.66")
	m.Question[0].Qtype ^= 0x20
	out = append(out, m)
	m = reply(t, q, "203.0.113.66")
	m.Question[0].Qclass = dns.ClassCHAOS
	out = append(out, m)
	m = reply(t, q, "203.0.113.66")
	m.Question = nil
	out = append(out, m)
	return out
}

// TestForwardSpoofedUDP: forged answers from the nameserver's address and
// port (wrong ID, question, type, class, none) and from another port reach
// the query's socket or not, but none is taken and none ends the wait: the
// real answer that follows is what the client gets.
func TestForwardSpoofedUDP(t *testing.T) {
	for _, qtype := range []uint16{dns.TypeA, dns.TypeHTTPS} {
		srv := playServer(t)
		other, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		c := newClient(t, Config{Timeout: 5 * time.Second})
		type result struct {
			m   *dns.Msg
			err error
		}
		ch := make(chan result, 1)
		go func() {
			m, err := forward(c, query(t, "Bank.Example.org.", qtype, 0x1234, true), srv.ap)
			ch <- result{m, err}
		}()
		q, from := srv.read()
		if q.Id == 0x1234 {
			t.Errorf("the query went out under the client's ID")
		}
		srv.send(other, reply(t, q, "203.0.113.77"), from) // another source port: the connected socket never sees it
		forged := forgeries(t, q)
		for _, f := range forged {
			srv.send(srv.conn, f, from)
		}
		waitFor(t, "the forgeries read", func() bool { return c.Stats().Mismatched == uint64(len(forged)) })
		real := reply(t, q, "198.18.5.5")
		real.Answer[0].Header().Rrtype = qtype
		if qtype != dns.TypeA {
			real.Answer = nil
		}
		srv.send(srv.conn, real, from)
		r := <-ch
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.m.Id != 0x1234 || r.m.Question[0].Qtype != qtype || (qtype == dns.TypeA && (len(r.m.Answer) != 1 || r.m.Answer[0].(*dns.A).A.String() != "198.18.5.5")) {
			t.Fatalf("type %d: got %v, want the real answer", qtype, r.m)
		}
		if st := c.Stats(); st.UDP != 1 || st.Timeouts != 0 {
			t.Fatalf("stats %+v: want one attempt, answered", st)
		}
	}
}

// TestForwardSpoofedTCP: over TCP too, an answer with the query's ID but
// another question is skipped and the real one taken.
func TestForwardSpoofedTCP(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		var l [2]byte
		if _, err := io.ReadFull(conn, l[:]); err != nil {
			return
		}
		b := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(conn, b); err != nil {
			return
		}
		q := new(dns.Msg)
		if q.Unpack(b) != nil {
			return
		}
		for _, m := range append(forgeries(t, q), reply(t, q, "198.18.5.5")) {
			w, _ := m.Pack()
			conn.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(w))), w...))
		}
		io.Copy(io.Discard, conn)
	}()
	c := newClient(t, Config{})
	m, err := forward(c, query(t, "bank.example.org.", dns.TypeAXFR, 0x4321, false), ln.Addr().(*net.TCPAddr).AddrPort())
	if err != nil {
		t.Fatal(err)
	}
	if m.Id != 0x4321 || len(m.Answer) != 1 || m.Answer[0].(*dns.A).A.String() != "198.18.5.5" || m.Question[0].Qtype != dns.TypeAXFR {
		t.Fatalf("got %v, want the real answer", m)
	}
	if st := c.Stats(); st.Mismatched != 5 {
		t.Fatalf("%d mismatched, want the 5 forgeries", st.Mismatched)
	}
}

// TestRefreshSpoofed: the refresher's answer is matched the same way; the
// forgeries never reach the learner, the real answer does, once.
func TestRefreshSpoofed(t *testing.T) {
	srv := playServer(t)
	fake := &FakeLearner{Outcome: cache.Learned}
	c := startRefresher(t, Config{ServerPort: srv.ap.Port(), Timeout: 5 * time.Second}, fake)
	c.Refresh(request(t, "bank.example.org", dns.TypeA, false, false))
	q, from := srv.read()
	forged := forgeries(t, q)
	for _, f := range forged {
		srv.send(srv.conn, f, from)
	}
	waitFor(t, "the forgeries read", func() bool { return c.Stats().Mismatched == uint64(len(forged)) })
	if len(fake.Calls()) != 0 {
		t.Fatal("a forgery reached the learner")
	}
	real := reply(t, q, "198.18.5.5")
	srv.send(srv.conn, real, from)
	waitFor(t, "the answer", func() bool { return len(fake.Calls()) == 1 })
	srv.send(srv.conn, real, from) // a duplicate: the socket is gone
	time.Sleep(50 * time.Millisecond)
	if n := len(fake.Calls()); n != 1 {
		t.Fatalf("learner called %d times", n)
	}
	m := new(dns.Msg)
	if err := m.Unpack(fake.Calls()[0].Msg); err != nil || len(m.Answer) != 1 || m.Answer[0].(*dns.A).A.String() != "198.18.5.5" {
		t.Fatalf("learned %v %v", m, err)
	}
}

// TestRandomSourcePortsAndIDs: every attempt leaves from its own socket:
// over 40 queries the source ports and the IDs are (nearly) all distinct,
// as a stub resolver's.
func TestRandomSourcePortsAndIDs(t *testing.T) {
	srv := playServer(t)
	c := newClient(t, Config{})
	ports, ids := map[uint16]bool{}, map[uint16]bool{}
	const n = 40
	for i := range n {
		done := make(chan error, 1)
		go func() {
			_, err := forward(c, query(t, "www.example.org.", dns.TypeA, uint16(i), false), srv.ap)
			done <- err
		}()
		q, from := srv.read()
		ports[from.Port()], ids[q.Id] = true, true
		srv.send(srv.conn, reply(t, q, "198.18.5.5"), from)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	// Birthday bound: 40 draws from ~28,000 ports or 65,536 IDs collide
	// with probability under 3 %; more than two collisions means a fixed
	// or sequential choice.
	if len(ports) < n-2 || len(ids) < n-2 {
		t.Fatalf("%d distinct ports and %d distinct IDs in %d queries", len(ports), len(ids), n)
	}
}

// TestForwardByteBudget: past Config.MaxBytes a forwarded query fails at
// once with ErrBusy; the bytes come back when the queries end.
func TestForwardByteBudget(t *testing.T) {
	srv := playServer(t) // never answers
	q := query(t, "www.example.org.", dns.TypeA, 1, true)
	cost := forwardCost(len(q), DefaultUDPSize)
	c := newClient(t, Config{MaxBytes: 3 * cost, Timeout: 300 * time.Millisecond, Attempts: 1})
	errs := make(chan error, 10)
	for range 10 {
		c.Forward(q, srv.ap, func(_ []byte, err error) { errs <- err })
	}
	if got := c.BytesInFlight(); got != 3*cost {
		t.Fatalf("%d bytes in flight, want %d", got, 3*cost)
	}
	busy, timeouts := 0, 0
	for range 10 {
		switch err := <-errs; err {
		case ErrBusy:
			busy++
		case ErrTimeout:
			timeouts++
		default:
			t.Fatalf("err %v", err)
		}
	}
	// An exchange's bytes are given back after its callback returns (the
	// answer handed to it lives in them): wait for the last one's.
	for deadline := time.Now().Add(5 * time.Second); c.BytesInFlight() != 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if busy != 7 || timeouts != 3 || c.BytesInFlight() != 0 {
		t.Fatalf("%d busy, %d timeouts, %d bytes left: want 7, 3, 0", busy, timeouts, c.BytesInFlight())
	}
}

// TestCapEDNS: a forwarded query asks for at most Config.UDPSize.
func TestCapEDNS(t *testing.T) {
	for _, tc := range []struct {
		size uint16
		edns bool
		want uint16
	}{{4096, true, 1232}, {800, true, 800}, {0, false, 512}} {
		m := new(dns.Msg)
		m.SetQuestion("www.example.org.", dns.TypeA)
		if tc.edns {
			m.SetEdns0(tc.size, true)
		}
		b, _ := m.Pack()
		_, qEnd, ok := parseQuestion(b)
		if got := capEDNS(b, qEnd, 1232); !ok || got != tc.want {
			t.Fatalf("%+v: %d", tc, got)
		}
		if tc.edns {
			m2 := new(dns.Msg)
			if err := m2.Unpack(b); err != nil || m2.IsEdns0().UDPSize() != tc.want || !m2.IsEdns0().Do() {
				t.Fatalf("%+v: %v %v", tc, m2, err)
			}
		}
	}
}
