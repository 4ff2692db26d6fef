package lookupout

import (
	"bufio"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Dig is what dig printed for one query (the last response, when dig
// retried over TCP after a truncated answer).
type Dig struct {
	// Status is the response code name: NOERROR, NXDOMAIN, SERVFAIL...
	Status string
	// ID is the response's message id.
	ID uint16
	// Flags are the header flags dig shows: qr aa tc rd ra ad cd.
	Flags []string
	// Answer, Authority and Additional are the records of each section
	// (the OPT pseudo-record is not among them; see EDNS).
	Answer, Authority, Additional []dns.RR
	// Question is the question section's name and type as dig printed
	// them ("WeB.example.", "A").
	QName, QType string
	// EDNS reports an OPT pseudo-section, with its UDP size and DO bit.
	EDNS    bool
	UDPSize uint16
	DO      bool
	// QueryTime is dig's "Query time" statistic (zero when not printed).
	QueryTime time.Duration
	// Server is the responder dig names in its SERVER line, and Proto the
	// transport it reports ("UDP" or "TCP").
	Server netip.AddrPort
	Proto  string
	// Retried reports that dig got a truncated UDP answer and retried over
	// TCP ("Truncated, retrying in TCP mode.").
	Retried bool
	// Raw is dig's whole output.
	Raw string
}

// Flag reports whether the response had header flag f ("aa", "tc"...).
func (d Dig) Flag(f string) bool { return slices.Contains(d.Flags, f) }

// ParseDig reads dig's default output (header, sections, statistics). When
// the output holds several responses (a TCP retry), the last one counts.
func ParseDig(out string) (Dig, error) {
	d := Dig{Raw: out}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, ";; ->>HEADER<<-"):
			// A new response: forget the previous one.
			d = Dig{Raw: out, Retried: d.Retried}
			section = ""
			for _, f := range strings.Split(strings.TrimPrefix(line, ";; ->>HEADER<<-"), ",") {
				k, v, _ := strings.Cut(strings.TrimSpace(f), ": ")
				switch k {
				case "status":
					d.Status = v
				case "id":
					n, err := strconv.ParseUint(v, 10, 16)
					if err != nil {
						return d, fmt.Errorf("dig: bad id in %q", line)
					}
					d.ID = uint16(n)
				}
			}
		case strings.HasPrefix(line, ";; flags:"):
			f, _, _ := strings.Cut(strings.TrimPrefix(line, ";; flags:"), ";")
			d.Flags = strings.Fields(f)
		case strings.HasPrefix(line, ";; Truncated, retrying in TCP mode"):
			d.Retried = true
		case line == ";; OPT PSEUDOSECTION:":
			d.EDNS, section = true, "opt"
		case section == "opt" && strings.HasPrefix(line, "; EDNS:"):
			if _, fl, ok := strings.Cut(line, "flags:"); ok {
				fl, _, _ = strings.Cut(fl, ";")
				d.DO = slices.Contains(strings.Fields(fl), "do")
			}
			if _, rest, ok := strings.Cut(line, "udp: "); ok {
				n, err := strconv.ParseUint(strings.Fields(rest)[0], 10, 16)
				if err != nil {
					return d, fmt.Errorf("dig: bad udp size in %q", line)
				}
				d.UDPSize = uint16(n)
			}
		case line == ";; QUESTION SECTION:":
			section = "question"
		case section == "question" && strings.HasPrefix(line, ";"):
			if f := strings.Fields(line[1:]); len(f) >= 3 {
				d.QName, d.QType = f[0], f[len(f)-1]
			}
			section = ""
		case line == ";; ANSWER SECTION:":
			section = "answer"
		case line == ";; AUTHORITY SECTION:":
			section = "authority"
		case line == ";; ADDITIONAL SECTION:":
			section = "additional"
		case strings.HasPrefix(line, ";; SERVER: "):
			s, err := parseServer(strings.TrimPrefix(line, ";; SERVER: "))
			if err != nil {
				return d, err
			}
			d.Server, d.Proto = s.addr, s.proto
		case strings.HasPrefix(line, ";; Query time: "):
			ms, _, _ := strings.Cut(strings.TrimPrefix(line, ";; Query time: "), " ")
			if n, err := strconv.Atoi(ms); err == nil {
				d.QueryTime = time.Duration(n) * time.Millisecond
			}
		case line == "" || strings.HasPrefix(line, ";"):
			if line == "" {
				section = ""
			}
		case section == "answer" || section == "authority" || section == "additional":
			rr, err := dns.NewRR(line)
			if err != nil || rr == nil {
				return d, fmt.Errorf("dig: bad record line %q: %v", line, err)
			}
			switch section {
			case "answer":
				d.Answer = append(d.Answer, rr)
			case "authority":
				d.Authority = append(d.Authority, rr)
			default:
				d.Additional = append(d.Additional, rr)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return d, fmt.Errorf("dig: %w", err)
	}
	if d.Status == "" {
		return d, errors.New("dig: no response: " + lastLine(out))
	}
	return d, nil
}

type server struct {
	addr  netip.AddrPort
	proto string
}

// parseServer reads "198.18.0.1#53(198.18.0.1) (UDP)".
func parseServer(s string) (server, error) {
	var sv server
	hostPort, rest, _ := strings.Cut(s, "(")
	host, port, ok := strings.Cut(hostPort, "#")
	if !ok {
		return sv, fmt.Errorf("dig: bad SERVER line %q", s)
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return sv, fmt.Errorf("dig: bad SERVER address in %q", s)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return sv, fmt.Errorf("dig: bad SERVER port in %q", s)
	}
	sv.addr = netip.AddrPortFrom(a, uint16(n))
	if i := strings.LastIndex(rest, "("); i >= 0 {
		sv.proto = strings.TrimSuffix(strings.TrimSpace(rest[i+1:]), ")")
	}
	return sv, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// Records renders records in zone-file notation, one per element, sorted,
// names in lowercase: a stable form to compare with expected records. With
// ttl false the TTL is left out ("name CLASS TYPE RDATA").
func Records(rrs []dns.RR, ttl bool) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, RecordString(rr, ttl))
	}
	sort.Strings(out)
	return out
}

// RecordString renders one record as Records does.
func RecordString(rr dns.RR, ttl bool) string {
	rr = dns.Copy(rr)
	h := rr.Header()
	h.Name = strings.ToLower(h.Name)
	if !ttl {
		h.Ttl = 0
	}
	f := strings.Fields(rr.String())
	if !ttl && len(f) > 1 {
		f = append(f[:1], f[2:]...)
	}
	return strings.Join(f, " ")
}
