package enginetest

import (
	"bytes"
	"fmt"
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/miekg/dns"
)

// Default endpoints of test packets: a pod querying its nameserver.
var (
	Client4 = netip.MustParseAddr("198.18.0.2")
	Server4 = netip.MustParseAddr("198.18.0.1")
	Client6 = netip.MustParseAddr("fd53::2")
	Server6 = netip.MustParseAddr("fd53::1")
)

// BufSize is the buffer capacity handed to the engine, as the queue does.
const BufSize = 65535

// Endpoints are the addresses and ports of a query packet.
type Endpoints struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
}

// Default4 and Default6 are the usual client -> nameserver endpoints.
func Default4() Endpoints { return Endpoints{Client4, Server4, 40000, 53} }
func Default6() Endpoints { return Endpoints{Client6, Server6, 40000, 53} }

// NewQuery returns a query message for name and type with RD set, like a stub resolver's.
func NewQuery(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.Id = 0x1234
	m.RecursionDesired = true
	return m
}

// UDPPacket wraps a DNS payload in IPv4 or IPv6 + UDP headers with correct
// checksums, in a buffer of capacity BufSize.
func UDPPacket(ep Endpoints, payload []byte) ([]byte, error) {
	udp := &layers.UDP{SrcPort: layers.UDPPort(ep.SrcPort), DstPort: layers.UDPPort(ep.DstPort)}
	return serialize(ep.Src, ep.Dst, layers.IPProtocolUDP, udp, payload)
}

// serialize has gopacket build an IPv4 or IPv6 packet from src to dst
// holding the transport layer l4 (protocol proto) and payload, with
// lengths and checksums computed, in a buffer of capacity BufSize.
func serialize(src, dst netip.Addr, proto layers.IPProtocol, l4 transportLayer, payload []byte) ([]byte, error) {
	var ip ipLayer
	if src.Is4() {
		ip = &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, Flags: layers.IPv4DontFragment,
			Id: 0x4242, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	} else {
		ip = &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	}
	sb, err := serializeLayers(ip, l4, payload)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, len(sb), BufSize)
	copy(buf, sb)
	return buf, nil
}

// serializeLayers serializes ip, l4 and payload with computed lengths and
// checksums (l4's under ip's pseudo-header).
func serializeLayers(ip ipLayer, l4 transportLayer, payload []byte) ([]byte, error) {
	sb := gopacket.NewSerializeBuffer()
	_ = l4.SetNetworkLayerForChecksum(ip)
	err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		ip, l4, gopacket.Payload(payload))
	return sb.Bytes(), err
}

// QueryPacket packs m into a UDP packet between ep.
func QueryPacket(ep Endpoints, m *dns.Msg) ([]byte, error) {
	wire, err := m.Pack()
	if err != nil {
		return nil, err
	}
	return UDPPacket(ep, wire)
}

// Response is a decoded response packet.
type Response struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Wire             []byte // DNS payload
	Msg              *dns.Msg
}

// DecodeResponse decodes a UDP response packet and checks it independently:
// gopacket re-serializes its layers with computed lengths and checksums and
// the result must equal pkt byte for byte.
func DecodeResponse(pkt []byte) (*Response, error) {
	var first gopacket.LayerType = layers.LayerTypeIPv4
	if len(pkt) > 0 && pkt[0]>>4 == 6 {
		first = layers.LayerTypeIPv6
	}
	p := gopacket.NewPacket(pkt, first, gopacket.Default)
	if el := p.ErrorLayer(); el != nil && el.LayerType() != layers.LayerTypeDNS {
		return nil, fmt.Errorf("decode: %v", el.Error())
	}
	udpL, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
	if !ok {
		return nil, fmt.Errorf("no UDP layer")
	}
	r := &Response{SrcPort: uint16(udpL.SrcPort), DstPort: uint16(udpL.DstPort), Wire: append([]byte(nil), udpL.Payload...)}
	udp := *udpL
	var err error
	if r.Src, r.Dst, err = reserialized(pkt, p, &udp, udpL.Payload); err != nil {
		return nil, err
	}
	m := new(dns.Msg)
	if err := m.Unpack(r.Wire); err != nil {
		return nil, fmt.Errorf("unpack DNS: %w", err)
	}
	r.Msg = m
	return r, nil
}

// RRStrings renders records in zone-file notation with miekg/dns.
func RRStrings(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, r := range rrs {
		if _, ok := r.(*dns.OPT); ok {
			continue
		}
		out = append(out, r.String())
	}
	return out
}

// transportLayer is a TCP or UDP layer gopacket can serialize with a
// pseudo-header checksum.
type transportLayer interface {
	gopacket.SerializableLayer
	SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
}

// ipLayer is an IPv4 or IPv6 layer gopacket can serialize.
type ipLayer interface {
	gopacket.NetworkLayer
	gopacket.SerializableLayer
}

// reserialized has gopacket serialize the decoded packet p again, with the
// transport layer l4 and payload, computing lengths and checksums; the
// result must equal pkt byte for byte. It returns the IP addresses.
func reserialized(pkt []byte, p gopacket.Packet, l4 transportLayer, payload []byte) (src, dst netip.Addr, err error) {
	var ip ipLayer
	switch ipL := p.NetworkLayer().(type) {
	case *layers.IPv4:
		c := *ipL
		ip = &c
	case *layers.IPv6:
		c := *ipL
		ip = &c
	default:
		return src, dst, fmt.Errorf("no IP layer")
	}
	src, _ = netip.AddrFromSlice(ip.NetworkFlow().Src().Raw())
	dst, _ = netip.AddrFromSlice(ip.NetworkFlow().Dst().Raw())
	sb, err := serializeLayers(ip, l4, payload)
	if err != nil {
		return src, dst, err
	}
	if _, udp := l4.(*layers.UDP); !sameSerialization(pkt, sb, udp) {
		return src, dst, fmt.Errorf("packet differs from gopacket's re-serialization (lengths or checksums wrong):\n got %x\nwant %x", pkt, sb)
	}
	return src, dst, nil
}

// sameSerialization compares a packet with gopacket's serialization of it.
// gopacket leaves a UDP checksum that computes to zero as 0x0000, which
// means "no checksum"; RFC 768 says to send it as 0xffff, as the engine
// does. That one difference is accepted.
func sameSerialization(got, want []byte, udp bool) bool {
	if bytes.Equal(got, want) {
		return true
	}
	if !udp || len(got) != len(want) || len(got) < 1 {
		return false
	}
	off := 40 + 6 // IPv6 (no extension headers), UDP checksum
	if got[0]>>4 == 4 {
		off = int(got[0]&0xf)*4 + 6
	}
	if off+2 > len(got) || got[off] != 0xff || got[off+1] != 0xff || want[off] != 0 || want[off+1] != 0 {
		return false
	}
	return bytes.Equal(got[:off], want[:off]) && bytes.Equal(got[off+2:], want[off+2:])
}

// CheckTransport checks the IP and UDP/TCP layers of pkt — lengths and
// checksums — against gopacket's serialization, without decoding the
// payload (gopacket reads DNS more strictly than the records an upstream
// may send).
func CheckTransport(pkt []byte) error {
	first := layers.LayerTypeIPv4
	if len(pkt) > 0 && pkt[0]>>4 == 6 {
		first = layers.LayerTypeIPv6
	}
	p := gopacket.NewPacket(pkt, first, gopacket.DecodeOptions{NoCopy: true, SkipDecodeRecovery: false})
	switch l4 := p.TransportLayer().(type) {
	case *layers.UDP:
		c := *l4
		_, _, err := reserialized(pkt, p, &c, l4.Payload)
		return err
	case *layers.TCP:
		c := *l4
		_, _, err := reserialized(pkt, p, &c, l4.Payload)
		return err
	}
	return fmt.Errorf("no UDP or TCP layer")
}
