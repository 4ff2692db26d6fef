package chaos_test

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/podtest"
	"github.com/miekg/dns"
)

// Helpers of the forged-response scenarios: nameservers played
// by the test on extra addresses of the upstream side, and forged answers
// injected into the pod from there with raw sockets (any source address
// and port).

var (
	playedNS4   = netip.MustParseAddr("198.18.0.53") // a nameserver the test plays, slow on purpose
	attackerNS4 = netip.MustParseAddr("198.18.0.66") // a nameserver the attacker runs
	forgedAddr  = "203.0.113.66"                     // what every forgery answers
)

// addUpstreamAddr puts a on the upstream side's link, on the pod's subnet.
func addUpstreamAddr(t *testing.T, p *podtest.Pod, a netip.Addr) {
	t.Helper()
	out, err := netns.Command(context.Background(), p.Topo.Upstream, "ip", "addr", "add", a.String()+"/24", "dev", p.Topo.Link).CombinedOutput()
	if err != nil {
		t.Fatalf("ip addr add %s: %v: %s", a, err, out)
	}
}

// playedServer is a nameserver on the upstream side that hands every query
// to the test (Queries) and answers only when told (Answer).
type playedServer struct {
	t    *testing.T
	conn *net.UDPConn
	mu   sync.Mutex
	seen int
	qs   chan playedQuery
}

type playedQuery struct {
	msg  *dns.Msg
	from netip.AddrPort
}

func playServer(t *testing.T, p *podtest.Pod, a netip.Addr) *playedServer {
	t.Helper()
	c, err := netns.ListenUDP(p.Topo.Upstream, "udp4", netip.AddrPortFrom(a, 53).String())
	if err != nil {
		t.Fatal(err)
	}
	s := &playedServer{t: t, conn: c, qs: make(chan playedQuery, 64)}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				close(s.qs)
				return
			}
			m := new(dns.Msg)
			if m.Unpack(buf[:n]) != nil {
				continue
			}
			s.mu.Lock()
			s.seen++
			s.mu.Unlock()
			s.qs <- playedQuery{m, from}
		}
	}()
	return s
}

// next waits for the next query.
func (s *playedServer) next(timeout time.Duration) (playedQuery, bool) {
	select {
	case q, ok := <-s.qs:
		return q, ok
	case <-time.After(timeout):
		return playedQuery{}, false
	}
}

func (s *playedServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen
}

// answer sends m to the query's source.
func (s *playedServer) answer(q playedQuery, m *dns.Msg) {
	b, err := m.Pack()
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.conn.WriteToUDPAddrPort(b, q.from); err != nil {
		s.t.Error(err)
	}
}

// answerA is the reply to q with one A record (TTL 300).
func answerA(t *testing.T, q *dns.Msg, a string) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetReply(q)
	m.RecursionAvailable = true
	if q.Question[0].Qtype == dns.TypeA {
		rr, err := dns.NewRR(q.Question[0].Name + " 300 IN A " + a)
		if err != nil {
			t.Fatal(err)
		}
		m.Answer = []dns.RR{rr}
	}
	return m
}

// forge builds the IPv4 packet of a forged answer m from src to dst.
func forge(t *testing.T, m *dns.Msg, src, dst netip.AddrPort) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return ipv4(ipv4Opts{id: src.Port(), src: src.Addr(), dst: dst.Addr()}, udp(src, dst, b, ckGood, 0))
}

// askFrom sends a query for name and type from a new UDP socket in the pod
// to server and returns the answer (nil on timeout).
func askFrom(t *testing.T, p *podtest.Pod, server netip.Addr, name string, qtype uint16, timeout time.Duration) *dns.Msg {
	t.Helper()
	c, err := netns.Dial(context.Background(), p.Topo.Pod, "udp4", netip.AddrPortFrom(server, 53).String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q := new(dns.Msg).SetQuestion(dns.Fqdn(name), qtype)
	b, _ := q.Pack()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return nil
		}
		m := new(dns.Msg)
		if m.Unpack(buf[:n]) == nil && m.Id == q.Id {
			return m
		}
	}
}

// hasAddr reports whether m answers with address a.
func hasAddr(m *dns.Msg, a string) bool {
	if m == nil {
		return false
	}
	for _, rr := range m.Answer {
		if r, ok := rr.(*dns.A); ok && r.A.String() == a {
			return true
		}
	}
	return false
}
