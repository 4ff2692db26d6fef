package loadgen

import (
	"encoding/binary"
	"testing"

	"github.com/miekg/dns"
)

// reply builds a response to q with the given rcode and answer types
// (each answer's owner is a compression pointer to the question).
func reply(q []byte, rcode int, types ...uint16) []byte {
	b := append([]byte(nil), q...)
	b[2] |= 0x80
	b[3] = byte(rcode)
	binary.BigEndian.PutUint16(b[6:], uint16(len(types)))
	for _, t := range types {
		b = append(b, 0xc0, 12)
		b = binary.BigEndian.AppendUint16(b, t)
		b = append(b, 0, 1, 0, 0, 0, 30)
		switch t {
		case 1:
			b = append(b, 0, 4, 198, 19, 0, 1)
		case 5:
			b = append(b, 0, 2, 0xc0, 12)
		default:
			b = append(b, 0, 0)
		}
	}
	return b
}

func TestAppendQuery(t *testing.T) {
	q, err := AppendQuery(nil, 0x1234, "svc-1.bench.svc.cluster.local.", 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 's', 'v', 'c', '-', '1', 5, 'b', 'e', 'n', 'c', 'h', 3, 's', 'v', 'c', 7, 'c', 'l', 'u', 's', 't', 'e', 'r', 5, 'l', 'o', 'c', 'a', 'l', 0, 0, 1, 0, 1}
	if string(q) != string(want) {
		t.Errorf("AppendQuery = %x\nwant          %x", q, want)
	}
	for _, bad := range []string{"", ".", "a..b", string(make([]byte, 64)) + ".x"} {
		if _, err := AppendQuery(nil, 1, bad, 1); err == nil {
			t.Errorf("AppendQuery(%q) accepted", bad)
		}
	}
}

// TestWireAllocs: encoding a query into a buffer with room and reading its
// reply allocate nothing (Lookups encodes per exchange; every rate engine
// parses every reply). miekg/dns's PackBuffer allocates even with a reused
// Msg and buffer, and its Unpack per record: hence the hand-written pair.
func TestWireAllocs(t *testing.T) {
	buf := make([]byte, 0, 512)
	q, _ := AppendQuery(nil, 7, "web.default.svc.cluster.local.", 1)
	r := reply(q, 0, 5, 1)
	if a := testing.AllocsPerRun(1000, func() {
		buf, _ = AppendQuery(buf[:0], 7, "web.default.svc.cluster.local.", 1)
		_, _ = ParseReply(r, q)
	}); a != 0 {
		t.Errorf("AppendQuery+ParseReply: %v allocations, want 0", a)
	}
}

// TestAppendQueryAsMiekg: Run sent miekg/dns's packing of its queries
// before it used AppendQuery and AppendOPT; the bytes are the same, with
// and without EDNS.
func TestAppendQueryAsMiekg(t *testing.T) {
	for _, edns := range []uint16{0, 1232, 4096} {
		m := new(dns.Msg)
		m.Id = 0x4242
		m.RecursionDesired = true
		m.Question = []dns.Question{{Name: "web.default.svc.cluster.local.", Qtype: dns.TypeAAAA, Qclass: dns.ClassINET}}
		if edns > 0 {
			m.SetEdns0(edns, false)
		}
		want, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		got, err := AppendQuery(nil, 0x4242, "web.default.svc.cluster.local.", dns.TypeAAAA)
		if err != nil {
			t.Fatal(err)
		}
		if edns > 0 {
			got = AppendOPT(got, edns)
		}
		if string(got) != string(want) {
			t.Errorf("EDNS %d: got  %x\nmiekg/dns %x", edns, got, want)
		}
	}
}

func TestParseReply(t *testing.T) {
	q, _ := AppendQuery(nil, 7, "Svc.Example.", 1)
	other, _ := AppendQuery(nil, 7, "other.example.", 1)
	upper, _ := AppendQuery(nil, 7, "SVC.EXAMPLE.", 1)
	tests := []struct {
		name    string
		b       []byte
		rcode   int
		answers int
		err     bool
	}{
		{"A answer", reply(q, 0, 1), 0, 1, false},
		{"CNAME then A counts one", reply(q, 0, 5, 1), 0, 1, false},
		{"NODATA", reply(q, 0), 0, 0, false},
		{"NXDOMAIN", reply(q, 3), 3, 0, false},
		{"question case differs", reply(upper, 0, 1), 0, 1, false},
		{"other question", reply(other, 0, 1), 0, 0, true},
		{"query, not reply", q, 0, 0, true},
		{"truncated answer", reply(q, 0, 1)[:len(reply(q, 0, 1))-2], 0, 0, true},
		{"short", []byte{0, 7}, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseReply(tt.b, q)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if err == nil && (r.Rcode != tt.rcode || r.Answers != tt.answers || r.ID != 7) {
				t.Errorf("ParseReply = %+v", r)
			}
		})
	}
	bad := reply(q, 0, 1)
	bad[1] = 8
	if _, err := ParseReply(bad, q); err == nil {
		t.Error("wrong ID accepted")
	}
}

func FuzzParseReply(f *testing.F) {
	q, _ := AppendQuery(nil, 7, "svc.example.", 1)
	f.Add(reply(q, 0, 1))
	f.Add(reply(q, 0, 5, 1))
	f.Add(reply(q, 3))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseReply(b, q)
		if err == nil && r.Answers > int(binary.BigEndian.Uint16(b[6:])) {
			t.Errorf("more answers (%d) than ANCOUNT", r.Answers)
		}
	})
}

func TestRxTimestamp(t *testing.T) {
	if got := rxTimestamp(nil); got != 0 {
		t.Errorf("rxTimestamp(nil) = %d", got)
	}
	if got := rxTimestamp([]byte{1, 2, 3}); got != 0 {
		t.Errorf("rxTimestamp(short) = %d", got)
	}
}
