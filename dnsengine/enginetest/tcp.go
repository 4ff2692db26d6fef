package enginetest

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/miekg/dns"
)

// TCPSeg is a TCP segment of a test: endpoints, header, options, payload.
type TCPSeg struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	SYN, ACK, PSH    bool
	FIN, RST         bool
	Window           uint16
	MSS              uint16 // 0: no MSS option
	HasWS            bool
	WScale           uint8
	SACKOK           bool
	HasTS            bool
	TSVal, TSEcr     uint32
	Payload          []byte
}

// Flags renders the flags as tcpdump does ("S.", "P.", "F." ...).
func (s *TCPSeg) Flags() string {
	var b []byte
	for _, f := range []struct {
		on bool
		c  byte
	}{{s.SYN, 'S'}, {s.FIN, 'F'}, {s.RST, 'R'}, {s.PSH, 'P'}, {s.ACK, '.'}} {
		if f.on {
			b = append(b, f.c)
		}
	}
	return string(b)
}

// TCPPacket builds an IPv4 or IPv6 packet holding s, with correct lengths
// and checksums, in a buffer of capacity BufSize.
func TCPPacket(s TCPSeg) ([]byte, error) {
	tcp := &layers.TCP{SrcPort: layers.TCPPort(s.SrcPort), DstPort: layers.TCPPort(s.DstPort),
		Seq: s.Seq, Ack: s.Ack, SYN: s.SYN, ACK: s.ACK, PSH: s.PSH, FIN: s.FIN, RST: s.RST, Window: s.Window}
	if s.MSS != 0 {
		tcp.Options = append(tcp.Options, layers.TCPOption{OptionType: layers.TCPOptionKindMSS, OptionLength: 4,
			OptionData: binary.BigEndian.AppendUint16(nil, s.MSS)})
	}
	if s.SACKOK {
		tcp.Options = append(tcp.Options, layers.TCPOption{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2})
	}
	if s.HasTS {
		d := binary.BigEndian.AppendUint32(nil, s.TSVal)
		d = binary.BigEndian.AppendUint32(d, s.TSEcr)
		tcp.Options = append(tcp.Options, layers.TCPOption{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
			layers.TCPOption{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
			layers.TCPOption{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: d})
	}
	if s.HasWS {
		tcp.Options = append(tcp.Options, layers.TCPOption{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
			layers.TCPOption{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{s.WScale}})
	}
	return serialize(s.Src, s.Dst, layers.IPProtocolTCP, tcp, s.Payload)
}

// DecodeTCP decodes a TCP packet and checks it independently: gopacket
// re-serializes its layers with computed lengths and checksums and the
// result must equal pkt byte for byte.
func DecodeTCP(pkt []byte) (*TCPSeg, error) {
	var first gopacket.LayerType = layers.LayerTypeIPv4
	if len(pkt) > 0 && pkt[0]>>4 == 6 {
		first = layers.LayerTypeIPv6
	}
	p := gopacket.NewPacket(pkt, first, gopacket.Default)
	tl, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if !ok {
		if el := p.ErrorLayer(); el != nil {
			return nil, fmt.Errorf("decode: %v", el.Error())
		}
		return nil, fmt.Errorf("no TCP layer")
	}
	s := &TCPSeg{SrcPort: uint16(tl.SrcPort), DstPort: uint16(tl.DstPort), Seq: tl.Seq, Ack: tl.Ack,
		SYN: tl.SYN, ACK: tl.ACK, PSH: tl.PSH, FIN: tl.FIN, RST: tl.RST, Window: tl.Window,
		Payload: append([]byte(nil), tl.Payload...)}
	if tl.URG || tl.ECE || tl.CWR || tl.NS || tl.Urgent != 0 {
		return nil, fmt.Errorf("unexpected URG/ECN flags or urgent pointer")
	}
	for _, o := range tl.Options {
		switch o.OptionType {
		case layers.TCPOptionKindMSS:
			s.MSS = binary.BigEndian.Uint16(o.OptionData)
		case layers.TCPOptionKindWindowScale:
			s.HasWS, s.WScale = true, o.OptionData[0]
		case layers.TCPOptionKindSACKPermitted:
			s.SACKOK = true
		case layers.TCPOptionKindTimestamps:
			s.HasTS = true
			s.TSVal = binary.BigEndian.Uint32(o.OptionData)
			s.TSEcr = binary.BigEndian.Uint32(o.OptionData[4:])
		case layers.TCPOptionKindNop:
		default:
			return nil, fmt.Errorf("unexpected TCP option %v", o.OptionType)
		}
	}
	tcp := *tl
	var err error
	if s.Src, s.Dst, err = reserialized(pkt, p, &tcp, tl.Payload); err != nil {
		return nil, err
	}
	return s, nil
}

// SplitTCPMessages splits a DNS-over-TCP byte stream into its
// length-prefixed messages, unpacked with miekg/dns. rest is the
// incomplete tail.
func SplitTCPMessages(stream []byte) (msgs []*dns.Msg, rest []byte, err error) {
	for len(stream) >= 2 {
		l := int(binary.BigEndian.Uint16(stream))
		if len(stream) < 2+l {
			break
		}
		m := new(dns.Msg)
		if err := m.Unpack(stream[2 : 2+l]); err != nil {
			return msgs, stream, fmt.Errorf("message %d: %w", len(msgs), err)
		}
		msgs = append(msgs, m)
		stream = stream[2+l:]
	}
	return msgs, stream, nil
}

// TCPQuery returns m packed with its 2-byte length prefix.
func TCPQuery(m *dns.Msg) ([]byte, error) {
	wire, err := m.Pack()
	if err != nil {
		return nil, err
	}
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(wire))), wire...), nil
}
