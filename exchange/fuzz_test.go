package exchange

import (
	"bytes"
	"testing"

	"github.com/miekg/dns"
)

// FuzzMessage drives the parsers of untrusted messages (answers from the
// network, queries from clients): parseQuestion and answers never panic,
// a message answers a query only if miekg/dns reads the same question from
// it, and capEDNS stays within the message and never raises the size.
func FuzzMessage(f *testing.F) {
	for _, qt := range []uint16{dns.TypeA, dns.TypeHTTPS, dns.TypeAXFR} {
		m := new(dns.Msg)
		m.SetQuestion("Www.Example.org.", qt)
		m.SetEdns0(4096, true)
		q, _ := m.Pack()
		f.Add(q, q)
		r := new(dns.Msg)
		r.SetReply(m)
		b, _ := r.Pack()
		f.Add(q, b)
	}
	f.Add([]byte{}, []byte{0, 0, 0x80, 0, 0, 0})
	f.Fuzz(func(t *testing.T, query, resp []byte) {
		q, qEnd, ok := parseQuestion(query)
		if !ok {
			return
		}
		if qEnd > len(query) {
			t.Fatalf("question end %d past %d bytes", qEnd, len(query))
		}
		if len(resp) >= 2 && answers(resp, uint16(resp[0])<<8|uint16(resp[1]), q) && q.present {
			m := new(dns.Msg)
			if err := m.Unpack(resp); err == nil && len(m.Question) == 1 {
				mq := m.Question[0]
				if mq.Qtype != q.qtype || mq.Qclass != q.qclass || !bytes.EqualFold([]byte(mq.Name), []byte(q.name)) {
					t.Fatalf("matched %v, want %+v", mq, q)
				}
			}
		}
		out := bytes.Clone(query)
		if size := capEDNS(out, qEnd, 1232); size > 1232 && size != 512 {
			t.Fatalf("size %d above the cap", size)
		}
		if len(out) != len(query) {
			t.Fatal("length changed")
		}
	})
}
