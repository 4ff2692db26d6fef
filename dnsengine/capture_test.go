package dnsengine_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/miekg/dns"
)

// offloaded writes into the transport checksum field of pkt what a
// capture on the sending host records with checksum offload: the folded
// pseudo-header sum, not complemented (the kernel's ~csum_tcpudp_magic).
// Computed here by hand, independently of the engine.
func offloaded(pkt []byte) []byte {
	var src, dst []byte
	var proto byte
	var l4 []byte
	if pkt[0]>>4 == 4 {
		ihl := int(pkt[0]&0xf) * 4
		src, dst, proto, l4 = pkt[12:16], pkt[16:20], pkt[9], pkt[ihl:binary.BigEndian.Uint16(pkt[2:])]
	} else {
		src, dst, proto, l4 = pkt[8:24], pkt[24:40], pkt[6], pkt[40:40+binary.BigEndian.Uint16(pkt[4:])]
	}
	var s uint32
	for _, b := range [][]byte{src, dst} {
		for i := 0; i < len(b); i += 2 {
			s += uint32(binary.BigEndian.Uint16(b[i:]))
		}
	}
	s += uint32(proto) + uint32(len(l4))
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	off := 6
	if proto == 6 {
		off = 16
	}
	binary.BigEndian.PutUint16(l4[off:], uint16(s))
	return pkt
}

// TestRepairCaptureChecksum: a checksum as the sending host's capture
// records it (offloaded, or a zero IPv6 UDP checksum) is recomputed and
// the packet then checks out against gopacket and is answered; a packet
// wrong in another way is left alone.
func TestRepairCaptureChecksum(t *testing.T) {
	query := func(ep enginetest.Endpoints) []byte {
		pkt, err := enginetest.QueryPacket(ep, enginetest.NewQuery("web.default.svc.cluster.local", dns.TypeA))
		if err != nil {
			t.Fatal(err)
		}
		return pkt
	}
	tcp := func(src, dst netip.Addr) []byte {
		pkt, err := enginetest.TCPPacket(enginetest.TCPSeg{Src: src, Dst: dst, SrcPort: 40000, DstPort: 53,
			Seq: 1000, SYN: true, Window: 65535, MSS: 1460})
		if err != nil {
			t.Fatal(err)
		}
		return pkt
	}
	zeroUDP := func(pkt []byte) []byte {
		off := 20
		if pkt[0]>>4 == 6 {
			off = 40
		}
		pkt[off+6], pkt[off+7] = 0, 0
		return pkt
	}
	tests := []struct {
		name     string
		pkt      []byte
		repaired bool
		answered bool // the engine rewrites it once repaired
	}{
		{"udp4 correct", query(enginetest.Default4()), false, true},
		{"udp6 correct", query(enginetest.Default6()), false, true},
		{"udp4 offloaded", offloaded(query(enginetest.Default4())), true, true},
		{"udp6 offloaded", offloaded(query(enginetest.Default6())), true, true},
		{"udp6 zero", zeroUDP(query(enginetest.Default6())), true, true},
		{"udp4 zero: no checksum, valid", zeroUDP(query(enginetest.Default4())), false, true},
		// The test engine passes TCP (reason tcp): only the checksum is checked.
		{"tcp4 offloaded", offloaded(tcp(enginetest.Client4, enginetest.Server4)), true, false},
		{"tcp6 offloaded", offloaded(tcp(enginetest.Client6, enginetest.Server6)), true, false},
		{"udp4 offloaded, bad IP header checksum", func() []byte {
			p := offloaded(query(enginetest.Default4()))
			p[10] ^= 0xff
			return p
		}(), false, false},
		{"udp4 offloaded, UDP length disagrees", func() []byte {
			p := offloaded(query(enginetest.Default4()))
			p[25]++
			return p
		}(), false, false},
		{"udp4 offloaded, fragment", func() []byte {
			p := offloaded(query(enginetest.Default4()))
			p[6] |= 0x20 // MF
			return p
		}(), false, false},
		{"truncated", query(enginetest.Default4())[:30], false, false},
		{"empty", nil, false, false},
	}
	e := testEngine(t, dnsengine.DefaultConfig())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := bytes.Clone(tc.pkt)
			got := dnsengine.RepairCaptureChecksum(tc.pkt)
			if got != tc.repaired {
				t.Fatalf("repaired = %v, want %v", got, tc.repaired)
			}
			if !tc.repaired && !bytes.Equal(before, tc.pkt) {
				t.Fatalf("packet changed without a repair")
			}
			if tc.repaired {
				if err := enginetest.CheckTransport(tc.pkt); err != nil {
					t.Fatalf("repaired packet does not check out: %v", err)
				}
				if again := dnsengine.RepairCaptureChecksum(tc.pkt); again {
					t.Fatal("a repaired packet was repaired again")
				}
			}
			if len(tc.pkt) == 0 {
				return
			}
			buf := make([]byte, len(tc.pkt), enginetest.BufSize)
			copy(buf, tc.pkt)
			res := e.Process(buf)
			if tc.repaired && res.Reason == verdict.ReasonBadChecksum {
				t.Fatal("engine: bad_checksum after the repair")
			}
			if answered := res.Verdict == verdict.Rewrite; answered != tc.answered {
				t.Fatalf("engine: %v %v, want answered=%v", res.Verdict, res.Reason, tc.answered)
			}
			if res.Verdict == verdict.Rewrite {
				if err := enginetest.CheckTransport(res.Packet); err != nil {
					t.Fatalf("response: %v", err)
				}
			}
		})
	}
}

// TestLiveEngineKeepsChecksumsStrict: the engine itself still refuses an
// offloaded checksum (the queue always hands it complete ones).
func TestLiveEngineKeepsChecksumsStrict(t *testing.T) {
	e := testEngine(t, dnsengine.DefaultConfig())
	pkt, err := enginetest.QueryPacket(enginetest.Default4(), enginetest.NewQuery("web.default.svc.cluster.local", dns.TypeA))
	if err != nil {
		t.Fatal(err)
	}
	res := e.Process(offloaded(pkt))
	if res.Verdict != verdict.Accept || res.Reason != verdict.ReasonBadChecksum {
		t.Fatalf("offloaded checksum: %v %v, want accept bad_checksum", res.Verdict, res.Reason)
	}
}
