package nfq

import (
	"encoding/binary"
	"errors"
	"log/slog"
	"slices"
	"testing"

	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nltest"
	"golang.org/x/sys/unix"
)

// packetMsg builds the netlink message the kernel sends for a queued packet.
func packetMsg(id uint32, payload []byte) []byte {
	b := appendMsgHeader(nil, nfqnlMsgPacket, 0, 1, 7)
	var hdr [7]byte
	binary.BigEndian.PutUint32(hdr[:], id)
	binary.BigEndian.PutUint16(hdr[4:], 0x0800)
	hdr[6] = 3 // NF_INET_LOCAL_OUT
	b = appendAttr(b, nfqaPacketHdr, hdr[:])
	b = appendAttr(b, nfqaPayload, payload)
	return endMsg(b, 0)
}

func newTestBatchSource() *BatchSource {
	return &BatchSource{queue: 7, log: slog.New(slog.DiscardHandler), counters: new(Counters),
		wbuf: make([]byte, 0, batchFlushAt+batchRecvBufSize)}
}

// TestBatchParseAndVerdict: packets of a datagram are delivered with their
// ids and payloads; verdicts are encoded as the kernel expects.
func TestBatchParseAndVerdict(t *testing.T) {
	s := newTestBatchSource()
	d := append(packetMsg(41, []byte{0x45, 1, 2, 3}), packetMsg(42, []byte{0x60, 9})...)
	d = append(d, packetMsg(43, []byte{0x45, 6})...)
	var got []Packet
	s.parse(d, false, func(p Packet) {
		got = append(got, Packet{ID: p.ID, Payload: append([]byte(nil), p.Payload...), Truncated: p.Truncated})
		v := Accept
		switch p.ID {
		case 42:
			v = AcceptModified
		case 43:
			v = RepeatModified
		}
		if err := s.Verdict(p.ID, v, []byte{0x60, 1, 2}); err != nil {
			t.Fatal(err)
		}
	})
	if len(got) != 3 || got[0].ID != 41 || string(got[0].Payload) != "\x45\x01\x02\x03" || got[1].ID != 42 || got[0].Truncated {
		t.Fatalf("delivered %+v", got)
	}
	// Three verdict messages: accept 41 without payload, accept 42 with
	// one, repeat (NF_REPEAT, 4) 43 with one.
	w := s.wbuf
	for i, want := range []struct {
		id      uint32
		verdict uint32
		payload bool
	}{{41, 1, false}, {42, 1, true}, {43, 4, true}} {
		l := int(binary.NativeEndian.Uint32(w))
		if typ := binary.NativeEndian.Uint16(w[4:]); typ != uint16(unix.NFNL_SUBSYS_QUEUE)<<8|nfqnlMsgVerdict {
			t.Fatalf("message %d: type %#x", i, typ)
		}
		if q := binary.BigEndian.Uint16(w[18:]); q != 7 {
			t.Fatalf("message %d: queue %d", i, q)
		}
		a := w[20:l]
		if binary.NativeEndian.Uint16(a[2:]) != nfqaVerdictHdr || binary.BigEndian.Uint32(a[4:]) != want.verdict || binary.BigEndian.Uint32(a[8:]) != want.id {
			t.Fatalf("message %d: verdict header % x", i, a[:12])
		}
		hasPayload := len(a) > 12 && binary.NativeEndian.Uint16(a[14:]) == nfqaPayload
		if hasPayload != want.payload {
			t.Fatalf("message %d: payload attribute %v, want %v", i, hasPayload, want.payload)
		}
		w = w[l:]
	}
	if len(w) != 0 {
		t.Fatalf("%d trailing bytes", len(w))
	}
}

// TestBatchParseMalformed: a datagram the kernel would never send delivers
// no garbage: a message cut short, or whose netlink or attribute length
// overruns it, is delivered (when its id could be read) only as Truncated,
// which the consumer accepts untouched without handling its bytes.
func TestBatchParseMalformed(t *testing.T) {
	good := packetMsg(5, []byte{0x45})
	for _, tc := range []struct {
		name      string
		d         []byte
		delivered bool // packet 5 gets its verdict (as Truncated)
		errors    uint64
	}{
		{"shorter than a netlink header", good[:10], false, 0},
		{"cut inside the nfgen header", append([]byte(nil), good[:nlmsgHdrLen+2]...), false, 1},
		{"netlink length past the datagram", func() []byte {
			b := append([]byte(nil), good...)
			binary.NativeEndian.PutUint32(b, 9999)
			return b
		}(), true, 1},
		{"netlink length below its header", func() []byte {
			b := append([]byte(nil), good...)
			binary.NativeEndian.PutUint32(b, 3)
			return b
		}(), true, 1},
		{"attribute length below its header", func() []byte {
			b := append([]byte(nil), good...)
			binary.NativeEndian.PutUint16(b[nlmsgHdrLen+4:], 2)
			return b
		}(), false, 0},
		{"payload attribute past the message", func() []byte {
			b := append([]byte(nil), good...)
			// the last attribute (the payload) claims more than is there
			last := len(b) - 8
			binary.NativeEndian.PutUint16(b[last:], 200)
			return b
		}(), true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestBatchSource()
			var got []Packet
			s.parse(tc.d, false, func(p Packet) { got = append(got, p) })
			if tc.delivered != (len(got) == 1) || len(got) > 1 {
				t.Fatalf("delivered %+v, want delivered=%v", got, tc.delivered)
			}
			if len(got) == 1 && (got[0].ID != 5 || !got[0].Truncated) {
				t.Fatalf("delivered %+v: want id 5, Truncated", got[0])
			}
			if n := s.counters.ReceiveErrors.Load(); n != tc.errors {
				t.Errorf("receive errors %d, want %d", n, tc.errors)
			}
		})
	}
	// The same datagram received with MSG_TRUNC: the cut message's packet
	// is delivered Truncated, and no receive error is counted.
	s := newTestBatchSource()
	var got []Packet
	d := append(packetMsg(4, []byte{0x45, 0, 0, 20}), good[:len(good)-2]...)
	s.parse(d, true, func(p Packet) { got = append(got, p) })
	if len(got) != 2 || got[0].ID != 4 || got[0].Truncated || got[1].ID != 5 || !got[1].Truncated {
		t.Fatalf("truncated datagram: delivered %+v", got)
	}
	if n := s.counters.ReceiveErrors.Load(); n != 0 {
		t.Errorf("receive errors %d on a datagram the kernel truncated", n)
	}
}

// TestBatchPathAllocs: parsing a batch and encoding its verdicts allocate
// nothing per packet. Budget: 0.
func TestBatchPathAllocs(t *testing.T) {
	s := newTestBatchSource()
	d := packetMsg(1, make([]byte, 80))
	reply := make([]byte, 120)
	deliver := func(p Packet) { _ = s.Verdict(p.ID, AcceptModified, reply) }
	allocs := testing.AllocsPerRun(1000, func() {
		s.parse(d, false, deliver)
		s.wbuf = s.wbuf[:0]
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per packet, budget 0", allocs)
	}
}

// TestBatchDeliverRead: the packets of every datagram of a read are
// delivered together, in order, in the source's reused batch: nothing is
// allocated per packet nor per batch. Budget: 0.
func TestBatchDeliverRead(t *testing.T) {
	s := newTestBatchSource()
	s.batch = make([]Packet, 0, batchSize)
	s.rbufs = [][]byte{append(packetMsg(1, []byte{0x45, 1}), packetMsg(2, []byte{0x45, 2})...), packetMsg(3, []byte{0x60, 3})}
	s.msgs = make([]mmsghdr, len(s.rbufs))
	for i, b := range s.rbufs {
		s.msgs[i].len = uint32(len(b))
	}
	var ids []uint32
	s.deliverRead(len(s.rbufs), func(batch []Packet) {
		for _, p := range batch {
			ids = append(ids, p.ID, uint32(p.Payload[1]))
		}
	})
	if want := []uint32{1, 1, 2, 2, 3, 3}; !slices.Equal(ids, want) {
		t.Fatalf("delivered (id, payload) %v, want %v in one batch", ids, want)
	}
	reply := make([]byte, 120)
	deliver := func(batch []Packet) {
		for _, p := range batch {
			_ = s.Verdict(p.ID, AcceptModified, reply)
		}
	}
	allocs := testing.AllocsPerRun(1000, func() {
		s.deliverRead(len(s.rbufs), deliver)
		s.wbuf = s.wbuf[:0]
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per batch of 3 packets, budget 0", allocs)
	}
}

// socketPair returns a pair of connected sockets that keep message
// boundaries, standing in for a netlink socket and the kernel; they are
// closed when the test ends.
func socketPair(t *testing.T) [2]int {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds
}

// TestBatchRequest: a packet the kernel queues between the bind and its
// acknowledgement is accepted at once, on the socket's file descriptor,
// and the request ends at its acknowledgement; an acknowledgement with an
// error is the request's error.
func TestBatchRequest(t *testing.T) {
	fds := socketPair(t)
	config := netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_QUEUE<<8 | nfqnlMsgConfig),
		Flags: netlink.Request | netlink.Acknowledge}}
	var seq uint32
	conn := nltest.Dial(func(req []netlink.Message) ([]netlink.Message, error) {
		if len(req) > 0 { // the request: a packet comes first, alone
			seq = req[0].Header.Sequence
			return []netlink.Message{{Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_QUEUE<<8 | nfqnlMsgPacket)},
				Data: packetMsg(9, []byte{0x45})[nlmsgHdrLen:]}}, nil
		}
		return []netlink.Message{{Header: netlink.Header{Type: netlink.Error, Sequence: seq}, Data: make([]byte, 4)}}, nil
	})
	s := &BatchSource{conn: conn, fd: fds[0], queue: 7, counters: new(Counters)}
	if err := s.request(config); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, err := unix.Read(fds[1], buf)
	if err != nil {
		t.Fatal(err)
	}
	if want := appendVerdictMsg(nil, 7, 0, 9, Accept, nil); string(buf[:n]) != string(want) {
		t.Errorf("verdict of the packet queued meanwhile\n%x\nwant\n%x", buf[:n], want)
	}

	s.conn = nltest.Dial(func(req []netlink.Message) ([]netlink.Message, error) { return nltest.Error(int(unix.EPERM), req) })
	if err := s.request(config); !errors.Is(err, unix.EPERM) {
		t.Errorf("refused request: err %v, want EPERM", err)
	}
}

// TestBatchLateVerdict: a late verdict of a BatchSource is one netlink
// message, the same as a batched one but for its sequence number.
func TestBatchLateVerdict(t *testing.T) {
	fds := socketPair(t)
	s := &BatchSource{fd: fds[0], queue: 7}
	for _, tc := range []struct {
		v       Verdict
		payload []byte
	}{{AcceptModified, []byte("a rewritten packet")}, {Drop, nil}, {Accept, nil}} {
		if err := s.LateVerdict(42, tc.v, tc.payload); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		n, err := unix.Read(fds[1], buf)
		if err != nil {
			t.Fatal(err)
		}
		ref := &BatchSource{queue: 7, wbuf: nil}
		if err := ref.Verdict(42, tc.v, tc.payload); err != nil {
			t.Fatal(err)
		}
		want := ref.wbuf
		binary.NativeEndian.PutUint32(want[8:], 0) // the sequence number
		if got := buf[:n]; string(got) != string(want) {
			t.Errorf("%v: late verdict\n%x\nwant\n%x", tc.v, got, want)
		}
	}
	if err := s.LateVerdict(1, AcceptModified, make([]byte, MaxVerdictPayload+1)); err == nil {
		t.Error("over-long packet sent")
	}
}

func BenchmarkBatchPath(b *testing.B) {
	s := newTestBatchSource()
	var d []byte
	for i := range batchSize {
		d = append(d, packetMsg(uint32(i), make([]byte, 80))...)
	}
	reply := make([]byte, 120)
	deliver := func(p Packet) { _ = s.Verdict(p.ID, AcceptModified, reply) }
	b.ReportAllocs()
	for b.Loop() {
		s.parse(d, false, deliver)
		s.wbuf = s.wbuf[:0]
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batchSize), "ns/packet")
}
