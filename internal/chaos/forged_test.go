package chaos_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/lookupout"
	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/podtest"
	"github.com/miekg/dns"
)

// TestForgedAnswersCache: forged upstream answers aimed at meshdns's cache
// in capture-all mode where any container of the
// pod can ask any address. It proves: (1) an answer from a nameserver the
// attacker runs, to a query the attacker sent it, is never given to a
// query for the real nameserver; (2) forged answers to a query pending at a
// nameserver — from another server, from another source port, with
// another ID, with another question, with another type, and late
// duplicates after the real answer — are never learned, and none keeps the
// real answer from being learned and served. "Accepted" counts forged
// addresses in any answer a later query gets; it must be 0.
func TestForgedAnswersCache(t *testing.T) {
	prof := getProfile()
	rec := newRecorder(t, "12f1", "forged upstream answers aimed at the cache (capture-all)", prof)
	rec.note("The attacker runs a nameserver at %s and injects forged answers into the pod from the upstream side with raw "+
		"sockets (any source address and port). %s plays a slow nameserver: it answers only after the forgeries. Every forgery "+
		"answers %s.", attackerNS4, playedNS4, forgedAddr)
	p := podtest.Start(t, podtest.Config{Objects: podObjects(t), Args: []string{"--capture=all", "--queues=1"},
		Records: map[string][]string{"www.bank.example": {"300 A 198.19.9.9"}}})
	addUpstreamAddr(t, p, playedNS4)
	addUpstreamAddr(t, p, attackerNS4)
	attacker := playServer(t, p, attackerNS4)
	played := playServer(t, p, playedNS4)
	raw := newRawSender(t, p.Topo.Upstream)
	accepted, attempts := 0, 0

	// (1) The attacker's own nameserver answers the attacker's query.
	go func() {
		if q, ok := attacker.next(10 * time.Second); ok {
			attacker.answer(q, answerA(t, q.msg, forgedAddr))
		}
	}()
	m := askFrom(t, p, attackerNS4, "www.bank.example", dns.TypeA, 5*time.Second)
	rec.check(hasAddr(m, forgedAddr), "setup: dig @"+attackerNS4.String()+" www.bank.example got the attacker's answer", "%v", m)
	attempts++
	up0 := p.UpstreamCount("www.bank.example", dns.TypeA)
	m = askFrom(t, p, up4, "www.bank.example", dns.TypeA, 5*time.Second)
	if hasAddr(m, forgedAddr) {
		accepted++
	}
	rec.check(hasAddr(m, "198.19.9.9") && p.UpstreamCount("www.bank.example", dns.TypeA) == up0+1,
		"a query to the real nameserver is not answered from the attacker's server's entry",
		"answer %v, the real nameserver saw %d queries", answerList(m), p.UpstreamCount("www.bank.example", dns.TypeA)-up0)

	// (2) Forgeries aimed at a query pending at the played nameserver.
	victim, err := netns.ListenUDP(p.Topo.Pod, "udp4", pod4.String()+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close()
	vdst := netip.AddrPortFrom(pod4, victim.LocalAddr().(*net.UDPAddr).AddrPort().Port())
	q := new(dns.Msg).SetQuestion("pay.example.", dns.TypeA)
	q.Id = 0x5151
	qb, _ := q.Pack()
	if _, err := victim.WriteToUDPAddrPort(qb, netip.AddrPortFrom(playedNS4, 53)); err != nil {
		t.Fatal(err)
	}
	pq, ok := played.next(5 * time.Second)
	if !ok {
		t.Fatal("the victim's query never reached the played nameserver")
	}
	real53 := netip.AddrPortFrom(playedNS4, 53)
	withID := func(m *dns.Msg, id uint16) *dns.Msg { m.Id = id; return m }
	other := new(dns.Msg).SetQuestion("evil.example.", dns.TypeA)
	other.Id = q.Id
	aaaa := new(dns.Msg).SetQuestion("pay.example.", dns.TypeAAAA)
	aaaa.Id = q.Id
	aaaaAns := answerA(t, aaaa, "")
	rr, _ := dns.NewRR("pay.example. 300 IN A " + forgedAddr) // an A record under an AAAA question
	aaaaAns.Answer = []dns.RR{rr}
	forgeries := []struct {
		name string
		src  netip.AddrPort
		m    *dns.Msg
	}{
		{"from another server", netip.AddrPortFrom(attackerNS4, 53), answerA(t, q, forgedAddr)},
		{"from another source port", netip.AddrPortFrom(playedNS4, 5353), answerA(t, q, forgedAddr)},
		{"with another ID", real53, withID(answerA(t, q, forgedAddr), q.Id+1)},
		{"with another question", real53, answerA(t, other, forgedAddr)},
		{"with another type", real53, aaaaAns},
	}
	for _, f := range forgeries {
		if err := raw.Send(forge(t, f.m, f.src, vdst), pod4); err != nil {
			t.Fatal(err)
		}
		attempts++
	}
	time.Sleep(300 * time.Millisecond) // meshdns takes them in order from one queue
	played.answer(pq, answerA(t, pq.msg, "198.19.8.8"))
	time.Sleep(100 * time.Millisecond)
	for range 3 { // late duplicates: right in every way but the records
		if err := raw.Send(forge(t, answerA(t, q, forgedAddr), real53, vdst), pod4); err != nil {
			t.Fatal(err)
		}
		attempts++
	}
	time.Sleep(300 * time.Millisecond)

	n0 := played.count()
	m = askFrom(t, p, playedNS4, "pay.example", dns.TypeA, 2*time.Second)
	if hasAddr(m, forgedAddr) {
		accepted++
	}
	rec.check(hasAddr(m, "198.19.8.8") && played.count() == n0,
		"the real answer, which came after 5 forgeries, is learned and served from the cache; the late duplicates did not replace it",
		"answer %v, the nameserver saw %d more queries", answerList(m), played.count()-n0)
	for _, k := range []struct {
		name  string
		qtype uint16
	}{{"evil.example", dns.TypeA}, {"pay.example", dns.TypeAAAA}} {
		n0 := played.count()
		m := askFrom(t, p, playedNS4, k.name, k.qtype, time.Second)
		if hasAddr(m, forgedAddr) {
			accepted++
		}
		rec.check(!hasAddr(m, forgedAddr) && played.count() == n0+1, fmt.Sprintf("%s %s is not in the cache", k.name, dns.TypeToString[k.qtype]),
			"answer %v, reached the nameserver: %v", answerList(m), played.count() == n0+1)
	}
	rec.figure("forged answers sent", "%d", attempts)
	rec.figure("spoof attempts accepted", "%d", accepted)
	rec.check(accepted == 0, "spoof attempts accepted: 0", "%d of %d", accepted, attempts)
	rec.noCrashSigns("meshdns", p.Meshdns.Logs())
}

// TestSpoofFloodOwnSockets: a spoof flood aimed at meshdns's own sockets
// A TCP client in the pod asks a slow nameserver;
// meshdns takes the flow over and forwards the query from its own socket.
// Before the nameserver answers, forged answers (right source address and
// port, right question, a forged address) go to every port of the pod's
// ephemeral range with a random ID, and to the query's own port — which an
// attacker in the pod could read in /proc/net/udp — with 2,000 other IDs
// and, as if the attacker had guessed the ID, the right ID under another
// question, without a question, and with the right question from another
// source port. It proves none is accepted
// and none keeps the client from the real answer (a flood that fills the
// socket's buffer can cost an attempt; the retry, from a new port under a
// new ID, gets it).
func TestSpoofFloodOwnSockets(t *testing.T) {
	prof := getProfile()
	rec := newRecorder(t, "12f2", "spoof flood aimed at meshdns's own upstream sockets (TCP forwarding)", prof)
	rec.note("meshdns forwards the TCP client's query over UDP from a fresh socket on a kernel-chosen port under a crypto-random " +
		"ID. The forgeries come from the upstream side with raw sockets, with the nameserver's address and port. The port is " +
		"no secret to a process in the pod (/proc/net/udp shows it), so the query's own port also gets the forgeries an " +
		"attacker who guessed the ID would send; what stops a forgery there is the ID and question match. A flood of every " +
		"ID with the right question at the right port is not run: it would succeed against meshdns as against any stub " +
		"resolver in the pod (16 bits).")
	p := podtest.Start(t, podtest.Config{Objects: podObjects(t), Args: []string{"--capture=all", "--queues=1"}})
	addUpstreamAddr(t, p, playedNS4)
	played := playServer(t, p, playedNS4)

	type result struct {
		m   *dns.Msg
		err error
	}
	res := make(chan result, 1)
	go func() {
		m, err := tcpAsk(p, netip.AddrPortFrom(playedNS4, 53), "bank.example.", 0x7777)
		res <- result{m, err}
	}()
	pq, ok := played.next(10 * time.Second)
	if !ok {
		t.Fatal("meshdns's forwarded query never reached the nameserver")
	}
	sent, flood := spoofFlood(t, p, played, pq, "198.19.7.7")
	r := <-res
	accepted := 0
	if hasAddr(r.m, forgedAddr) {
		accepted++
	}
	rec.figure("forged answers sent (every port of the ephemeral range, and 2,003 at the query's own port)", "%d in %s", sent, flood.Round(time.Millisecond))
	rec.figure("queries at the nameserver", "%d", played.count())
	rec.figure("spoof attempts accepted", "%d", accepted)
	rec.check(r.err == nil && hasAddr(r.m, "198.19.7.7") && r.m.Id == 0x7777, "the TCP client gets the real answer", "%v %v", answerList(r.m), r.err)
	rec.check(accepted == 0, "spoof attempts accepted: 0", "%d", accepted)
	rec.noCrashSigns("meshdns", p.Meshdns.Logs())
}

// spoofFlood answers pq, meshdns's own query that reached the played
// nameserver, with real (1 s later, in the middle of the flood; a retry
// at once), and floods the pod with forgeries meanwhile: at the query's
// own port first the right ID (as if the attacker had guessed it) with
// everything else wrong in one way each — another question, no question
// (an ID-only match takes it), the right question from another source
// port — then 2,000 other IDs; then every port of the ephemeral range with
// a random ID other than the query's. It returns how many it sent and how
// long that took.
func spoofFlood(t *testing.T, p *podtest.Pod, played *playedServer, pq playedQuery, real string) (int, time.Duration) {
	raw := newRawSender(t, p.Topo.Upstream)
	own := pq.from
	lo, hi := portRange(t, p)
	start := time.Now()
	sent := 0
	send := func(m *dns.Msg, src, dst netip.AddrPort) {
		if err := raw.Send(forge(t, m, src, dst), pod4); err != nil {
			t.Fatal(err)
		}
		sent++
	}
	real53 := netip.AddrPortFrom(playedNS4, 53)
	otherID := func() uint16 {
		for {
			if id := uint16(rand.Uint32()); id != pq.msg.Id {
				return id
			}
		}
	}
	go func() {
		time.Sleep(time.Second)
		played.answer(pq, answerA(t, pq.msg, real))
		for {
			q, ok := played.next(15 * time.Second)
			if !ok {
				return
			}
			played.answer(q, answerA(t, q.msg, real))
		}
	}()
	evil := new(dns.Msg).SetQuestion("evil.example.", pq.msg.Question[0].Qtype)
	evil.Id = pq.msg.Id
	send(answerA(t, evil, forgedAddr), real53, own)
	noQ := answerA(t, pq.msg, forgedAddr)
	noQ.Question = nil
	send(noQ, real53, own)
	f := answerA(t, pq.msg, forgedAddr)
	send(f, netip.AddrPortFrom(playedNS4, 5353), own)
	for range 2000 {
		f.Id = otherID()
		send(f, real53, own)
	}
	for port := lo; port <= hi; port++ {
		f.Id = otherID()
		send(f, real53, netip.AddrPortFrom(pod4, uint16(port)))
	}
	return sent, time.Since(start)
}

// TestSpoofFloodRefresh: the same flood aimed at a cache refresh (issue
// 12, finding 3): with --cache-stale, an expired entry is answered stale
// and refreshed by meshdns's own query; the flood meets that query. It
// proves no forgery reaches the cache through the refresher: afterwards
// the entry holds the refreshed real answer.
func TestSpoofFloodRefresh(t *testing.T) {
	prof := getProfile()
	rec := newRecorder(t, "12f3", "spoof flood aimed at meshdns's own upstream sockets (cache refresh)", prof)
	p := podtest.Start(t, podtest.Config{Objects: podObjects(t), Args: []string{"--capture=all", "--queues=1",
		"--cache-stale=3600", "--cache-max-ttl=1"}})
	addUpstreamAddr(t, p, playedNS4)
	played := playServer(t, p, playedNS4)
	go func() { // the first answer, learned with TTL 1
		if q, ok := played.next(10 * time.Second); ok {
			played.answer(q, answerA(t, q.msg, "198.19.6.1"))
		}
	}()
	m := askFrom(t, p, playedNS4, "bank.example", dns.TypeA, 5*time.Second)
	rec.check(hasAddr(m, "198.19.6.1"), "setup: the first answer", "%v", answerList(m))
	time.Sleep(1500 * time.Millisecond) // expired: the next query is answered stale and refreshed
	m = askFrom(t, p, playedNS4, "bank.example", dns.TypeA, 5*time.Second)
	rec.check(hasAddr(m, "198.19.6.1"), "setup: the stale answer", "%v", answerList(m))
	pq, ok := played.next(10 * time.Second)
	if !ok {
		t.Fatal("no refresh query reached the nameserver")
	}
	sent, flood := spoofFlood(t, p, played, pq, "198.19.6.2")
	time.Sleep(1200*time.Millisecond - flood) // the real answer went out 1 s after the refresh came
	queries := played.count()                 // the client's first query and the refresh
	got := askFrom(t, p, playedNS4, "bank.example", dns.TypeA, 2*time.Second)
	accepted := 0
	if hasAddr(got, forgedAddr) {
		accepted++
	}
	rec.figure("forged answers sent (every port of the ephemeral range, and 2,003 at the refresh's own port)", "%d in %s", sent, flood.Round(time.Millisecond))
	rec.figure("spoof attempts accepted", "%d", accepted)
	rec.check(hasAddr(got, "198.19.6.2") && queries == 2, "the refresh's real answer, sent after the forgeries at its port, is in the cache (no second refresh needed)",
		"answer %v, queries at the nameserver %d", answerList(got), queries)
	rec.check(accepted == 0, "spoof attempts accepted: 0", "%d", accepted)
	rec.noCrashSigns("meshdns", p.Meshdns.Logs())
}

// tcpAsk asks name over TCP from the pod.
func tcpAsk(p *podtest.Pod, server netip.AddrPort, name string, id uint16) (*dns.Msg, error) {
	c, err := netns.Dial(context.Background(), p.Topo.Pod, "tcp4", server.String())
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	q := new(dns.Msg).SetQuestion(name, dns.TypeA)
	q.Id = id
	b, _ := q.Pack()
	if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)); err != nil {
		return nil, err
	}
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return nil, err
	}
	buf := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(c, buf); err != nil {
		return nil, err
	}
	m := new(dns.Msg)
	return m, m.Unpack(buf)
}

// portRange is the pod's ephemeral port range.
func portRange(t *testing.T, p *podtest.Pod) (int, int) {
	t.Helper()
	f := strings.Fields(p.MustExec(t, "cat", "/proc/sys/net/ipv4/ip_local_port_range"))
	if len(f) != 2 {
		t.Fatalf("ip_local_port_range %q", f)
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		t.Fatalf("ip_local_port_range %q", f)
	}
	return lo, hi
}

func answerList(m *dns.Msg) []string {
	if m == nil {
		return nil
	}
	return lookupout.Records(m.Answer, false)
}
