package checksum

import "encoding/binary"

// Sum adds b to the running one's-complement sum s (RFC 1071); folding is
// left to Fold. b of odd length is padded with a zero byte.
func Sum(s uint64, b []byte) uint64 {
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

// Fold reduces a running sum to 16 bits.
func Fold(s uint64) uint16 {
	for s>>16 != 0 {
		s = (s & 0xffff) + (s >> 16)
	}
	return uint16(s)
}

// IPv4Header computes the checksum of an IPv4 header whose checksum field
// is zero. A header with its checksum in place verifies when
// Fold(Sum(0, h)) is 0xffff (HeaderValid).
func IPv4Header(h []byte) uint16 {
	return ^Fold(Sum(0, h))
}

// HeaderValid reports whether the IPv4 header h, checksum included,
// verifies.
func HeaderValid(h []byte) bool {
	return Fold(Sum(0, h)) == 0xffff
}

// PseudoHeader returns the running sum of the TCP/UDP pseudo-header of a
// segment of length bytes of protocol proto between the addresses src and
// dst (both 4 or both 16 bytes).
func PseudoHeader(src, dst []byte, proto uint8, length int) uint64 {
	s := Sum(0, src)
	s = Sum(s, dst)
	return s + uint64(proto) + uint64(length)
}

// Transport computes the UDP/TCP checksum of seg, whose checksum field is
// zero, under its pseudo-header. The caller maps 0 to 0xffff for UDP
// (RFC 768: zero means none).
func Transport(src, dst []byte, proto uint8, seg []byte) uint16 {
	return ^Fold(Sum(PseudoHeader(src, dst, proto, len(seg)), seg))
}

// TransportValid reports whether the UDP/TCP segment seg, checksum
// included, verifies under its pseudo-header. A zero UDP checksum ("none"
// over IPv4) is the caller's to treat first.
func TransportValid(src, dst []byte, proto uint8, seg []byte) bool {
	return Fold(Sum(PseudoHeader(src, dst, proto, len(seg)), seg)) == 0xffff
}
