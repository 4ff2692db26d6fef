package dnsengine_test

import (
	"bytes"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
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
		case dnsengine.Accept:
			if res.Reason.Answered() {
				t.Fatalf("accept with reason %v", res.Reason)
			}
			if !bytes.Equal(pkt, in) {
				t.Fatal("packet modified on accept")
			}
		case dnsengine.Rewrite:
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
		default:
			t.Fatalf("verdict %v", res.Verdict)
		}
	})
}
