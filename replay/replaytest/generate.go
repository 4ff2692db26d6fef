package replaytest

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/miekg/dns"

	"github.com/meshdns/meshdns/replay"
)

// GenerateConfig says how Generate writes packets.
type GenerateConfig struct {
	// Format: "pcap" (default) or "pcapng".
	Format string
	// Link: "ethernet" (default) or "raw".
	Link string
	// Start is the timestamp of the first packet; each next one is 1 ms later.
	Start time.Time
	// Client4/Server4 and Client6/Server6 are the query's endpoints.
	Client4, Server4, Client6, Server6 netip.Addr
}

// DefaultGenerateConfig: a pod 198.18.0.2 / fd53::2 asking its nameserver
// 198.18.0.1 / fd53::1, starting 2026-01-01.
func DefaultGenerateConfig() GenerateConfig {
	return GenerateConfig{
		Format: "pcap", Link: "ethernet",
		Start:   time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Client4: netip.MustParseAddr("198.18.0.2"), Server4: netip.MustParseAddr("198.18.0.1"),
		Client6: netip.MustParseAddr("fd53::2"), Server6: netip.MustParseAddr("fd53::1"),
	}
}

// Generate writes one query packet per line of a query list:
//
//	# transport  name                           type  options
//	udp4         web.default.svc.cluster.local  A
//	udp6         WeB.default.svc.cluster.local  AAAA  edns=1232 do id=7
//	tcp4         web.default.svc.cluster.local  A
//
// transport is udp4, udp6, tcp4 or tcp6 (TCP: one segment carrying the
// length-prefixed query, as a client sends after its handshake); options are
// id=N (default: the line number), edns=SIZE, do, cd, nord and sport=N
// (default 40000 + line number). The name's case is kept (0x20).
func Generate(cfg GenerateConfig, list io.Reader, w io.Writer) (int, error) {
	type writer interface {
		WritePacket(gopacket.CaptureInfo, []byte) error
	}
	link := layers.LinkTypeEthernet
	if cfg.Link == "raw" {
		link = layers.LinkTypeRaw
	} else if cfg.Link != "" && cfg.Link != "ethernet" {
		return 0, fmt.Errorf("generate: link %q: want ethernet or raw", cfg.Link)
	}
	var out writer
	var flush func() error
	switch cfg.Format {
	case "", "pcap":
		pw := pcapgo.NewWriterNanos(w)
		if err := pw.WriteFileHeader(replay.MaxPacket, link); err != nil {
			return 0, err
		}
		out, flush = pw, func() error { return nil }
	case "pcapng":
		nw, err := pcapgo.NewNgWriter(w, link)
		if err != nil {
			return 0, err
		}
		out, flush = nw, nw.Flush
	default:
		return 0, fmt.Errorf("generate: format %q: want pcap or pcapng", cfg.Format)
	}
	sc := bufio.NewScanner(list)
	n := 0
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		pkt, err := queryLine(cfg, link, line, ln)
		if err != nil {
			return n, fmt.Errorf("line %d: %w", ln, err)
		}
		ts := cfg.Start.Add(time.Duration(n) * time.Millisecond)
		if err := out.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(pkt), Length: len(pkt)}, pkt); err != nil {
			return n, err
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

func queryLine(cfg GenerateConfig, link layers.LinkType, line string, ln int) ([]byte, error) {
	f := strings.Fields(line)
	if len(f) < 3 {
		return nil, fmt.Errorf("want: transport name type [options]")
	}
	qt, ok := dns.StringToType[strings.ToUpper(f[2])]
	if !ok {
		return nil, fmt.Errorf("unknown type %q", f[2])
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(f[1]), qt)
	m.Id = uint16(ln)
	m.RecursionDesired = true
	sport := uint16(40000 + ln)
	var edns uint16
	var do bool
	for _, o := range f[3:] {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "id", "edns", "sport":
			n, err := strconv.ParseUint(v, 10, 16)
			if err != nil {
				return nil, fmt.Errorf("option %q: %w", o, err)
			}
			switch k {
			case "id":
				m.Id = uint16(n)
			case "edns":
				edns = uint16(n)
			case "sport":
				sport = uint16(n)
			}
		case "do":
			do = true
		case "cd":
			m.CheckingDisabled = true
		case "nord":
			m.RecursionDesired = false
		default:
			return nil, fmt.Errorf("unknown option %q", o)
		}
	}
	if edns > 0 || do {
		m.SetEdns0(max(edns, 512), do)
	}
	wire, err := m.Pack()
	if err != nil {
		return nil, err
	}
	var src, dst netip.Addr
	switch f[0] {
	case "udp4", "tcp4":
		src, dst = cfg.Client4, cfg.Server4
	case "udp6", "tcp6":
		src, dst = cfg.Client6, cfg.Server6
	default:
		return nil, fmt.Errorf("transport %q: want udp4, udp6, tcp4 or tcp6", f[0])
	}
	var l4 gopacket.SerializableLayer
	var proto layers.IPProtocol
	payload := wire
	if strings.HasPrefix(f[0], "udp") {
		l4, proto = &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: 53}, layers.IPProtocolUDP
	} else {
		payload = append([]byte{byte(len(wire) >> 8), byte(len(wire))}, wire...)
		l4, proto = &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: 53, Seq: 1000 + uint32(ln), Ack: 5000,
			PSH: true, ACK: true, Window: 65535, DataOffset: 5}, layers.IPProtocolTCP
	}
	var ipL gopacket.NetworkLayer
	var ipS gopacket.SerializableLayer
	if src.Is4() {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, Flags: layers.IPv4DontFragment, Id: uint16(ln),
			SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		ipL, ipS = ip, ip
	} else {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		ipL, ipS = ip, ip
	}
	switch l := l4.(type) {
	case *layers.UDP:
		_ = l.SetNetworkLayerForChecksum(ipL)
	case *layers.TCP:
		_ = l.SetNetworkLayerForChecksum(ipL)
	}
	ls := []gopacket.SerializableLayer{ipS, l4, gopacket.Payload(payload)}
	if link == layers.LinkTypeEthernet {
		et := layers.EthernetTypeIPv4
		if src.Is6() {
			et = layers.EthernetTypeIPv6
		}
		eth := &layers.Ethernet{SrcMAC: []byte{2, 0, 0, 0, 0, 2}, DstMAC: []byte{2, 0, 0, 0, 0, 1}, EthernetType: et}
		ls = append([]gopacket.SerializableLayer{eth}, ls...)
	}
	sb := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		return nil, err
	}
	return sb.Bytes(), nil
}
