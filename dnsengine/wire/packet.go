package wire

import (
	"encoding/binary"

	"github.com/meshdns/meshdns/dnsengine/checksum"
	"github.com/meshdns/meshdns/dnsengine/verdict"
)

// Protocol numbers and the DNS port.
const (
	ProtoTCP = 6
	ProtoUDP = 17
	DNSPort  = 53
	// TCPHeaderLen is the length of a TCP header without options.
	TCPHeaderLen = 20
	// UDPHeaderLen is the length of a UDP header.
	UDPHeaderLen = 8
)

// Kind is what a decoded packet is.
type Kind uint8

// The kinds of packet Decode tells apart.
const (
	// KindNotIP: not an unfragmented IPv4 or IPv6 packet wire can follow
	// (another version, a fragment, IPv6 extension headers). Reason is
	// ReasonNotIP.
	KindNotIP Kind = iota
	// KindInvalid: lengths that do not agree with the buffer or a checksum
	// that does not verify. Reason is ReasonMalformed or ReasonBadChecksum.
	KindInvalid
	// KindUDPQuery: UDP to port 53, lengths and checksum verified; the DNS
	// message is UDPPayload. Reason is 0.
	KindUDPQuery
	// KindUDPResponse: UDP from port 53 (and not to it), length verified,
	// checksum not yet (UDPChecksumValid). Reason is ReasonNotDNSQuery.
	KindUDPResponse
	// KindTCPSegment: TCP to or from port 53, at least a header long.
	// Reason is ReasonTCP to port 53, ReasonNotDNSQuery from it.
	KindTCPSegment
	// KindOther: IP, but neither UDP nor TCP to or from port 53. Reason is
	// ReasonNotDNSQuery.
	KindOther
)

// Packet is a decoded packet: its kind and offsets into the caller's
// buffer, nothing copied.
type Packet struct {
	Kind Kind
	// Reason is the pass-through reason of a packet no handler takes
	// (see the kinds).
	Reason  verdict.Reason
	V6      bool
	IPHdr   int // length of the IP header (with IPv4 options)
	Proto   uint8
	L4      int // offset of the transport header
	L4Len   int // length of the transport segment (header + payload)
	SrcPort uint16
	DstPort uint16
	SrcOff  int // offset of the source address
	DstOff  int // offset of the destination address
	AddrLen int // 4 or 16
}

// Src returns the source address in b, the buffer p was decoded from.
func (p *Packet) Src(b []byte) []byte { return b[p.SrcOff : p.SrcOff+p.AddrLen] }

// Dst returns the destination address in b.
func (p *Packet) Dst(b []byte) []byte { return b[p.DstOff : p.DstOff+p.AddrLen] }

// Segment returns the transport segment (header and payload) in b.
func (p *Packet) Segment(b []byte) []byte { return b[p.L4 : p.L4+p.L4Len] }

// UDPPayload returns the payload of a UDP packet (a DNS message) in b.
func (p *Packet) UDPPayload(b []byte) []byte { return b[p.L4+UDPHeaderLen : p.L4+p.L4Len] }

// UDPChecksumValid reports whether the UDP checksum of p verifies. A zero
// checksum means none over IPv4 and is invalid over IPv6.
func (p *Packet) UDPChecksumValid(b []byte) bool {
	seg := p.Segment(b)
	if binary.BigEndian.Uint16(seg[6:8]) == 0 {
		return !p.V6
	}
	return checksum.TransportValid(p.Src(b), p.Dst(b), ProtoUDP, seg)
}

// Decode decodes the packet in b into p and returns its kind.
func Decode(b []byte, p *Packet) Kind {
	if r := DecodeIP(b, p); r != 0 {
		p.Kind, p.Reason = KindInvalid, r
		if r == verdict.ReasonNotIP {
			p.Kind = KindNotIP
		}
		return p.Kind
	}
	p.Kind, p.Reason = decodeTransport(b, p)
	return p.Kind
}

func decodeTransport(b []byte, p *Packet) (Kind, verdict.Reason) {
	seg := p.Segment(b)
	switch p.Proto {
	case ProtoUDP:
		if len(seg) < UDPHeaderLen {
			return KindInvalid, verdict.ReasonMalformed
		}
		p.SrcPort = binary.BigEndian.Uint16(seg[0:2])
		p.DstPort = binary.BigEndian.Uint16(seg[2:4])
		if int(binary.BigEndian.Uint16(seg[4:6])) != len(seg) {
			return KindInvalid, verdict.ReasonMalformed
		}
		switch {
		case p.DstPort == DNSPort:
			if !p.UDPChecksumValid(b) {
				return KindInvalid, verdict.ReasonBadChecksum
			}
			return KindUDPQuery, 0
		case p.SrcPort == DNSPort:
			return KindUDPResponse, verdict.ReasonNotDNSQuery
		}
	case ProtoTCP:
		if len(seg) < TCPHeaderLen {
			return KindInvalid, verdict.ReasonMalformed
		}
		p.SrcPort = binary.BigEndian.Uint16(seg[0:2])
		p.DstPort = binary.BigEndian.Uint16(seg[2:4])
		switch {
		case p.DstPort == DNSPort:
			return KindTCPSegment, verdict.ReasonTCP
		case p.SrcPort == DNSPort:
			return KindTCPSegment, verdict.ReasonNotDNSQuery
		}
	}
	return KindOther, verdict.ReasonNotDNSQuery
}

// DecodeIP decodes the IP layer of b into p (Kind and Reason, the ports
// and everything else past the IP header are left zero). It accepts only
// unfragmented packets whose lengths agree with the buffer and, for IPv4,
// whose header checksum verifies; IPv6 extension headers are not followed
// (ReasonNotIP).
func DecodeIP(b []byte, p *Packet) verdict.Reason {
	if len(b) < 1 {
		return verdict.ReasonMalformed
	}
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return verdict.ReasonMalformed
		}
		ihl := int(b[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(b[2:4]))
		if ihl < 20 || total < ihl || total > len(b) {
			return verdict.ReasonMalformed
		}
		if binary.BigEndian.Uint16(b[6:8])&0x3fff != 0 {
			return verdict.ReasonNotIP // a fragment: MF set or non-zero offset
		}
		if !checksum.HeaderValid(b[:ihl]) {
			return verdict.ReasonBadChecksum
		}
		*p = Packet{IPHdr: ihl, Proto: b[9], L4: ihl, L4Len: total - ihl, SrcOff: 12, DstOff: 16, AddrLen: 4}
	case 6:
		if len(b) < 40 {
			return verdict.ReasonMalformed
		}
		plen := int(binary.BigEndian.Uint16(b[4:6]))
		if 40+plen > len(b) {
			return verdict.ReasonMalformed
		}
		nh := b[6]
		if nh != ProtoUDP && nh != ProtoTCP {
			return verdict.ReasonNotIP // extension headers (or another protocol)
		}
		*p = Packet{V6: true, IPHdr: 40, Proto: nh, L4: 40, L4Len: plen, SrcOff: 8, DstOff: 24, AddrLen: 16}
	default:
		return verdict.ReasonNotIP
	}
	return 0
}

// FinishUDPResponse turns the UDP query packet in b (decoded as p), whose
// DNS payload has been overwritten with a response of dnsLen bytes, into the
// response packet: addresses and ports swapped, lengths and checksums set.
// b must reach to the end of the response (pass b[:cap(b)]). It returns the
// new packet length.
func FinishUDPResponse(b []byte, p *Packet, dnsLen int) int {
	src := p.Src(b)
	dst := p.Dst(b)
	for i := range src {
		src[i], dst[i] = dst[i], src[i]
	}
	udp := b[p.L4:]
	udpLen := UDPHeaderLen + dnsLen
	udp[0], udp[1], udp[2], udp[3] = udp[2], udp[3], udp[0], udp[1]
	binary.BigEndian.PutUint16(udp[4:6], uint16(udpLen))
	udp[6], udp[7] = 0, 0
	ck := checksum.Transport(src, dst, ProtoUDP, udp[:udpLen])
	if ck == 0 {
		ck = 0xffff
	}
	binary.BigEndian.PutUint16(udp[6:8], ck)
	total := p.IPHdr + udpLen
	if p.V6 {
		binary.BigEndian.PutUint16(b[4:6], uint16(udpLen))
	} else {
		binary.BigEndian.PutUint16(b[2:4], uint16(total))
		b[10], b[11] = 0, 0
		binary.BigEndian.PutUint16(b[10:12], checksum.IPv4Header(b[:p.IPHdr]))
	}
	return total
}
