package replay

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/meshdns/meshdns/replay/pcapfile"
)

// Processor is the engine as replay sees it.
type Processor interface {
	Process(pkt []byte) verdict.Result
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
	in, err := pcapfile.NewReader(r, maxFrame)
	if err != nil {
		return s, err
	}
	out, err := pcapfile.NewWriter(w, MaxPacket, pcapfile.LinkTypeRaw)
	if err != nil {
		return s, fmt.Errorf("writing output: %w", err)
	}
	buf := make([]byte, 0, MaxPacket)
	for {
		f, err := in.Next()
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return s, fmt.Errorf("packet %d: %w", s.Read+1, err)
		}
		s.Read++
		ip := ipPayload(f.LinkType, f.Data)
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
		case verdict.Rewrite:
			switch res.Reason {
			case verdict.ReasonNXDomain:
				s.NXDomain++
			case verdict.ReasonNoData:
				s.NoData++
			default:
				s.Answered++
			}
			if res.Truncated {
				s.Truncated++
			}
			if err := out.Write(f.Time, res.Packet); err != nil {
				return s, fmt.Errorf("writing output: %w", err)
			}
			s.Written++
		case verdict.Drop:
			s.Dropped++
		default:
			s.Passed++
			s.PassedBy[res.Reason.String()]++
		}
	}
}

// MaxPacket is the largest packet written, and the largest IP packet the
// engine is handed.
const MaxPacket = 65535

// maxFrame is the largest frame read: a frame's link header plus an IP
// packet of MaxPacket, with room to spare. A longer one is an error.
const maxFrame = 262144
