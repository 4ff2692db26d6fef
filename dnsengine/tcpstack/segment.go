package tcpstack

import (
	"encoding/binary"

	"github.com/meshdns/meshdns/dnsengine/checksum"
	"github.com/meshdns/meshdns/dnsengine/verdict"
)

// protoTCP is TCP's IP protocol number.
const protoTCP = 6

// TCP header flags.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpPSH = 0x08
	tcpACK = 0x10
)

// TCP option kinds.
const (
	optEnd    = 0
	optNOP    = 1
	optMSS    = 2
	optWScale = 3
	optSACKOK = 4
	optTS     = 8
)

const (
	tcpHeaderLen = 20
	ipv4HdrLen   = 20
	ipv6HdrLen   = 40
	ourWindow    = 65535 // the window we advertise, unscaled (our shift is 0)
	maxWScale    = 14
)

// segment is a decoded client segment. Everything but payload is a copy;
// payload aliases the caller's buffer.
type segment struct {
	v6       bool
	src, dst [16]byte // client, nameserver (first 4 bytes for IPv4)
	sport    uint16   // client port
	dport    uint16   // 53
	tclass   uint32   // IPv4 TOS, or the first 32 bits of the IPv6 header
	ipID     uint16
	seq, ack uint32
	flags    uint8
	win      uint16
	mss      uint16 // 0: no MSS option
	wscale   int8   // -1: no window scale option
	hasTS    bool
	tsVal    uint32
	tsEcr    uint32
	payload  []byte
	hold     Holdable // how to hold the segment (Process's caller); nil: it cannot be
}

// decodeSegment decodes the TCP segment of pkt (laid out as l) and
// verifies its checksum.
func decodeSegment(pkt []byte, l Layout, s *segment) verdict.Reason {
	if l.Off < 0 || l.Len < 0 || l.Off+l.Len > len(pkt) {
		return verdict.ReasonMalformed
	}
	seg := pkt[l.Off : l.Off+l.Len]
	if len(seg) < tcpHeaderLen {
		return verdict.ReasonMalformed
	}
	hl := int(seg[12]>>4) * 4
	if hl < tcpHeaderLen || hl > len(seg) {
		return verdict.ReasonMalformed
	}
	srcOff, dstOff, alen := 12, 16, 4 // IPv4
	if l.V6 {
		srcOff, dstOff, alen = 8, 24, 16
	}
	src := pkt[srcOff : srcOff+alen]
	dst := pkt[dstOff : dstOff+alen]
	*s = segment{
		v6:      l.V6,
		sport:   binary.BigEndian.Uint16(seg[0:]),
		dport:   binary.BigEndian.Uint16(seg[2:]),
		seq:     binary.BigEndian.Uint32(seg[4:]),
		ack:     binary.BigEndian.Uint32(seg[8:]),
		flags:   seg[13],
		win:     binary.BigEndian.Uint16(seg[14:]),
		wscale:  -1,
		payload: seg[hl:],
	}
	copy(s.src[:], src)
	copy(s.dst[:], dst)
	if l.V6 {
		s.tclass = binary.BigEndian.Uint32(pkt[0:4])
	} else {
		s.tclass = uint32(pkt[1])
		s.ipID = binary.BigEndian.Uint16(pkt[4:6])
	}
	parseTCPOptions(seg[tcpHeaderLen:hl], s)
	if !checksum.TransportValid(src, dst, protoTCP, seg) {
		return verdict.ReasonBadChecksum // s is filled in: the caller looks the flow up
	}
	return 0
}

// parseTCPOptions reads the options meshdns uses. Parsing stops, keeping
// what was read, at the end-of-list option or a malformed option, as
// Linux's does.
func parseTCPOptions(o []byte, s *segment) {
	for len(o) > 0 {
		kind := o[0]
		if kind == optEnd {
			return
		}
		if kind == optNOP {
			o = o[1:]
			continue
		}
		if len(o) < 2 {
			return
		}
		l := int(o[1])
		if l < 2 || l > len(o) {
			return
		}
		switch {
		case kind == optMSS && l == 4:
			s.mss = binary.BigEndian.Uint16(o[2:])
		case kind == optWScale && l == 3:
			s.wscale = int8(min(o[2], maxWScale))
		case kind == optTS && l == 10:
			s.hasTS = true
			s.tsVal = binary.BigEndian.Uint32(o[2:])
			s.tsEcr = binary.BigEndian.Uint32(o[6:])
		}
		o = o[l:]
	}
}

// reply is a segment to send to the client, in answer to (in place of) a
// client segment.
type reply struct {
	seq, ack uint32
	flags    uint8
	// SYN-ACK options: MSS, and window scale when ws.
	mss uint16
	ws  bool
	// Timestamps, when negotiated.
	ts    bool
	tsVal uint32
	tsEcr uint32
	// payload must not alias the buffer the reply is written to.
	payload []byte
}

func (r *reply) optLen() int {
	n := 0
	if r.flags&tcpSYN != 0 {
		n += 4 // MSS
		if r.ws {
			n += 4 // NOP, window scale
		}
	}
	if r.ts {
		n += 12 // NOP, NOP, timestamps
	}
	return n
}

// headerLen returns the length of the IP and TCP headers of the reply.
func (r *reply) headerLen(v6 bool) int {
	if v6 {
		return ipv6HdrLen + tcpHeaderLen + r.optLen()
	}
	return ipv4HdrLen + tcpHeaderLen + r.optLen()
}

// writeReply writes r, addressed from the nameserver back to the client
// of s, into b, which must hold r.headerLen(s.v6)+len(r.payload) bytes.
// The IP header is written fresh (no IPv4 options). It returns the packet
// length.
func writeReply(b []byte, s *segment, r *reply) int {
	ipLen := ipv4HdrLen
	if s.v6 {
		ipLen = ipv6HdrLen
	}
	tcpHL := tcpHeaderLen + r.optLen()
	segLen := tcpHL + len(r.payload)
	total := ipLen + segLen
	var src, dst []byte // of the reply
	if s.v6 {
		binary.BigEndian.PutUint32(b[0:], s.tclass)
		binary.BigEndian.PutUint16(b[4:], uint16(segLen))
		b[6], b[7] = protoTCP, 64
		copy(b[8:24], s.dst[:16])
		copy(b[24:40], s.src[:16])
		src, dst = b[8:24], b[24:40]
	} else {
		b[0], b[1] = 0x45, byte(s.tclass)
		binary.BigEndian.PutUint16(b[2:], uint16(total))
		binary.BigEndian.PutUint16(b[4:], s.ipID)
		binary.BigEndian.PutUint16(b[6:], 0x4000) // DF
		b[8], b[9] = 64, protoTCP
		b[10], b[11] = 0, 0
		copy(b[12:16], s.dst[:4])
		copy(b[16:20], s.src[:4])
		binary.BigEndian.PutUint16(b[10:], checksum.IPv4Header(b[:ipv4HdrLen]))
		src, dst = b[12:16], b[16:20]
	}
	t := b[ipLen:total]
	binary.BigEndian.PutUint16(t[0:], s.dport)
	binary.BigEndian.PutUint16(t[2:], s.sport)
	binary.BigEndian.PutUint32(t[4:], r.seq)
	binary.BigEndian.PutUint32(t[8:], r.ack)
	t[12] = byte(tcpHL/4) << 4
	t[13] = r.flags
	binary.BigEndian.PutUint16(t[14:], ourWindow)
	t[16], t[17], t[18], t[19] = 0, 0, 0, 0 // checksum, urgent pointer
	o := t[tcpHeaderLen:tcpHL]
	if r.flags&tcpSYN != 0 {
		o[0], o[1] = optMSS, 4
		binary.BigEndian.PutUint16(o[2:], r.mss)
		o = o[4:]
		if r.ws {
			o[0], o[1], o[2], o[3] = optNOP, optWScale, 3, 0 // our shift: 0
			o = o[4:]
		}
	}
	if r.ts {
		o[0], o[1], o[2], o[3] = optNOP, optNOP, optTS, 10
		binary.BigEndian.PutUint32(o[4:], r.tsVal)
		binary.BigEndian.PutUint32(o[8:], r.tsEcr)
	}
	copy(t[tcpHL:], r.payload)
	binary.BigEndian.PutUint16(t[16:], checksum.Transport(src, dst, protoTCP, t))
	return total
}

// seqLT reports a < b in sequence space.
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }
