package wire_test

import (
	"encoding/binary"
	"testing"

	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/meshdns/meshdns/dnsengine/wire"
	"github.com/miekg/dns"
)

func queryPacket(t testing.TB, ep enginetest.Endpoints, m *dns.Msg) []byte {
	t.Helper()
	p, err := enginetest.QueryPacket(ep, m)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func tcpPacket(t testing.TB, s enginetest.TCPSeg) []byte {
	t.Helper()
	p, err := enginetest.TCPPacket(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDecodeKinds: each kind of packet with the reason the engine reports
// for it when no handler takes it.
func TestDecodeKinds(t *testing.T) {
	q := enginetest.NewQuery("a.example.", dns.TypeA)
	fromServer := enginetest.Endpoints{Src: enginetest.Server4, Dst: enginetest.Client4, SrcPort: 53, DstPort: 40000}
	other := enginetest.Endpoints{Src: enginetest.Client4, Dst: enginetest.Server4, SrcPort: 40000, DstPort: 5353}
	for _, tc := range []struct {
		name   string
		pkt    func(t testing.TB) []byte
		kind   wire.Kind
		reason verdict.Reason
	}{
		{"udp4 query", func(t testing.TB) []byte { return queryPacket(t, enginetest.Default4(), q) }, wire.KindUDPQuery, 0},
		{"udp6 query", func(t testing.TB) []byte { return queryPacket(t, enginetest.Default6(), q) }, wire.KindUDPQuery, 0},
		{"udp response", func(t testing.TB) []byte { return queryPacket(t, fromServer, q) }, wire.KindUDPResponse, verdict.ReasonNotDNSQuery},
		{"udp other port", func(t testing.TB) []byte { return queryPacket(t, other, q) }, wire.KindOther, verdict.ReasonNotDNSQuery},
		{"tcp to 53", func(t testing.TB) []byte {
			return tcpPacket(t, enginetest.TCPSeg{Src: enginetest.Client4, Dst: enginetest.Server4, SrcPort: 40000, DstPort: 53, SYN: true, Window: 100})
		}, wire.KindTCPSegment, verdict.ReasonTCP},
		{"tcp from 53", func(t testing.TB) []byte {
			return tcpPacket(t, enginetest.TCPSeg{Src: enginetest.Server4, Dst: enginetest.Client4, SrcPort: 53, DstPort: 40000, RST: true})
		}, wire.KindTCPSegment, verdict.ReasonNotDNSQuery},
		{"bad udp checksum", func(t testing.TB) []byte {
			p := queryPacket(t, enginetest.Default4(), q)
			p[len(p)-1] ^= 0xff
			return p
		}, wire.KindInvalid, verdict.ReasonBadChecksum},
		{"truncated", func(t testing.TB) []byte { return queryPacket(t, enginetest.Default4(), q)[:30] }, wire.KindInvalid, verdict.ReasonMalformed},
		{"fragment", func(t testing.TB) []byte {
			p := queryPacket(t, enginetest.Default4(), q)
			p[6] |= 0x20 // MF
			return p
		}, wire.KindNotIP, verdict.ReasonNotIP},
		{"not ip", func(t testing.TB) []byte { return []byte{0x50, 0, 0, 0} }, wire.KindNotIP, verdict.ReasonNotIP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p wire.Packet
			if k := wire.Decode(tc.pkt(t), &p); k != tc.kind || p.Kind != k || p.Reason != tc.reason {
				t.Fatalf("Decode: kind %d (Kind %d), reason %v; want kind %d, reason %v", k, p.Kind, p.Reason, tc.kind, tc.reason)
			}
		})
	}
}

// answer parses the query in pkt, writes an A record and OPT after its
// question and finishes the packet, as the engine does.
func answer(pkt []byte, p *wire.Packet, q *wire.Query) int {
	if wire.Decode(pkt, p) != wire.KindUDPQuery || wire.ParseQuery(p.UDPPayload(pkt), q) != 0 {
		return 0
	}
	m := pkt[p.L4+wire.UDPHeaderLen : cap(pkt)]
	w := wire.Writer{B: m, Off: q.QEnd, Limit: q.Limit(1232)}
	w.Raw(wire.HeaderLen, dns.TypeA, 30, []byte{10, 0, 0, 1})
	if q.EDNS {
		w.OPT(q.ResponseSize(1232), q.DO)
	}
	binary.BigEndian.PutUint16(m[2:], wire.FlagQR|wire.FlagAA|q.Flags&wire.FlagRD)
	binary.BigEndian.PutUint16(m[6:], 1)
	if q.EDNS {
		binary.BigEndian.PutUint16(m[10:], 1)
	}
	return wire.FinishUDPResponse(pkt[:cap(pkt)], p, w.Off)
}

// TestWriteAndFinish: a response written with Writer and finished in place
// is a well-formed answer to the query, checked by gopacket and miekg/dns.
func TestWriteAndFinish(t *testing.T) {
	for _, ep := range []enginetest.Endpoints{enginetest.Default4(), enginetest.Default6()} {
		q := enginetest.NewQuery("A.Example.", dns.TypeA)
		q.SetEdns0(4096, true)
		pkt := queryPacket(t, ep, q)
		var p wire.Packet
		var pq wire.Query
		n := answer(pkt, &p, &pq)
		if n == 0 {
			t.Fatalf("%v: query not parsed", ep)
		}
		if string(pq.Name()) != "\x01a\x07example\x00" || pq.QType != dns.TypeA || !pq.DO || pq.UDPSize != 4096 || pq.Labels != 2 || string(pq.SuffixAt(1)) != "\x07example\x00" {
			t.Fatalf("%v: question %q type %d do %v size %d labels %d", ep, pq.Name(), pq.QType, pq.DO, pq.UDPSize, pq.Labels)
		}
		if err := enginetest.CheckTransport(pkt[:n]); err != nil {
			t.Fatalf("%v: %v", ep, err)
		}
		r, err := enginetest.DecodeResponse(pkt[:n])
		if err != nil {
			t.Fatalf("%v: %v", ep, err)
		}
		if r.Src != ep.Dst || r.Dst != ep.Src || r.Msg.Id != q.Id || len(r.Msg.Answer) != 1 || r.Msg.Answer[0].(*dns.A).A.String() != "10.0.0.1" {
			t.Fatalf("%v: response %v > %v: %v", ep, r.Src, r.Dst, r.Msg)
		}
		if opt := r.Msg.IsEdns0(); opt == nil || opt.UDPSize() != 1232 || !opt.Do() {
			t.Fatalf("%v: OPT %v, want size 1232 with DO", ep, opt)
		}
	}
}

// TestAllocs: decoding, parsing, writing and finishing allocate nothing.
func TestAllocs(t *testing.T) {
	q := enginetest.NewQuery("a.example.", dns.TypeA)
	q.SetEdns0(1232, false)
	orig := queryPacket(t, enginetest.Default6(), q)
	pkt := make([]byte, len(orig), enginetest.BufSize)
	var p wire.Packet
	var pq wire.Query
	if a := testing.AllocsPerRun(100, func() {
		pkt = pkt[:copy(pkt[:cap(pkt)], orig)]
		if answer(pkt, &p, &pq) == 0 {
			t.Fatal("query not answered")
		}
	}); a != 0 {
		t.Fatalf("%v allocations per packet, want 0", a)
	}
}

// FuzzDecode: Decode and ParseQuery take any bytes without panicking, the
// kind and reason agree, and a finished response to a parsed query is
// well-formed at the IP and UDP layers.
func FuzzDecode(f *testing.F) {
	for _, ep := range []enginetest.Endpoints{enginetest.Default4(), enginetest.Default6()} {
		q := enginetest.NewQuery("a.example.", dns.TypeAAAA)
		f.Add(queryPacket(f, ep, q))
		q.SetEdns0(1232, true)
		f.Add(queryPacket(f, ep, q))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pkt := make([]byte, len(b), enginetest.BufSize)
		copy(pkt, b)
		var p wire.Packet
		k := wire.Decode(pkt, &p)
		if (k == wire.KindUDPQuery) != (p.Reason == 0) {
			t.Fatalf("kind %d with reason %v", k, p.Reason)
		}
		if k != wire.KindUDPQuery {
			return
		}
		var q wire.Query
		if wire.ParseQuery(p.UDPPayload(pkt), &q) != 0 {
			return
		}
		if n := answer(pkt, &p, &q); n == 0 {
			t.Fatal("a parsed query parses no longer")
		} else if err := enginetest.CheckTransport(pkt[:n]); err != nil {
			t.Fatal(err)
		}
	})
}
