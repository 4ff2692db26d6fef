package replay

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/meshdns/meshdns/dnsengine"
)

// Processor is the engine as replay sees it.
type Processor interface {
	Process(pkt []byte) dnsengine.Result
}

// Config configures Run.
type Config struct {
	// Processor answers packets; required.
	Processor Processor
	// Logger receives one debug line per packet. Nil discards.
	Logger *slog.Logger
}

// Summary is what a replay did, by the engine's reasons.
type Summary struct {
	Read  int `json:"read"`   // frames read
	NotIP int `json:"not_ip"` // frames without an IPv4/IPv6 packet
	// ChecksumRepaired counts packets whose UDP/TCP checksum did not
	// verify and was recomputed before the engine saw them: a capture on
	// the sending host records outgoing packets with offloaded (partial)
	// checksums, or a zero IPv6 UDP checksum.
	ChecksumRepaired int            `json:"checksum_repaired"`
	Answered         int            `json:"answered"`  // rewritten with records
	NXDomain         int            `json:"nxdomain"`  // rewritten into NXDOMAIN
	NoData           int            `json:"nodata"`    // rewritten into NODATA
	Truncated        int            `json:"truncated"` // of the rewritten, how many with TC
	Dropped          int            `json:"dropped"`   // consumed by the engine (TCP carriers)
	Passed           int            `json:"passed"`    // accepted untouched
	PassedBy         map[string]int `json:"passed_by"` // by reason
	Written          int            `json:"written"`   // packets written to the output
}

// Text renders the summary for people.
func (s Summary) Text() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "packets read: %d\n", s.Read)
	if s.ChecksumRepaired > 0 {
		fmt.Fprintf(&b, "  checksum not verified (offloaded in the capture), recomputed: %d\n", s.ChecksumRepaired)
	}
	fmt.Fprintf(&b, "answered:     %d\n", s.Answered)
	fmt.Fprintf(&b, "nxdomain:     %d\n", s.NXDomain)
	fmt.Fprintf(&b, "nodata:       %d\n", s.NoData)
	fmt.Fprintf(&b, "truncated:    %d\n", s.Truncated)
	if s.Dropped > 0 {
		fmt.Fprintf(&b, "dropped:      %d\n", s.Dropped)
	}
	fmt.Fprintf(&b, "passed:       %d\n", s.Passed)
	keys := make([]string, 0, len(s.PassedBy))
	for k := range s.PassedBy {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-14s %d\n", k+":", s.PassedBy[k])
	}
	if s.NotIP > 0 {
		fmt.Fprintf(&b, "not IP:       %d\n", s.NotIP)
	}
	fmt.Fprintf(&b, "written:      %d\n", s.Written)
	return b.String()
}

// packetReader is what pcapgo's two readers have in common.
type packetReader interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// openReader detects pcap or pcapng and returns a reader and a function
// giving the link type of a packet.
func openReader(r io.Reader) (packetReader, func(gopacket.CaptureInfo) layers.LinkType, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, nil, fmt.Errorf("reading capture header: %w", err)
	}
	if bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		ng, err := newNgReader(&ngBound{r: br})
		if err != nil {
			return nil, nil, fmt.Errorf("pcapng: %w", err)
		}
		return safeNg{ng}, func(ci gopacket.CaptureInfo) layers.LinkType {
			if ifc, err := ng.Interface(ci.InterfaceIndex); err == nil {
				return ifc.LinkType
			}
			return ng.LinkType()
		}, nil
	}
	pr, err := pcapgo.NewReader(br)
	if err != nil {
		return nil, nil, fmt.Errorf("pcap: %w", err)
	}
	if pr.Snaplen() > maxFrame {
		pr.SetSnaplen(maxFrame) // longer packets fail; no buffer beyond it is made
	}
	lt := pr.LinkType()
	return pr, func(gopacket.CaptureInfo) layers.LinkType { return lt }, nil
}

// Run replays the capture in r and writes the responses to w as a pcap of
// raw IP packets (link type 101) with nanosecond timestamps.
func Run(cfg Config, r io.Reader, w io.Writer) (Summary, error) {
	s := Summary{PassedBy: map[string]int{}}
	if cfg.Processor == nil {
		return s, errors.New("replay: no processor")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	in, linkType, err := openReader(r)
	if err != nil {
		return s, err
	}
	out := pcapgo.NewWriterNanos(w)
	if err := out.WriteFileHeader(MaxPacket, layers.LinkTypeRaw); err != nil {
		return s, fmt.Errorf("writing output: %w", err)
	}
	buf := make([]byte, 0, MaxPacket)
	for {
		data, ci, err := in.ReadPacketData()
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return s, fmt.Errorf("packet %d: %w", s.Read+1, err)
		}
		s.Read++
		ip := ipPayload(linkType(ci), data)
		if ip == nil || len(ip) > cap(buf) {
			s.NotIP++
			continue
		}
		buf = append(buf[:0], ip...)
		if dnsengine.RepairCaptureChecksum(buf) {
			s.ChecksumRepaired++
		}
		res := cfg.Processor.Process(buf)
		log.Debug("packet", "n", s.Read, "verdict", res.Verdict.String(), "reason", res.Reason.String())
		switch res.Verdict {
		case dnsengine.Rewrite:
			switch res.Reason {
			case dnsengine.ReasonNXDomain:
				s.NXDomain++
			case dnsengine.ReasonNoData:
				s.NoData++
			default:
				s.Answered++
			}
			if res.Truncated {
				s.Truncated++
			}
			oci := gopacket.CaptureInfo{Timestamp: ci.Timestamp, CaptureLength: len(res.Packet), Length: len(res.Packet)}
			if err := out.WritePacket(oci, res.Packet); err != nil {
				return s, fmt.Errorf("writing output: %w", err)
			}
			s.Written++
		case dnsengine.Drop:
			s.Dropped++
		default:
			s.Passed++
			s.PassedBy[res.Reason.String()]++
		}
	}
}

// MaxPacket is the largest packet read or written.
const MaxPacket = 65535
