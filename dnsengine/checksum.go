package dnsengine

import "encoding/binary"

// sum16 adds b to the running one's-complement sum s (RFC 1071), folding at
// the end is left to fold. b of odd length is padded with a zero byte.
func sum16(s uint64, b []byte) uint64 {
	for len(b) >= 8 {
		s += uint64(binary.BigEndian.Uint32(b)) + uint64(binary.BigEndian.Uint32(b[4:]))
		b = b[8:]
	}
	if len(b) >= 4 {
		s += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		s += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	return s
}

// fold reduces a running sum to 16 bits.
func fold(s uint64) uint16 {
	for s>>16 != 0 {
		s = (s & 0xffff) + (s >> 16)
	}
	return uint16(s)
}

// ipv4HeaderChecksum computes the checksum of an IPv4 header whose checksum
// field is zero (or verifies one: a valid header sums to 0).
func ipv4HeaderChecksum(h []byte) uint16 {
	return ^fold(sum16(0, h))
}

// pseudoHeaderSum returns the sum of the TCP/UDP pseudo-header.
func pseudoHeaderSum(src, dst []byte, proto uint8, length int) uint64 {
	s := sum16(0, src)
	s = sum16(s, dst)
	return s + uint64(proto) + uint64(length)
}

// transportChecksum computes the UDP/TCP checksum of seg (checksum field
// zeroed) under the given pseudo-header; the caller maps 0 to 0xffff for UDP.
func transportChecksum(src, dst []byte, proto uint8, seg []byte) uint16 {
	return ^fold(sum16(pseudoHeaderSum(src, dst, proto, len(seg)), seg))
}
