package cache_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/cache"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/miekg/dns"
)

// fuzzQuestion returns the question bytes (name, type, class) of a DNS
// message whose question name is uncompressed, or nil.
func fuzzQuestion(m []byte) []byte {
	off := 12
	for off < len(m) && off < 12+256 {
		l := int(m[off])
		if l == 0 {
			if off+5 > len(m) {
				return nil
			}
			return m[12 : off+5]
		}
		if l&0xc0 != 0 {
			return nil
		}
		off += 1 + l
	}
	return nil
}

// fuzzTypesChecked reports whether every record of m is of a type whose
// compressed names the cache checks, or of one with no names in its rdata
// (as miekg/dns reads it). For the others the cache treats rdata as opaque:
// a pointer there into bytes the cache rewrites (TTLs) would read
// differently, which only the upstream itself could cause.
func fuzzTypesChecked(m *dns.Msg) bool {
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range sec {
			t := rr.Header().Rrtype
			switch t {
			case dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeSPF, dns.TypeCAA, dns.TypeTLSA, dns.TypeSSHFP,
				dns.TypeDS, dns.TypeDNSKEY, dns.TypeNULL, dns.TypeHINFO, dns.TypeOPT,
				dns.TypeNS, dns.TypeCNAME, dns.TypePTR, dns.TypeDNAME, dns.TypeMX, dns.TypeSRV, dns.TypeSOA,
				dns.TypeMINFO, dns.TypeRP, dns.TypeAFSDB, dns.TypeRT, dns.TypeKX, dns.TypePX,
				dns.TypeMB, dns.TypeMG, dns.TypeMR:
				continue
			}
			if _, known := dns.TypeToRR[t]; known {
				return false
			}
		}
	}
	return true
}

// FuzzCacheResponse feeds arbitrary upstream responses to the cache, each
// right after a query it could answer. The response must always be
// accepted untouched; whatever was learned must come back as a well-formed
// answer to a later query for the same question: the query's ID and
// question, the upstream's rcode, lengths and checksums that verify, and
// (when miekg/dns can read the upstream's message) one miekg/dns can read
// too, with no more records than the upstream sent.
func FuzzCacheResponse(f *testing.F) {
	seed := func(q *dns.Msg, rcode int, recs ...string) {
		m := cacheReply(f, q, rcode, recs...)
		w, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(w)
	}
	q := cacheQ("www.example.org", dns.TypeA, 0x1234)
	seed(q, dns.RcodeSuccess, "www.example.org. 60 IN CNAME web.example.org.", "web.example.org. 60 IN A 198.18.5.5")
	seed(q, dns.RcodeNameError, "|", "example.org. 60 IN SOA ns.example.org. h.example.org. 1 2 3 4 5")
	qe := cacheQ("www.example.org", dns.TypeMX, 0x1234)
	qe.SetEdns0(1232, true)
	seed(qe, dns.RcodeSuccess, "www.example.org. 60 IN MX 10 mx.example.org.", "|", "example.org. 60 IN NS ns.example.org.", "|", "mx.example.org. 60 IN A 198.18.5.6")
	seed(qe, dns.RcodeServerFailure)

	clock := &cache.FakeClock{}
	cfg := dnsengine.DefaultConfig()
	cfg.Cache.Clock = clock
	cfg.Cache.Size = 64
	cfg.Cache.ServfailTTL = 5
	e := enginetest.MustClusterEngine(f, cfg)
	ep := cacheEP4(40000)
	f.Fuzz(func(t *testing.T, in []byte) {
		clock.Advance(3600e9) // forget the last round's entry
		var id uint16
		if len(in) >= 2 {
			id = binary.BigEndian.Uint16(in)
		}
		question := fuzzQuestion(in)
		if question != nil {
			qw := append([]byte{0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}, question...)
			binary.BigEndian.PutUint16(qw, id)
			pkt, err := enginetest.UDPPacket(ep, qw)
			if err != nil {
				t.Fatal(err)
			}
			e.Process(pkt)
		}
		pkt, err := enginetest.UDPPacket(cacheRespEP(ep), in)
		if err != nil {
			return // too big for a UDP packet
		}
		orig := bytes.Clone(pkt)
		res := e.Process(pkt)
		if res.Verdict != verdict.Accept || !bytes.Equal(pkt, orig) {
			t.Fatalf("response: verdict %v reason %v, or modified", res.Verdict, res.Reason)
		}
		if res.Reason != verdict.ReasonCacheLearned {
			return
		}
		upstream := new(dns.Msg)
		upErr := upstream.Unpack(in)
		for _, edns := range []bool{false, true} {
			qw := append([]byte{0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}, question...)
			for i := 12; i < len(qw)-4; i++ { // 0x20: the name in upper case
				if 'a' <= qw[i] && qw[i] <= 'z' {
					qw[i] -= 'a' - 'A'
				}
			}
			if edns {
				qw[11] = 1
				qw = append(qw, 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0)
			}
			pkt, err := enginetest.UDPPacket(cacheEP4(41000), qw)
			if err != nil {
				t.Fatal(err)
			}
			res := e.Process(pkt)
			if res.Verdict != verdict.Rewrite || res.Reason != verdict.ReasonCacheHit {
				t.Fatalf("learned, then %v/%v", res.Verdict, res.Reason)
			}
			if int(binary.BigEndian.Uint16(res.Packet[2:])) != len(res.Packet) {
				t.Fatalf("IP length %d, packet %d", binary.BigEndian.Uint16(res.Packet[2:]), len(res.Packet))
			}
			wire := res.Packet[28:]
			if !bytes.Equal(wire[:2], qw[:2]) || wire[2]&0x80 == 0 || !bytes.Equal(wire[12:12+len(question)], qw[12:12+len(question)]) {
				t.Fatalf("not an answer to the query: %x", wire)
			}
			if wire[3]&0xf != in[3]&0xf {
				t.Fatalf("rcode %d, upstream's %d", wire[3]&0xf, in[3]&0xf)
			}
			limit := 512
			if edns {
				limit = 1232
			}
			if len(wire) > limit {
				t.Fatalf("%d bytes for a client of %d", len(wire), limit)
			}
			// Lengths and checksums, whatever the records hold.
			if err := enginetest.CheckTransport(res.Packet); err != nil {
				t.Fatal(err)
			}
			if upErr != nil || !fuzzTypesChecked(upstream) {
				continue
			}
			r := new(dns.Msg)
			if err := r.Unpack(wire); err != nil {
				t.Fatalf("upstream's message reads, the cached answer does not: %v", err)
			}
			if len(r.Answer) > len(upstream.Answer) || len(r.Ns) > len(upstream.Ns) {
				t.Fatalf("more records than the upstream sent:\n%v\n%v", r, upstream)
			}
		}
	})
}
