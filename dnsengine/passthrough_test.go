package dnsengine_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/miekg/dns"
)

// mesh4 returns a valid IPv4 query packet for a mesh name (the engine would
// answer it), for the mutation table below.
func mesh4(t testing.TB) []byte {
	pkt, err := enginetest.QueryPacket(enginetest.Default4(), enginetest.NewQuery("web.default.svc.cluster.local", dns.TypeA))
	if err != nil {
		t.Fatal(err)
	}
	return pkt
}

func mesh6(t testing.TB) []byte {
	pkt, err := enginetest.QueryPacket(enginetest.Default6(), enginetest.NewQuery("web.default.svc.cluster.local", dns.TypeA))
	if err != nil {
		t.Fatal(err)
	}
	return pkt
}

// fixUDP recomputes the UDP checksum of an IPv4 packet after a DNS edit.
func fixUDP4(p []byte) []byte {
	ihl := int(p[0]&0xf) * 4
	udp := p[ihl:]
	udp[6], udp[7] = 0, 0
	var s uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			s += uint32(binary.BigEndian.Uint16(b[i:]))
		}
		if len(b)%2 == 1 {
			s += uint32(b[len(b)-1]) << 8
		}
	}
	add(p[12:20])
	s += 17 + uint32(len(udp))
	add(udp)
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	binary.BigEndian.PutUint16(udp[6:], ^uint16(s))
	return p
}

// dnsEdit applies f to the DNS payload of an IPv4 query and fixes the checksum.
func dnsEdit(t testing.TB, f func(m []byte) []byte) []byte {
	p := mesh4(t)
	m := f(append([]byte(nil), p[28:]...))
	out := make([]byte, 28+len(m), enginetest.BufSize)
	copy(out, p[:28])
	copy(out[28:], m)
	binary.BigEndian.PutUint16(out[2:], uint16(len(out)))
	fixIP4(out)
	binary.BigEndian.PutUint16(out[24:], uint16(8+len(m)))
	return fixUDP4(out)
}

func msgBytes(t testing.TB, m *dns.Msg) []byte {
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPassThrough: everything the engine does not own or cannot parse is
// accepted untouched, with the reason it was not answered.
func TestPassThrough(t *testing.T) {
	e := testEngine(t, dnsengine.DefaultConfig())
	tests := []struct {
		name   string
		pkt    func(t testing.TB) []byte
		reason verdict.Reason
	}{
		{"empty", func(t testing.TB) []byte { return []byte{} }, verdict.ReasonMalformed},
		{"truncated IPv4 header", func(t testing.TB) []byte { return mesh4(t)[:19] }, verdict.ReasonMalformed},
		{"IPv4 total length beyond buffer", func(t testing.TB) []byte { return mesh4(t)[:40] }, verdict.ReasonMalformed},
		{"truncated IPv6 header", func(t testing.TB) []byte { return mesh6(t)[:39] }, verdict.ReasonMalformed},
		{"IP version 5", func(t testing.TB) []byte { p := mesh4(t); p[0] = 0x55; return p }, verdict.ReasonNotIP},
		{"IPv4 fragment (MF)", func(t testing.TB) []byte { p := mesh4(t); p[6] |= 0x20; return p }, verdict.ReasonNotIP},
		{"IPv4 header checksum wrong", func(t testing.TB) []byte { p := mesh4(t); p[10] ^= 0xff; return p }, verdict.ReasonBadChecksum},
		{"UDP checksum wrong", func(t testing.TB) []byte { p := mesh4(t); p[26] ^= 0x01; return p }, verdict.ReasonBadChecksum},
		{"UDP checksum wrong v6", func(t testing.TB) []byte { p := mesh6(t); p[46] ^= 0x01; return p }, verdict.ReasonBadChecksum},
		{"UDP checksum zero v6", func(t testing.TB) []byte { p := mesh6(t); p[46], p[47] = 0, 0; return p }, verdict.ReasonBadChecksum},
		{"IPv6 hop-by-hop extension header", func(t testing.TB) []byte { p := mesh6(t); p[6] = 0; return p }, verdict.ReasonNotIP},
		{"UDP length mismatch", func(t testing.TB) []byte { p := mesh4(t); p[25]--; return p }, verdict.ReasonMalformed},
		{"UDP to another port", func(t testing.TB) []byte { p := mesh4(t); p[23] = 54; return fixUDP4(p) }, verdict.ReasonNotDNSQuery},
		{"ICMP", func(t testing.TB) []byte { p := mesh4(t); p[9] = 1; p[10], p[11] = 0, 0; return fixIP4(p) }, verdict.ReasonNotDNSQuery},
		{"TCP to 53", func(t testing.TB) []byte { return tcp4(t) }, verdict.ReasonTCP},
		{"DNS response (QR)", func(t testing.TB) []byte { return dnsEdit(t, func(m []byte) []byte { m[2] |= 0x80; return m }) }, verdict.ReasonNotDNSQuery},
		{"opcode NOTIFY", func(t testing.TB) []byte { return dnsEdit(t, func(m []byte) []byte { m[2] |= 4 << 3; return m }) }, verdict.ReasonUnsupported},
		{"opcode UPDATE", func(t testing.TB) []byte { return dnsEdit(t, func(m []byte) []byte { m[2] |= 5 << 3; return m }) }, verdict.ReasonUnsupported},
		{"qdcount 0", func(t testing.TB) []byte { return dnsEdit(t, func(m []byte) []byte { m[5] = 0; return m }) }, verdict.ReasonUnsupported},
		{"qdcount 2", func(t testing.TB) []byte {
			return dnsEdit(t, func(m []byte) []byte { m[5] = 2; return append(m, m[12:]...) })
		}, verdict.ReasonUnsupported},
		{"class CH", func(t testing.TB) []byte {
			return dnsEdit(t, func(m []byte) []byte { m[len(m)-1] = 3; return m })
		}, verdict.ReasonUnsupported},
		{"AXFR", func(t testing.TB) []byte {
			return dnsEdit(t, func(m []byte) []byte { m[len(m)-3] = 252; return m })
		}, verdict.ReasonUnsupported},
		{"truncated question", func(t testing.TB) []byte { return dnsEdit(t, func(m []byte) []byte { return m[:20] }) }, verdict.ReasonMalformed},
		{"header only", func(t testing.TB) []byte { return dnsEdit(t, func(m []byte) []byte { return m[:12] }) }, verdict.ReasonMalformed},
		{"short header", func(t testing.TB) []byte { return dnsEdit(t, func(m []byte) []byte { return m[:7] }) }, verdict.ReasonMalformed},
		{"compression pointer in question", func(t testing.TB) []byte {
			return dnsEdit(t, func(m []byte) []byte { return append(m[:12], 0xc0, 12, 0, 1, 0, 1) })
		}, verdict.ReasonMalformed},
		{"pointer loop", func(t testing.TB) []byte {
			return dnsEdit(t, func(m []byte) []byte { return append(m[:12], 3, 'f', 'o', 'o', 0xc0, 12, 0, 1, 0, 1) })
		}, verdict.ReasonMalformed},
		{"label longer than 63", func(t testing.TB) []byte {
			return dnsEdit(t, func(m []byte) []byte {
				q := append(m[:12:12], 64)
				q = append(q, bytes.Repeat([]byte{'a'}, 64)...)
				return append(q, 0, 0, 1, 0, 1)
			})
		}, verdict.ReasonMalformed},
		{"name longer than 255", func(t testing.TB) []byte {
			return dnsEdit(t, func(m []byte) []byte {
				q := m[:12:12]
				for i := 0; i < 5; i++ {
					q = append(q, 60)
					q = append(q, bytes.Repeat([]byte{'a'}, 60)...)
				}
				return append(q, 0, 0, 1, 0, 1)
			})
		}, verdict.ReasonMalformed},
		{"trailing garbage", func(t testing.TB) []byte { return dnsEdit(t, func(m []byte) []byte { return append(m, 1, 2, 3) }) }, verdict.ReasonMalformed},
		{"answer record in a query", func(t testing.TB) []byte { return dnsEdit(t, func(m []byte) []byte { m[7] = 1; return m }) }, verdict.ReasonUnsupported},
		{"TSIG-like additional record", func(t testing.TB) []byte {
			m := enginetest.NewQuery("web.default.svc.cluster.local", dns.TypeA)
			m.SetTsig("key.", dns.HmacSHA256, 300, 0)
			m.Extra[0].(*dns.TSIG).MAC = "00"
			m.Extra[0].(*dns.TSIG).MACSize = 1
			b := msgBytes(t, m)
			return dnsEdit(t, func([]byte) []byte { return b })
		}, verdict.ReasonUnsupported},
		{"EDNS version 1", func(t testing.TB) []byte {
			m := enginetest.NewQuery("web.default.svc.cluster.local", dns.TypeA)
			m.SetEdns0(1232, false)
			m.IsEdns0().SetVersion(1)
			b := msgBytes(t, m)
			return dnsEdit(t, func([]byte) []byte { return b })
		}, verdict.ReasonUnsupported},
		{"EDNS option overrunning rdata", func(t testing.TB) []byte {
			m := enginetest.NewQuery("web.default.svc.cluster.local", dns.TypeA)
			m.SetEdns0(1232, false)
			b := msgBytes(t, m)
			b = append(b[:len(b)-2], 0, 4, 0, 10, 0, 0xff, 0, 0) // rdlen 4, option claims 0xff bytes
			return dnsEdit(t, func([]byte) []byte { return b })
		}, verdict.ReasonMalformed},
		{"huge EDNS option", func(t testing.TB) []byte {
			m := enginetest.NewQuery("nope.example.org", dns.TypeA)
			m.SetEdns0(1232, false)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_LOCAL{Code: 65001, Data: make([]byte, 60000)})
			b := msgBytes(t, m)
			return dnsEdit(t, func([]byte) []byte { return b })
		}, verdict.ReasonNotOwned},
		{"not a DNS payload", func(t testing.TB) []byte {
			return dnsEdit(t, func([]byte) []byte { return []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n") })
		}, verdict.ReasonUnsupported},
		{"other name", func(t testing.TB) []byte {
			b := msgBytes(t, enginetest.NewQuery("www.example.org", dns.TypeA))
			return dnsEdit(t, func([]byte) []byte { return b })
		}, verdict.ReasonNotOwned},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pkt := tc.pkt(t)
			orig := append([]byte(nil), pkt...)
			res := e.Process(pkt)
			if res.Verdict != verdict.Accept || res.Reason != tc.reason {
				t.Fatalf("verdict %v reason %v, want accept %v", res.Verdict, res.Reason, tc.reason)
			}
			if !bytes.Equal(pkt, orig) {
				t.Fatal("packet modified on a pass-through")
			}
		})
	}
}

func fixIP4(p []byte) []byte {
	p[10], p[11] = 0, 0
	var s uint32
	for i := 0; i < 20; i += 2 {
		s += uint32(binary.BigEndian.Uint16(p[i:]))
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	binary.BigEndian.PutUint16(p[10:], ^uint16(s))
	return p
}

func tcp4(t testing.TB) []byte {
	p := mesh4(t)[:40]
	p = p[:40:enginetest.BufSize]
	p[9] = 6
	binary.BigEndian.PutUint16(p[2:], 40)
	fixIP4(p)
	tcp := p[20:]
	binary.BigEndian.PutUint16(tcp[0:], 40000)
	binary.BigEndian.PutUint16(tcp[2:], 53)
	tcp[12] = 5 << 4
	tcp[13] = 0x02 // SYN
	return p
}

// TestTCPOff: without EnableTCP every TCP segment passes.
func TestTCPOff(t *testing.T) {
	e := testEngine(t, dnsengine.DefaultConfig())
	pkt, _ := enginetest.TCPPacket(enginetest.TCPSeg{Src: enginetest.Client4, Dst: enginetest.Server4, SrcPort: 1234, DstPort: 53, SYN: true})
	if res := e.Process(pkt); res.Verdict != verdict.Accept || res.Reason != verdict.ReasonTCP {
		t.Fatalf("%v %v", res.Verdict, res.Reason)
	}
}
