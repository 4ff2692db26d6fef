package dnsengine

import (
	"encoding/binary"

	"github.com/meshdns/meshdns/dnsengine/checksum"
)

const (
	protoTCP = 6
	protoUDP = 17
	dnsPort  = 53
	// tcpHeaderLen is the length of a TCP header without options.
	tcpHeaderLen = 20
)

// ipPacket is the decoded outer layers of a packet: offsets into the
// caller's buffer, nothing copied.
type ipPacket struct {
	v6     bool
	ipHdr  int // length of the IP header (with IPv4 options)
	proto  uint8
	l4     int // offset of the transport header
	l4Len  int // length of the transport segment (header + payload)
	sport  uint16
	dport  uint16
	srcOff int
	dstOff int
	alen   int // address length: 4 or 16
}

// decodeIP parses an IPv4 or IPv6 header. It accepts only unfragmented
// packets whose lengths agree with the buffer and, for IPv4, whose header
// checksum verifies. IPv6 extension headers are not followed.
func decodeIP(b []byte, p *ipPacket) Reason {
	if len(b) < 1 {
		return ReasonMalformed
	}
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return ReasonMalformed
		}
		ihl := int(b[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(b[2:4]))
		if ihl < 20 || total < ihl || total > len(b) {
			return ReasonMalformed
		}
		if binary.BigEndian.Uint16(b[6:8])&0x3fff != 0 {
			return ReasonNotIP // a fragment: MF set or non-zero offset
		}
		if !checksum.HeaderValid(b[:ihl]) {
			return ReasonBadChecksum
		}
		*p = ipPacket{ipHdr: ihl, proto: b[9], l4: ihl, l4Len: total - ihl, srcOff: 12, dstOff: 16, alen: 4}
	case 6:
		if len(b) < 40 {
			return ReasonMalformed
		}
		plen := int(binary.BigEndian.Uint16(b[4:6]))
		if 40+plen > len(b) {
			return ReasonMalformed
		}
		nh := b[6]
		if nh != protoUDP && nh != protoTCP {
			return ReasonNotIP // extension headers (or another protocol)
		}
		*p = ipPacket{v6: true, ipHdr: 40, proto: nh, l4: 40, l4Len: plen, srcOff: 8, dstOff: 24, alen: 16}
	default:
		return ReasonNotIP
	}
	return 0
}

// decodeTransport reads the ports and checks the UDP length and checksum.
func decodeTransport(b []byte, p *ipPacket) Reason {
	seg := b[p.l4 : p.l4+p.l4Len]
	switch p.proto {
	case protoUDP:
		if len(seg) < 8 {
			return ReasonMalformed
		}
		p.sport = binary.BigEndian.Uint16(seg[0:2])
		p.dport = binary.BigEndian.Uint16(seg[2:4])
		if int(binary.BigEndian.Uint16(seg[4:6])) != len(seg) {
			return ReasonMalformed
		}
		if p.dport != dnsPort {
			return ReasonNotDNSQuery
		}
		ck := binary.BigEndian.Uint16(seg[6:8])
		if ck == 0 {
			if p.v6 {
				return ReasonBadChecksum // a zero UDP checksum is invalid over IPv6
			}
			return 0 // IPv4: no checksum
		}
		if !checksum.TransportValid(b[p.srcOff:p.srcOff+p.alen], b[p.dstOff:p.dstOff+p.alen], protoUDP, seg) {
			return ReasonBadChecksum
		}
		return 0
	case protoTCP:
		if len(seg) < tcpHeaderLen {
			return ReasonMalformed
		}
		p.sport = binary.BigEndian.Uint16(seg[0:2])
		p.dport = binary.BigEndian.Uint16(seg[2:4])
		if p.dport != dnsPort {
			return ReasonNotDNSQuery
		}
		return ReasonTCP
	}
	return ReasonNotDNSQuery
}

// finishUDPResponse turns the query packet in b (decoded as p), whose DNS
// payload has been overwritten with a response of dnsLen bytes, into the
// response packet: addresses and ports swapped, lengths and checksums set.
// It returns the new packet length.
func finishUDPResponse(b []byte, p *ipPacket, dnsLen int) int {
	src := b[p.srcOff : p.srcOff+p.alen]
	dst := b[p.dstOff : p.dstOff+p.alen]
	for i := range src {
		src[i], dst[i] = dst[i], src[i]
	}
	udp := b[p.l4:]
	udpLen := 8 + dnsLen
	udp[0], udp[1], udp[2], udp[3] = udp[2], udp[3], udp[0], udp[1]
	binary.BigEndian.PutUint16(udp[4:6], uint16(udpLen))
	udp[6], udp[7] = 0, 0
	ck := checksum.Transport(src, dst, protoUDP, udp[:udpLen])
	if ck == 0 {
		ck = 0xffff
	}
	binary.BigEndian.PutUint16(udp[6:8], ck)
	total := p.ipHdr + udpLen
	if p.v6 {
		binary.BigEndian.PutUint16(b[4:6], uint16(udpLen))
	} else {
		binary.BigEndian.PutUint16(b[2:4], uint16(total))
		b[10], b[11] = 0, 0
		binary.BigEndian.PutUint16(b[10:12], checksum.IPv4Header(b[:p.ipHdr]))
	}
	return total
}
