package chaos_test

import (
	"encoding/binary"
	"net/netip"

	"github.com/miekg/dns"
)

// Packet crafting for the hostile-input scenario: whole IPv4 and IPv6
// packets, byte by byte, so that anything can be wrong in them.

func csumAdd(sum uint32, b []byte) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	return sum
}

func csumFold(sum uint32) uint16 {
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// ipv4Opts are the fields of a crafted IPv4 header.
type ipv4Opts struct {
	version  byte   // 0 means 4
	id       uint16 // must not be 0 (the kernel would fill it in)
	frag     uint16 // flags and fragment offset (in 8-byte units)
	proto    byte   // 0 means UDP
	options  []byte // IPv4 options, a multiple of 4 bytes
	ttl      byte   // 0 means 64
	src, dst netip.Addr
}

// ipv4 builds an IPv4 packet around payload with a correct header
// checksum and total length (the kernel sets both for IP_HDRINCL anyway).
func ipv4(o ipv4Opts, payload []byte) []byte {
	if o.version == 0 {
		o.version = 4
	}
	if o.proto == 0 {
		o.proto = 17
	}
	if o.ttl == 0 {
		o.ttl = 64
	}
	hl := 20 + len(o.options)
	b := make([]byte, hl+len(payload))
	b[0] = o.version<<4 | byte(hl/4)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[4:], o.id)
	binary.BigEndian.PutUint16(b[6:], o.frag)
	b[8], b[9] = o.ttl, o.proto
	s, d := o.src.As4(), o.dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	copy(b[20:], o.options)
	binary.BigEndian.PutUint16(b[10:], csumFold(csumAdd(0, b[:hl])))
	copy(b[hl:], payload)
	return b
}

// Checksum modes of udp.
const (
	ckGood = iota
	ckBad
	ckZero
)

// udp builds a UDP datagram from src to dst (for the checksum's pseudo
// header). length, when not 0, overrides the length field (a lie).
func udp(src, dst netip.AddrPort, payload []byte, ck int, length int) []byte {
	b := make([]byte, 8+len(payload))
	binary.BigEndian.PutUint16(b[0:], src.Port())
	binary.BigEndian.PutUint16(b[2:], dst.Port())
	l := len(b)
	if length != 0 {
		l = length
	}
	binary.BigEndian.PutUint16(b[4:], uint16(l))
	copy(b[8:], payload)
	sa, da := src.Addr().AsSlice(), dst.Addr().AsSlice()
	var sum uint32
	sum = csumAdd(sum, sa)
	sum = csumAdd(sum, da)
	sum += 17
	sum += uint32(len(b))
	sum = csumAdd(sum, b)
	c := csumFold(sum)
	if c == 0 {
		c = 0xffff
	}
	switch ck {
	case ckBad:
		c ^= 0x5a5a
	case ckZero:
		c = 0
	}
	binary.BigEndian.PutUint16(b[6:], c)
	return b
}

// ipv6 builds an IPv6 packet: next is the first next-header value, payload
// holds any extension headers and then the upper-layer data.
func ipv6(src, dst netip.Addr, next byte, payload []byte) []byte {
	b := make([]byte, 40+len(payload))
	b[0] = 6 << 4
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	b[6], b[7] = next, 64
	s, d := src.As16(), dst.As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	copy(b[40:], payload)
	return b
}

// extHeader is an IPv6 extension header of 8 bytes (PadN inside for the
// option headers), followed by next.
func extHeader(next byte, kind byte) []byte {
	switch kind {
	case 43: // routing, type 0, segments left 0
		return []byte{next, 0, 0, 0, 0, 0, 0, 0}
	case 44: // fragment: offset 0, M=0 (an atomic fragment), id 0x4d44
		return []byte{next, 0, 0, 0, 0, 0, 0x4d, 0x44}
	}
	return []byte{next, 0, 1, 4, 0, 0, 0, 0} // hop-by-hop / destination options: PadN(4)
}

// query builds a DNS query for name/qtype with edits applied to the wire.
func query(name string, qtype uint16, edit func(m *dns.Msg)) []byte {
	m := new(dns.Msg).SetQuestion(dns.Fqdn(name), qtype)
	m.Id = 0xd00d
	if edit != nil {
		edit(m)
	}
	b, err := m.Pack()
	if err != nil {
		panic(err)
	}
	return b
}

// header is a bare 12-byte DNS header.
func header(id, flags, qd, an, ns, ar uint16) []byte {
	b := make([]byte, 12)
	for i, v := range []uint16{id, flags, qd, an, ns, ar} {
		binary.BigEndian.PutUint16(b[2*i:], v)
	}
	return b
}

// question appends a raw name (as given) and type/class.
func question(name []byte, qtype, qclass uint16) []byte {
	b := append([]byte(nil), name...)
	b = binary.BigEndian.AppendUint16(b, qtype)
	return binary.BigEndian.AppendUint16(b, qclass)
}

// wireName encodes a name in uncompressed wire format.
func wireName(labels ...string) []byte {
	var b []byte
	for _, l := range labels {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

// ednsOption returns an OPT record with one option of code and size bytes.
func ednsOption(code uint16, size int, version byte) dns.RR {
	o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: 1232}}
	o.SetVersion(version)
	if size > 0 {
		o.Option = append(o.Option, &dns.EDNS0_LOCAL{Code: code, Data: make([]byte, size)})
	}
	return o
}
