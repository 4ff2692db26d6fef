package chaos_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/podtest"
	"github.com/meshdns/meshdns/internal/tcpattack"
	"github.com/miekg/dns"
)

// expectation is what may become of a hostile packet.
type expectation int

const (
	// expPass: it reaches the upstream byte for byte, and is not answered
	// in place.
	expPass expectation = iota
	// expAnswer: meshdns answers it in place (a valid query for a mesh
	// name) with a well-formed response; it never reaches the upstream.
	expAnswer
	// expPassOrCache: a valid query for an external name: it reaches the
	// upstream untouched, or meshdns answers it from its cache with the
	// upstream's answer.
	expPassOrCache
	// expEither: one of the two (valid but unusual queries meshdns may or
	// may not take).
	expEither
	// expKernel: the kernel may hold or drop it before meshdns or the
	// upstream see it (an incomplete fragment); only "not rewritten"
	// is asserted.
	expKernel
)

func (e expectation) String() string {
	return [...]string{"passed untouched", "answered in place", "passed untouched or answered from the cache", "passed or answered", "kernel's call"}[e]
}

// hostile is one crafted input: the packets of a case are sent in order
// from the pod's address and port sport.
type hostile struct {
	name   string
	v6     bool
	expect expectation
	build  func(src, dst netip.AddrPort) [][]byte
}

const meshName = "web.default.svc.cluster.local"

var (
	pod4, up4 = netip.MustParseAddr("198.18.0.2"), netip.MustParseAddr("198.18.0.1")
	pod6, up6 = netip.MustParseAddr("fd53::2"), netip.MustParseAddr("fd53::1")
)

// v4udp wraps a DNS payload in UDP and IPv4 (id from the source port).
func v4udp(payload []byte) func(src, dst netip.AddrPort) [][]byte {
	return func(src, dst netip.AddrPort) [][]byte {
		return [][]byte{ipv4(ipv4Opts{id: src.Port(), src: src.Addr(), dst: dst.Addr()}, udp(src, dst, payload, ckGood, 0))}
	}
}

// v6udp wraps a DNS payload in UDP and IPv6 after extension headers (their
// kinds, in order).
func v6udp(payload []byte, ck int, exts ...byte) func(src, dst netip.AddrPort) [][]byte {
	return func(src, dst netip.AddrPort) [][]byte {
		u := udp(src, dst, payload, ck, 0)
		next := byte(17)
		var hdrs []byte
		for i := len(exts) - 1; i >= 0; i-- {
			hdrs = append(extHeader(next, exts[i]), hdrs...)
			next = exts[i]
		}
		return [][]byte{ipv6(src.Addr(), dst.Addr(), next, append(hdrs, u...))}
	}
}

func hostileCases() []hostile {
	valid := query(meshName, dns.TypeA, nil)
	rng := rand.New(rand.NewPCG(6, 6))
	random := make([]byte, 300)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	long := wireName(strings.Repeat("a", 63), strings.Repeat("b", 63), strings.Repeat("c", 63), strings.Repeat("d", 63), "cluster", "local")
	withQ := func(h []byte, q ...[]byte) []byte { return append(h, bytes.Join(q, nil)...) }
	web := wireName("web", "default", "svc", "cluster", "local")
	api := wireName("api", "shop", "svc", "cluster", "local")
	// frag splits the UDP datagram of payload into IPv4 fragments of
	// chunk bytes (a multiple of 8); only the first when !all.
	frag := func(payload []byte, chunk int, all bool) func(src, dst netip.AddrPort) [][]byte {
		return func(src, dst netip.AddrPort) [][]byte {
			u := udp(src, dst, payload, ckGood, 0)
			var out [][]byte
			for off := 0; off < len(u); off += chunk {
				end := min(off+chunk, len(u))
				o := ipv4Opts{id: src.Port(), src: src.Addr(), dst: dst.Addr(), frag: uint16(off / 8)}
				if end < len(u) {
					o.frag |= 0x2000 // MF
				}
				out = append(out, ipv4(o, u[off:end]))
				if !all {
					break
				}
			}
			return out
		}
	}
	return []hostile{
		{name: "valid mesh query (control)", expect: expAnswer, build: v4udp(valid)},
		{name: "valid external query (control)", expect: expPassOrCache, build: v4udp(query("www.example.org", dns.TypeA, nil))},
		{name: "empty UDP payload", expect: expPass, build: v4udp(nil)},
		{name: "truncated DNS header (5 bytes)", expect: expPass, build: v4udp(valid[:5])},
		{name: "header only, qdcount 1", expect: expPass, build: v4udp(header(1, 0x0100, 1, 0, 0, 0))},
		{name: "question cut in the name", expect: expPass, build: v4udp(valid[:20])},
		{name: "question cut before qclass", expect: expPass, build: v4udp(valid[:len(valid)-2])},
		{name: "qdcount 0", expect: expPass, build: v4udp(header(2, 0x0100, 0, 0, 0, 0))},
		{name: "qdcount 0 with a question", expect: expPass, build: v4udp(withQ(header(3, 0x0100, 0, 0, 0, 0), question(web, 1, 1)))},
		{name: "qdcount 2, two mesh questions", expect: expPass, build: v4udp(withQ(header(4, 0x0100, 2, 0, 0, 0), question(web, 1, 1), question(api, 1, 1)))},
		{name: "qdcount 1 with trailing garbage", expect: expEither, build: v4udp(append(append([]byte{}, valid...), 0xde, 0xad, 0xbe, 0xef))},
		{name: "compression pointer to itself", expect: expPass, build: v4udp(withQ(header(5, 0x0100, 1, 0, 0, 0), question([]byte{0xc0, 12}, 1, 1)))},
		{name: "compression pointer loop of two", expect: expPass, build: v4udp(withQ(header(6, 0x0100, 1, 0, 0, 0), question([]byte{3, 'w', 'e', 'b', 0xc0, 12}, 1, 1)))},
		{name: "compression pointer past the end", expect: expPass, build: v4udp(withQ(header(7, 0x0100, 1, 0, 0, 0), question([]byte{0xc1, 0xff}, 1, 1)))},
		{name: "label length with reserved bits 01", expect: expPass, build: v4udp(withQ(header(8, 0x0100, 1, 0, 0, 0), question([]byte{0x43, 'w', 'e', 'b', 0}, 1, 1)))},
		{name: "label length with reserved bits 10", expect: expPass, build: v4udp(withQ(header(9, 0x0100, 1, 0, 0, 0), question([]byte{0x83, 'w', 'e', 'b', 0}, 1, 1)))},
		{name: "label longer than the packet", expect: expPass, build: v4udp(withQ(header(10, 0x0100, 1, 0, 0, 0), []byte{40, 'w', 'e', 'b'}))},
		{name: "name over 255 octets", expect: expPass, build: v4udp(withQ(header(11, 0x0100, 1, 0, 0, 0), question(long, 1, 1)))},
		{name: "name without its terminating zero", expect: expPass, build: v4udp(withQ(header(12, 0x0100, 1, 0, 0, 0), []byte{3, 'w', 'e', 'b'}))},
		{name: "opcode IQUERY (1)", expect: expPass, build: v4udp(query(meshName, dns.TypeA, func(m *dns.Msg) { m.Opcode = 1 }))},
		{name: "opcode STATUS (2)", expect: expPass, build: v4udp(query(meshName, dns.TypeA, func(m *dns.Msg) { m.Opcode = 2 }))},
		{name: "opcode NOTIFY (4)", expect: expPass, build: v4udp(query(meshName, dns.TypeSOA, func(m *dns.Msg) { m.Opcode = 4 }))},
		{name: "opcode UPDATE (5)", expect: expPass, build: v4udp(query("cluster.local", dns.TypeSOA, func(m *dns.Msg) { m.Opcode = 5 }))},
		{name: "opcode 15 (unassigned)", expect: expPass, build: v4udp(query(meshName, dns.TypeA, func(m *dns.Msg) { m.Opcode = 15 }))},
		{name: "class CH", expect: expPass, build: v4udp(withQ(header(13, 0x0100, 1, 0, 0, 0), question(web, 1, 3)))},
		{name: "class ANY", expect: expPass, build: v4udp(withQ(header(14, 0x0100, 1, 0, 0, 0), question(web, 1, 255)))},
		{name: "class NONE", expect: expPass, build: v4udp(withQ(header(15, 0x0100, 1, 0, 0, 0), question(web, 1, 254)))},
		{name: "qtype ANY", expect: expEither, build: v4udp(query(meshName, dns.TypeANY, nil))},
		{name: "QR set (a response sent to port 53)", expect: expPass, build: v4udp(query(meshName, dns.TypeA, func(m *dns.Msg) { m.Response = true }))},
		{name: "query with an answer record", expect: expPass, build: v4udp(query(meshName, dns.TypeA, func(m *dns.Msg) {
			rr, _ := dns.NewRR(meshName + ". 30 IN A 192.0.2.1")
			m.Answer = append(m.Answer, rr)
		}))},
		{name: "EDNS version 1", expect: expPass, build: v4udp(query(meshName, dns.TypeA, func(m *dns.Msg) { m.Extra = append(m.Extra, ednsOption(0, 0, 1)) }))},
		{name: "EDNS option of 1400 bytes", expect: expEither, build: v4udp(query(meshName, dns.TypeA, func(m *dns.Msg) { m.Extra = append(m.Extra, ednsOption(65001, 1400, 0)) }))},
		{name: "EDNS option of 4000 bytes, in 3 IPv4 fragments", expect: expEither, build: frag(query(meshName, dns.TypeA, func(m *dns.Msg) { m.Extra = append(m.Extra, ednsOption(65001, 4000, 0)) }), 1400, true)},
		{name: "two OPT records", expect: expPass, build: v4udp(query(meshName, dns.TypeA, func(m *dns.Msg) {
			m.Extra = append(m.Extra, ednsOption(0, 0, 0), ednsOption(0, 0, 0))
		}))},
		{name: "UDP checksum wrong", expect: expPass, build: func(src, dst netip.AddrPort) [][]byte {
			return [][]byte{ipv4(ipv4Opts{id: src.Port(), src: src.Addr(), dst: dst.Addr()}, udp(src, dst, valid, ckBad, 0))}
		}},
		{name: "UDP checksum zero (none, legal over IPv4)", expect: expEither, build: func(src, dst netip.AddrPort) [][]byte {
			return [][]byte{ipv4(ipv4Opts{id: src.Port(), src: src.Addr(), dst: dst.Addr()}, udp(src, dst, valid, ckZero, 0))}
		}},
		{name: "UDP length beyond the packet", expect: expPass, build: func(src, dst netip.AddrPort) [][]byte {
			return [][]byte{ipv4(ipv4Opts{id: src.Port(), src: src.Addr(), dst: dst.Addr()}, udp(src, dst, valid, ckGood, 8+len(valid)+40))}
		}},
		{name: "UDP length below 8", expect: expPass, build: func(src, dst netip.AddrPort) [][]byte {
			return [][]byte{ipv4(ipv4Opts{id: src.Port(), src: src.Addr(), dst: dst.Addr()}, udp(src, dst, valid, ckGood, 4))}
		}},
		{name: "UDP length short of the IP payload", expect: expPass, build: func(src, dst netip.AddrPort) [][]byte {
			return [][]byte{ipv4(ipv4Opts{id: src.Port(), src: src.Addr(), dst: dst.Addr()}, udp(src, dst, valid, ckGood, 8+len(valid)-4))}
		}},
		{name: "not DNS: HTTP request to port 53", expect: expPass, build: v4udp([]byte("GET / HTTP/1.1\r\nHost: web.default.svc.cluster.local\r\n\r\n"))},
		{name: "not DNS: 300 random bytes", expect: expPass, build: v4udp(random)},
		{name: "IPv4 options (4 NOPs)", expect: expEither, build: func(src, dst netip.AddrPort) [][]byte {
			return [][]byte{ipv4(ipv4Opts{id: src.Port(), src: src.Addr(), dst: dst.Addr(), options: []byte{1, 1, 1, 1}}, udp(src, dst, valid, ckGood, 0))}
		}},
		{name: "IP version 5 in an IPv4 packet", expect: expPass, build: func(src, dst netip.AddrPort) [][]byte {
			return [][]byte{ipv4(ipv4Opts{version: 5, id: src.Port(), src: src.Addr(), dst: dst.Addr()}, udp(src, dst, valid, ckGood, 0))}
		}},
		{name: "IPv4 fragments of a mesh query (2)", expect: expEither, build: frag(valid, 16, true)},
		// The rules' socket match turns on the kernel's defragmentation
		// in the pod (nf_defrag, as conntrack does): meshdns gets the
		// query whole, and may answer it from the cache.
		{name: "IPv4 fragments of an external query (2)", expect: expPassOrCache, build: frag(query("www.example.org", dns.TypeA, nil), 16, true)},
		{name: "IPv4 first fragment alone", expect: expKernel, build: frag(valid, 16, false)},
		{name: "IPv6 valid mesh query (control)", v6: true, expect: expAnswer, build: v6udp(valid, ckGood)},
		{name: "IPv6 hop-by-hop header", v6: true, expect: expPass, build: v6udp(valid, ckGood, 0)},
		{name: "IPv6 destination options header", v6: true, expect: expPass, build: v6udp(valid, ckGood, 60)},
		{name: "IPv6 routing header (type 0, no segments left)", v6: true, expect: expPass, build: v6udp(valid, ckGood, 43)},
		{name: "IPv6 atomic fragment header", v6: true, expect: expKernel, build: v6udp(valid, ckGood, 44)},
		{name: "IPv6 hop-by-hop then destination options", v6: true, expect: expPass, build: v6udp(valid, ckGood, 0, 60)},
		{name: "IPv6 UDP checksum zero (illegal)", v6: true, expect: expPass, build: v6udp(valid, ckZero)},
		{name: "IPv6 UDP checksum wrong", v6: true, expect: expPass, build: v6udp(valid, ckBad)},
		{name: "IPv6 truncated DNS", v6: true, expect: expPass, build: v6udp(valid[:7], ckGood)},
	}
}

// rawSender sends whole IP packets from inside the pod namespace.
// newRawSender opens raw sockets in ns for the test.
func newRawSender(t *testing.T, ns string) *tcpattack.RawSender {
	t.Helper()
	s, err := tcpattack.NewRawSender(ns)
	if err != nil {
		t.Fatalf("raw sockets: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

var reasonRE = regexp.MustCompile(`msg=packet verdict=(\w+) reason=(\w+)`)

// engineVerdicts returns the verdicts meshdns logged (debug level) in log
// past offset, leaving out answers coming in from the upstream.
func engineVerdicts(log string) []string {
	var out []string
	for _, m := range reasonRE.FindAllStringSubmatch(log, -1) {
		if m[2] == "response" || m[2] == "cache_learned" {
			continue
		}
		out = append(out, m[1]+"/"+m[2])
	}
	return out
}

// TestHostilePackets: malformed and hostile packets crafted byte by byte
// and sent through the kernel path (raw sockets in the pod namespace, so
// they go through the mangle OUTPUT rules into the queue like any query):
// meshdns never crashes, never rewrites what it should not own (what it
// passes reaches the upstream byte for byte, seen by a packet socket on the
// upstream's interface), answers valid mesh queries correctly, and still
// serves afterwards. What reached the queue and what the engine decided is
// reported per case (meshdns runs at debug level).
//
// Kernel notes: the kernel fills in the IPv4 header checksum and total
// length of an IP_HDRINCL packet, so bad IP checksums and lengths cannot be
// sent from the pod; bad UDP checksums can. Fragments meet the kernel's
// reassembly first (meshdns's NOTRACK rules load conntrack, which
// defragments), so meshdns sees a reassembled datagram or nothing.
func TestHostilePackets(t *testing.T) {
	prof := getProfile()
	rec := newRecorder(t, "4", "malformed and hostile packets through the kernel path", prof)
	rec.note("Each input is crafted byte by byte and sent from a raw socket in the pod namespace, so it goes through the " +
		"kernel's output path and meshdns's rules like any query. \"Reached the upstream unmodified\" is judged by a " +
		"packet socket on the upstream's interface (before its own stack drops bad checksums); what the engine decided " +
		"comes from meshdns's debug log. The kernel fills in the IPv4 header checksum and total length of a raw " +
		"IP_HDRINCL packet, so bad IP checksums and lengths cannot leave the pod; bad UDP checksums can and are queued. " +
		"IPv4 fragments sent from the pod are not reassembled before the rules here: the first fragment (the only one " +
		"with the UDP header) is queued as it is and passed, the others do not match the rules. The race detector runs " +
		"over the concurrent packages in make test-race and over meshdns itself in make chaos-race.")
	resolv := "nameserver 198.18.0.1\nnameserver fd53::1\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"
	p := podtest.Start(t, podtest.Config{Objects: podObjects(t), ResolvConf: resolv, Args: []string{"--queues=2", "--log-level=debug"}})
	capt := startCapture(t, p.Topo.Upstream, p.Topo.Link)
	raw := newRawSender(t, p.Topo.Pod)
	cases := hostileCases()
	rounds := 1
	if prof.long {
		rounds = 20
	}
	rec.fault(time.Now(), "%d crafted inputs (%d packets), %d round(s)", len(cases), countPackets(cases), rounds)

	type outcome struct {
		passed, answered, modified bool
		verdicts                   []string
		answer                     string
	}
	bad := 0
	summary := map[string]int{}
	answeredRight := true
	for r := range rounds {
		for _, hc := range cases {
			// A free port of the kernel's choosing: meshdns's own sockets
			// (forwarder, refresher) live in the same namespace.
			network, laddr := "udp4", "198.18.0.2:0"
			if hc.v6 {
				network, laddr = "udp6", "[fd53::2]:0"
			}
			ln, err := netns.ListenUDP(p.Topo.Pod, network, laddr)
			if err != nil {
				t.Fatal(err)
			}
			port := uint16(ln.LocalAddr().(*net.UDPAddr).Port)
			src, dst := netip.AddrPortFrom(pod4, port), netip.AddrPortFrom(up4, 53)
			if hc.v6 {
				src, dst = netip.AddrPortFrom(pod6, port), netip.AddrPortFrom(up6, 53)
			}
			pkts := hc.build(src, dst)
			logBefore := len(p.Meshdns.Logs())
			capBefore := len(capt.packets())
			for _, pkt := range pkts {
				if err := raw.Send(pkt, dst.Addr()); err != nil {
					t.Fatalf("%s: send: %v", hc.name, err)
				}
			}
			var o outcome
			deadline := time.Now().Add(400 * time.Millisecond)
			buf := make([]byte, 65536)
			for time.Now().Before(deadline) {
				all := true
				for _, pkt := range pkts {
					all = all && capt.has(pkt)
				}
				o.passed = all
				ln.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
				if n, _, err := ln.ReadFromUDPAddrPort(buf); err == nil {
					m := new(dns.Msg)
					if m.Unpack(buf[:n]) == nil {
						o.answer = fmt.Sprintf("%s aa=%v id=%d %v", dns.RcodeToString[m.Rcode], m.Authoritative, m.Id, m.Answer)
						// An answer to the query sent: its id and a question
						// (whose it is, the capture tells).
						o.answered = m.Response && m.Id == 0xd00d && len(m.Question) == 1
					} else {
						o.answer = fmt.Sprintf("%d bytes, not DNS", n)
					}
				}
				if o.passed || o.answered {
					break
				}
			}
			ln.Close()
			time.Sleep(20 * time.Millisecond) // let meshdns's debug line and the capture land
			all := true
			for _, pkt := range pkts {
				all = all && capt.has(pkt)
			}
			o.passed = all
			// Anything new from the pod's address at the upstream that is
			// not one of the packets sent was changed on the way.
			for _, q := range capt.packets()[capBefore:] {
				if fromPod(q, hc.v6) && !containsPacket(pkts, q) && len(pkts) == 1 {
					o.modified = true
				}
			}
			logs := p.Meshdns.Logs()
			o.verdicts = engineVerdicts(logs[min(logBefore, len(logs)):])
			if o.passed && o.answered {
				o.answered = false // the upstream answered what reached it
			}
			// What meshdns answers itself must be right: the mesh name's
			// address, or the upstream's for the external name (cache).
			if o.answered && !strings.Contains(o.answer, "10.96.23.17") && !strings.Contains(o.answer, "198.19.0.10") {
				answeredRight = false
			}
			ok := !o.modified
			switch hc.expect {
			case expPass:
				ok = ok && o.passed && !o.answered
			case expAnswer:
				ok = ok && o.answered && !o.passed
			case expPassOrCache:
				ok = ok && (o.passed != o.answered)
			case expEither:
				ok = ok && (o.passed != o.answered)
			}
			what := "nothing reached the upstream, no answer"
			switch {
			case o.passed:
				what = "reached the upstream unmodified"
			case o.answered:
				what = "answered in place: " + o.answer
			}
			if o.modified {
				what += "; A CHANGED PACKET REACHED THE UPSTREAM"
			}
			queued := "not queued"
			if len(o.verdicts) > 0 {
				queued = "queued, engine " + strings.Join(o.verdicts, ",")
			}
			if r == 0 {
				rec.check(ok, hc.name+": "+hc.expect.String(), "%s; %s", queued, what)
			} else if !ok {
				rec.check(false, fmt.Sprintf("round %d: %s: %s", r+1, hc.name, hc.expect), "%s; %s", queued, what)
			}
			if !ok {
				bad++
			}
			switch {
			case o.modified:
				summary["changed on the way"]++
			case o.passed:
				summary["passed untouched"]++
			case o.answered:
				summary["answered in place"]++
			default:
				summary["neither"]++
			}
		}
	}
	rec.check(answeredRight, "every answer given in place is the right one (10.96.23.17, or 198.19.0.10 from the cache)", "")
	rec.figure("outcomes", "%d passed untouched, %d answered in place, %d neither, %d changed on the way; %d unexpected",
		summary["passed untouched"], summary["answered in place"], summary["neither"], summary["changed on the way"], bad)
	// Still alive and serving.
	d := p.Dig(t, meshName, "A")
	rec.check(!p.Meshdns.Exited() && d.Flag("aa") && len(d.Answer) == 1, "meshdns alive and answering afterwards", "%v", d.Answer)
	rec.noCrashSigns("meshdns", p.Meshdns.Logs())
}

func countPackets(cs []hostile) int {
	n := 0
	for _, c := range cs {
		n += len(c.build(netip.AddrPortFrom(pod4, 1), netip.AddrPortFrom(up4, 53)))
	}
	return n
}

func containsPacket(pkts [][]byte, q []byte) bool {
	for _, p := range pkts {
		if bytes.Equal(p, q) {
			return true
		}
	}
	return false
}

// fromPod reports whether a captured packet is a UDP or unknown-protocol
// packet from the pod's address (not neighbour discovery or ICMP).
func fromPod(q []byte, v6 bool) bool {
	if len(q) < 1 {
		return false
	}
	switch q[0] >> 4 {
	case 6:
		return v6 && len(q) >= 40 && netip.AddrFrom16([16]byte(q[8:24])) == pod6 && q[6] != 58
	default:
		return !v6 && len(q) >= 20 && netip.AddrFrom4([4]byte(q[12:16])) == pod4 && q[9] != 1
	}
}
