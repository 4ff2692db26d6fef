package dnsengine_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/verdict"
)

// FuzzProcess feeds arbitrary packets to the engine. It must never panic,
// never modify a packet it passes, and every packet it rewrites must be a
// well-formed response (gopacket re-serializes it identically, miekg/dns
// unpacks it) that answers the query it replaced.
func FuzzProcess(f *testing.F) {
	for _, k := range packetKinds(f) {
		f.Add(k.pkt)
	}
	e := testEngine(f, dnsengine.DefaultConfig())
	f.Fuzz(func(t *testing.T, in []byte) {
		pkt := make([]byte, len(in), enginetest.BufSize)
		copy(pkt, in)
		res := e.Process(pkt)
		switch res.Verdict {
		case verdict.Accept:
			if res.Reason.Answered() {
				t.Fatalf("accept with reason %v", res.Reason)
			}
			if !bytes.Equal(pkt, in) {
				t.Fatal("packet modified on accept")
			}
		case verdict.Rewrite:
			if !res.Reason.Answered() {
				t.Fatalf("rewrite with reason %v", res.Reason)
			}
			r, err := enginetest.DecodeResponse(res.Packet)
			if err != nil {
				t.Fatalf("bad response: %v", err)
			}
			if !r.Msg.Response || len(r.Msg.Question) != 1 {
				t.Fatalf("not a response: %v", r.Msg)
			}
			if len(r.Wire) > 4096 {
				t.Fatalf("response of %d bytes", len(r.Wire))
			}
			answersQuery(t, in, res.Packet, r.Wire)
		default:
			t.Fatalf("verdict %v", res.Verdict)
		}
	})
}

// answersQuery fails t unless resp (its DNS message wire) answers the UDP
// query packet q: the addresses and ports swapped, the query's ID, and its
// question section byte for byte. q is read by hand, independently of the
// engine's decoder.
func answersQuery(t *testing.T, q, resp, wire []byte) {
	t.Helper()
	var srcQ, dstQ, srcR, dstR []byte
	var l4q, l4r int
	if q[0]>>4 == 6 {
		srcQ, dstQ, l4q = q[8:24], q[24:40], 40
		srcR, dstR, l4r = resp[8:24], resp[24:40], 40
	} else {
		srcQ, dstQ, l4q = q[12:16], q[16:20], int(q[0]&0xf)*4
		srcR, dstR, l4r = resp[12:16], resp[16:20], int(resp[0]&0xf)*4
	}
	if !bytes.Equal(srcR, dstQ) || !bytes.Equal(dstR, srcQ) {
		t.Fatalf("addresses not swapped: query %x > %x, response %x > %x", srcQ, dstQ, srcR, dstR)
	}
	if !bytes.Equal(resp[l4r:l4r+2], q[l4q+2:l4q+4]) || !bytes.Equal(resp[l4r+2:l4r+4], q[l4q:l4q+2]) {
		t.Fatal("ports not swapped")
	}
	dq := q[l4q+8:]
	if binary.BigEndian.Uint16(wire[0:2]) != binary.BigEndian.Uint16(dq[0:2]) {
		t.Fatalf("response ID %#04x, query ID %#04x", binary.BigEndian.Uint16(wire[0:2]), binary.BigEndian.Uint16(dq[0:2]))
	}
	end := 12 // the question: labels up to the root, then type and class
	for end < len(dq) && dq[end] != 0 {
		if dq[end]&0xc0 != 0 {
			t.Fatalf("answered a question whose name is not plain labels: %x", dq[12:])
		}
		end += 1 + int(dq[end])
	}
	end += 5
	if end > len(dq) || len(wire) < end || !bytes.Equal(wire[12:end], dq[12:end]) {
		t.Fatalf("question not copied: query %x, response %x", dq[12:min(end, len(dq))], wire[12:min(end, len(wire))])
	}
}
